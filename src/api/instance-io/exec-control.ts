/**
 * Messages on an exec or console operation's `control` websocket (api.InstanceExecControl):
 * `{"command":"window-resize","args":{"width":"80","height":"24"}}` and
 * `{"command":"signal","signal":15}`. LXD ignores what it cannot parse, and so do we. Pure.
 */

/** A control message understood by Shoal. */
export type ControlMessage =
  | { readonly kind: 'resize'; readonly width: number; readonly height: number }
  | { readonly kind: 'signal'; readonly signal: number };

/** Parses one control message; undefined for anything else (bad JSON, unknown command, bad numbers). */
export function parseControlMessage(text: string): ControlMessage | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return undefined; // LXD logs and skips unparsable control messages
  }
  if (msg === null || typeof msg !== 'object') return undefined;
  const m = msg as { command?: unknown; args?: unknown; signal?: unknown };
  if (m.command === 'window-resize') {
    const args = (m.args ?? {}) as Record<string, unknown>;
    const width = toInt(args['width']);
    const height = toInt(args['height']);
    if (width === undefined || height === undefined || width < 1 || height < 1 || width > 0xffff || height > 0xffff) return undefined;
    return { kind: 'resize', width, height };
  }
  if (m.command === 'signal') {
    const signal = toInt(m.signal);
    if (signal === undefined || signal < 1 || signal > 64) return undefined;
    return { kind: 'signal', signal };
  }
  return undefined;
}

function toInt(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}
