/**
 * The websocket side of an exec operation (`wait-for-websocket: true`), as LXD's execWs
 * (lxd/instance_exec.go) drives it and the lxc/pylxd clients expect it:
 *
 * - secrets `fds`: "0", "1", "2" and "control" (interactive: "0" — the pty, both ways — and
 *   "control"); each connects once through `/1.0/operations/<id>/websocket?secret=…`;
 * - the command starts once the required sockets are connected (all but "control" in
 *   non-interactive mode, where old clients never connect it; interactive needs "control" too)
 *   and the operation fails "Timed out waiting for websockets to connect" after 5 s otherwise;
 * - stdin: binary messages; an empty text message (or a close) ends it; output: binary messages,
 *   then an empty text message per output socket, then the sockets close and the operation ends
 *   with `{return: <exit code>}` (128+N when killed by signal N);
 * - control: `window-resize` and `signal`; the control socket closing while the command runs
 *   kills it (SIGKILL), as does the stdout socket closing when no control socket is connected;
 * - input arriving before the agent stream exists is queued in order.
 *
 * The bytes flow client ⇄ (follower, bridged by forward.ts) ⇄ this leader ⇄ gRPC ExecCommand ⇄
 * the agent of the member holding the instance.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
// eslint-disable-next-line import/no-restricted-paths
import type { ExecHandle, PartialMessage } from '../../node-agent/client.js';
import type * as pb from '../../../proto/gen/shoal/agent/v1/agent.js';
import { ShoalError, ErrorCode, type Clock, type Logger } from '../../shared/index.js';
import type { OperationContext } from '../operations/types.js';
import { parseControlMessage } from './exec-control.js';
import type { IoAgent } from './instance-ref.js';
import { classifyMessage, closeNormally, sendBarrier, sendData } from './ws-stream.js';

/** Names of an exec's websockets (LXD's fd keys). */
export type ExecFd = '0' | '1' | '2' | 'control';

/** Stdin chunks queued towards the agent before the stdin socket is paused (resumed at a quarter). */
const MAX_PENDING_STDIN = 32;

/** How long clients have to connect the required sockets (LXD: 5 s). */
export const EXEC_CONNECT_TIMEOUT_MS = 5_000;

/** What an {@link ExecWebsocketSession} needs. */
export interface ExecWebsocketOptions {
  readonly agent: IoAgent;
  /** The agent's ExecStart (project, name, command, env, cwd, uid, gid, pty, width, height). */
  readonly start: PartialMessage<pb.ExecStart>;
  readonly interactive: boolean;
  readonly log: Logger;
  readonly clock: Clock;
  readonly requestId: string;
  readonly connectTimeoutMs?: number;
}

/** One exec's sockets and its bridge to the agent. Create, put `fds` in the operation metadata, hand it to the operation. */
export class ExecWebsocketSession {
  /** fd → secret, for the operation metadata. */
  readonly fds: Readonly<Record<string, string>>;
  private readonly bySecret = new Map<string, ExecFd>();
  private readonly conns = new Map<ExecFd, WebSocket>();
  private readonly required: readonly ExecFd[];
  private connected!: () => void;
  private readonly allConnected = new Promise<void>((resolve) => (this.connected = resolve));
  private handle: ExecHandle | undefined;
  /** Actions waiting for the agent stream, in arrival order. */
  private queue: Array<(h: ExecHandle) => Promise<void>> = [];
  /** Serializes writes to the agent (stdin order, then control). */
  private chain: Promise<void> = Promise.resolve();
  private stdinClosed = false;
  private pendingStdin = 0;
  private finished = false;
  private killed = false;

  constructor(private readonly o: ExecWebsocketOptions) {
    const names: ExecFd[] = o.interactive ? ['0', 'control'] : ['0', '1', '2', 'control'];
    const fds: Record<string, string> = {};
    for (const fd of names) {
      const secret = randomBytes(32).toString('hex');
      fds[fd] = secret;
      this.bySecret.set(secret, fd);
    }
    this.fds = fds;
    this.required = o.interactive ? ['0', 'control'] : ['0', '1', '2'];
  }

  /** True when `secret` names one of this exec's sockets that is not connected yet. */
  accepts(secret: string): boolean {
    const fd = this.bySecret.get(secret);
    return fd !== undefined && !this.conns.has(fd) && !this.finished;
  }

