/**
 * `shoal exec NAME -- CMD...`: LXD's exec protocol. `POST /1.0/instances/<name>/exec` with
 * `wait-for-websocket`; the operation's metadata gives one secret per stream (`0`,`1`,`2` and
 * `control`, or `0` and `control` in interactive mode with a pty), each opened as
 * `/1.0/operations/<id>/websocket?secret=…`. stdin goes out as binary frames (an empty frame is
 * EOF), stdout/stderr come back; the exit code is the operation's `metadata.return`.
 */
import type { WebSocket as WsSocket } from 'ws';
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { InstanceExecPost, Operation } from '../../api/types/index.js';
import type { ShoalClient } from '../client/client.js';
import { ExitCode, type CliContext } from '../context.js';
import { parseKeyValues } from './args.js';
import { instancePath } from './instances.js';

/** Options of exec. */
export interface ExecOptions {
  readonly env?: readonly string[] | undefined;
  readonly cwd?: string | undefined;
  readonly user?: string | undefined;
  readonly group?: string | undefined;
  /** true: force a pty; false: force none; undefined: pty when stdin and stdout are terminals. */
  readonly forceInteractive?: boolean | undefined;
}

async function openSocket(client: ShoalClient, opId: string, secret: string): Promise<WsSocket> {
  const { default: WebSocket } = await import('ws');
  const { url, options } = client.transport.websocketTarget(
    `/1.0/operations/${encodeURIComponent(opId)}/websocket?secret=${encodeURIComponent(secret)}`,
  );
  const ws = new WebSocket(url, options);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', (err) => reject(new ShoalError(ErrorCode.Unavailable, `Failed connecting to the exec websocket: ${err.message}`, { cause: err })));
    ws.once('unexpected-response', (_req, res) => reject(new ShoalError(ErrorCode.Unavailable, `Exec websocket refused with HTTP ${res.statusCode ?? 0}`)));
  });
  return ws;
}

function pumpOut(ws: WsSocket, write: (b: Buffer) => void): Promise<void> {
  return new Promise((resolve) => {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (buf.length === 0 && isBinary) return;
      write(buf);
    });
    ws.once('close', () => resolve());
    ws.once('error', () => resolve());
  });
}

/** Runs the command; resolves with its exit code. */
export async function execCommand(ctx: CliContext, arg: string, command: readonly string[], opts: ExecOptions): Promise<number> {
  if (command.length === 0) throw new ShoalError(ErrorCode.InvalidArgument, 'Missing command (shoal exec NAME -- CMD...)');
  const ref = await ctx.resolve(arg);
  const interactive = opts.forceInteractive ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
  const environment = parseKeyValues(opts.env ?? []);
  if (interactive && !environment['TERM']) environment['TERM'] = ctx.env['TERM'] ?? 'xterm';
  const body: InstanceExecPost = {
    command: [...command],
    'wait-for-websocket': true,
    interactive,
    environment,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.user !== undefined ? { user: Number(opts.user) } : {}),
    ...(opts.group !== undefined ? { group: Number(opts.group) } : {}),
    ...(interactive ? { width: process.stdout.columns ?? 80, height: process.stdout.rows ?? 24 } : {}),
  };
  const op = await ref.client.start('POST', `${instancePath(ref.name)}/exec`, body, { project: ref.project });
  const fds = (op.metadata?.['fds'] ?? {}) as Record<string, string>;
  const secret = (k: string): string => {
    const s = fds[k];
    if (!s) throw new ShoalError(ErrorCode.Internal, `Exec operation has no "${k}" stream`);
    return s;
  };
  const control = await openSocket(ref.client, op.id, secret('control'));
  const stdinWs = await openSocket(ref.client, op.id, secret('0'));
  const outputs: Promise<void>[] = [];
  let stdoutWs: WsSocket | undefined;
  let stderrWs: WsSocket | undefined;
  if (interactive) {
    outputs.push(pumpOut(stdinWs, (b) => void process.stdout.write(b)));
  } else {
    stdoutWs = await openSocket(ref.client, op.id, secret('1'));
    stderrWs = await openSocket(ref.client, op.id, secret('2'));
    outputs.push(pumpOut(stdoutWs, (b) => void process.stdout.write(b)));
    outputs.push(pumpOut(stderrWs, (b) => void process.stderr.write(b)));
  }
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (interactive && stdin.isTTY) stdin.setRawMode(true);
  const onData = (b: Buffer): void => {
    if (stdinWs.readyState === stdinWs.OPEN) stdinWs.send(b, { binary: true });
  };
  const onEnd = (): void => {
    if (!interactive && stdinWs.readyState === stdinWs.OPEN) stdinWs.send(Buffer.alloc(0), { binary: true });
  };
  const onResize = (): void => {
    if (control.readyState === control.OPEN) {
      control.send(JSON.stringify({ command: 'window-resize', args: { width: String(process.stdout.columns), height: String(process.stdout.rows) } }));
    }
  };
  // Only read stdin when something may come: a terminal, or a pipe/file.
  const readStdin = interactive || !stdin.isTTY;
  if (readStdin) {
    stdin.on('data', onData);
    stdin.once('end', onEnd);
  } else onEnd();
  if (interactive) process.stdout.on('resize', onResize);
  try {
    const done = await ref.client.waitOperation(op);
    await Promise.race([Promise.all(outputs), new Promise((r) => setTimeout(r, 2000).unref())]);
    const ret = done.metadata?.['return'];
    return typeof ret === 'number' ? ret : 0;
  } finally {
    if (readStdin) {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    }
    if (interactive) process.stdout.off('resize', onResize);
    if (interactive && stdin.isTTY) stdin.setRawMode(wasRaw);
    for (const ws of [control, stdinWs, stdoutWs, stderrWs]) ws?.terminate();
  }
}

/** Runs exec and turns the command's exit code into the process's. */
export async function exec(ctx: CliContext, arg: string, command: readonly string[], opts: ExecOptions): Promise<void> {
  const code = await execCommand(ctx, arg, command, opts);
  if (code !== 0) throw new ExitCode(code);
}

/** Type guard kept for tests: an exec operation's final metadata. */
export function exitCodeOf(op: Operation): number | undefined {
  const r = op.metadata?.['return'];
  return typeof r === 'number' ? r : undefined;
}
