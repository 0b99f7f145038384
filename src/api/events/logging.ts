/**
 * A pino destination that turns log lines into `logging` events, so `lxc monitor --type=logging`
 * shows the daemon's log as LXD's does. The daemon adds it to its root logger with
 * `pino.multistream([stdout, { level: 'info', stream: loggingEventStream(hub) }])`.
 */
import { Writable } from 'node:stream';
import type { EventHub } from './hub.js';

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'crit' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);

/** A writable that parses pino's NDJSON lines and publishes each as a logging event. */
export function loggingEventStream(hub: EventHub): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done): void {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        publishLine(hub, line);
      }
      done();
    },
  });
}

function publishLine(hub: EventHub, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    // Not a pino line (partial write or foreign output): nothing to publish.
    return;
  }
  const context: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (SKIP.has(k)) continue;
    context[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const level = typeof rec['level'] === 'number' ? (LEVEL_NAMES[rec['level']] ?? String(rec['level'])) : 'info';
  hub.logging(level, typeof rec['msg'] === 'string' ? rec['msg'] : '', context);
}