  /** Takes an upgraded socket for `secret` (accepted just before). */
  attach(secret: string, socket: WebSocket): void {
    const fd = this.bySecret.get(secret);
    if (fd === undefined || this.conns.has(fd) || this.finished) {
      socket.close(1008, 'Websocket number already connected');
      return;
    }
    this.conns.set(fd, socket);
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.onMessage(fd, data, isBinary));
    socket.on('close', () => this.onClose(fd));
    socket.on('error', (err) => this.o.log.debug({ err, fd }, 'exec websocket error'));
    if (this.required.every((f) => this.conns.has(f))) this.connected();
  }

  /** The operation's `run`: waits for the sockets, runs the command, streams, returns `{return}`. */
  async run(ctx: OperationContext): Promise<Record<string, unknown>> {
    try {
      await this.waitConnected(ctx.signal);
      const handle = this.o.agent.exec(ctx.id, this.o.start, { timeoutMs: 0, signal: ctx.signal, requestId: this.o.requestId });
      this.handle = handle;
      for (const action of this.queue.splice(0)) this.enqueue(action);
      const out = this.o.interactive
        ? { stdout: this.conns.get('0'), stderr: this.conns.get('0') }
        : { stdout: this.conns.get('1'), stderr: this.conns.get('2') };
      for await (const chunk of handle.output) {
        const socket = chunk.stream === 'stdout' ? out.stdout : out.stderr;
        if (socket) await sendData(socket, chunk.data);
      }
      const code = await handle.exit;
      this.finished = true;
      await Promise.all([...new Set([out.stdout, out.stderr])].map((s) => (s ? sendBarrier(s) : Promise.resolve())));
      this.o.log.debug({ op: ctx.id, exitCode: code, killed: this.killed }, 'exec finished');
      return { return: code };
    } finally {
      this.finished = true;
      for (const s of this.conns.values()) closeNormally(s);
    }
  }

  private waitConnected(signal: AbortSignal): Promise<void> {
    const ms = this.o.connectTimeoutMs ?? EXEC_CONNECT_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      const timer = this.o.clock.setTimer(ms, () => reject(new ShoalError(ErrorCode.DeadlineExceeded, 'Timed out waiting for websockets to connect')));
      const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new ShoalError(ErrorCode.Cancelled, 'Operation cancelled'));
      signal.addEventListener('abort', onAbort, { once: true });
      void this.allConnected.then(() => {
        timer.dispose();
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private onMessage(fd: ExecFd, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.finished) return;
    if (fd === 'control') {
      const msg = parseControlMessage(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
      if (msg?.kind === 'resize' && this.o.interactive) this.enqueue((h) => h.resize(msg.width, msg.height));
      else if (msg?.kind === 'signal') this.enqueue((h) => h.signal(msg.signal));
      return;
    }
    if (fd !== '0') {
      // Clients never write on output sockets; LXD treats it as a hang-up without a control socket.
      if (!this.conns.has('control')) this.kill(`unexpected message on websocket ${fd}`);
      return;
    }
    const input = classifyMessage(data, isBinary);
    if (input.kind === 'data') {
      if (!this.stdinClosed) this.queueStdin(input.data);
    } else {
      this.closeStdin();
    }
  }

  private onClose(fd: ExecFd): void {
    if (this.finished) return;
    if (fd === '0') this.closeStdin();
    else if (fd === 'control') this.kill('control websocket closed');
    else if (fd === '1' && !this.conns.has('control')) this.kill('stdout websocket closed');
  }

  /** Queues stdin for the agent, pausing the socket while too much is in flight (a fast client cannot grow memory). */
  private queueStdin(data: Buffer): void {
    const socket = this.conns.get('0');
    this.pendingStdin++;
    if (this.pendingStdin >= MAX_PENDING_STDIN && socket && !socket.isPaused) socket.pause();
    this.enqueue(async (h) => {
      try {
        await h.write(data);
      } finally {
        this.pendingStdin--;
        if (socket?.isPaused && this.pendingStdin <= MAX_PENDING_STDIN / 4) socket.resume();
      }
    });
  }

  private closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.enqueue((h) => h.closeStdin());
  }

  private kill(why: string): void {
    if (this.killed || this.finished) return;
    this.killed = true;
    this.o.log.warn({ why }, 'killing exec command');
    this.enqueue((h) => h.signal(9));
  }

  private enqueue(action: (h: ExecHandle) => Promise<void>): void {
    const h = this.handle;
    if (!h) {
      this.queue.push(action);
      return;
    }
    this.chain = this.chain.then(() => action(h)).catch((err: unknown) => {
      // The stream ended (the command exited or the call failed): the exit code or the run's error says what happened.
      this.o.log.debug({ err }, 'exec input not delivered');
    });
  }
}
