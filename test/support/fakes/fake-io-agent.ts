// FakeIoAgent: the node agent calls instance I/O makes (exec, pullFile, pushFile, deleteFile,
// getConsoleLog, getInstance), in memory, for inject tests of the API's instance-io routes.
// Exec runs a test-supplied script against an in-memory stdin/stdout/stderr and records what the
// API sent (stdin, resizes, signals). Files are a flat map path → entry; `fileErrors` makes a
// path fail with the error the real agent would raise (escape → PERMISSION_DENIED, …).
// FakeMemberAgents hands it out as the MemberAgents port.
import type { AgentClient, ExecHandle, PartialMessage } from '../../../src/node-agent/client.js';
import * as pb from '../../../proto/gen/shoal/agent/v1/agent.js';
import type { MemberAgents } from '../../../src/api/ports.js';
import { ErrorCode, ShoalError, errors } from '../../../src/shared/index.js';

/** What an exec script can do. */
export interface FakeExecIo {
  stdout(data: string | Buffer): void;
  stderr(data: string | Buffer): void;
  /** Resolves with everything written to stdin once it is closed. */
  stdinUntilClosed(): Promise<Buffer>;
  /** Resolves with the first signal sent to the command. */
  nextSignal(): Promise<number>;
  /** Resolves once the exec's call was aborted (the API cancelled it). */
  aborted(): Promise<void>;
}

/** What the API did with one exec. */
export interface FakeExecRecord {
  readonly operationId: string;
  readonly start: PartialMessage<pb.ExecStart>;
  readonly stdin: Buffer[];
  stdinClosed: boolean;
  readonly resizes: Array<[number, number]>;
  readonly signals: number[];
  readonly timeoutMs: number | undefined;
}

/** An entry of the fake filesystem. */
export interface FakeFile {
  type: pb.FileType;
  uid: number;
  gid: number;
  mode: number;
  content?: Buffer;
  target?: string;
  entries?: string[];
}

type Script = (start: PartialMessage<pb.ExecStart>, io: FakeExecIo) => Promise<number>;

/** See the file comment. */
export class FakeIoAgent {
  /** Instance name → status ("Running", "Stopped", "Frozen"); absent = NOT_FOUND. */
  readonly status = new Map<string, string>();
  readonly files = new Map<string, FakeFile>();
  readonly fileErrors = new Map<string, ShoalError>();
  readonly execs: FakeExecRecord[] = [];
  readonly pushes: Array<{ operationId: string; header: PartialMessage<pb.PushFileHeader>; content: Buffer }> = [];
  readonly deletes: string[] = [];
  consoleLog = '';
  /** The command's behaviour (default: echo stdin to stdout, exit 0). */
  script: Script = async (_s, io) => {
    io.stdout(await io.stdinUntilClosed());
    return 0;
  };

  exec(operationId: string, start: PartialMessage<pb.ExecStart>, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): ExecHandle {
    const rec: FakeExecRecord = { operationId, start, stdin: [], stdinClosed: false, resizes: [], signals: [], timeoutMs: opts.timeoutMs };
    this.execs.push(rec);
    const out = new Channel<{ stream: 'stdout' | 'stderr'; data: Buffer }>();
    let stdinDone!: () => void;
    const stdinClosed = new Promise<void>((r) => (stdinDone = r));
    let onSignal: ((n: number) => void) | undefined;
    const firstSignal = new Promise<number>((r) => (onSignal = r));
    const abortP = new Promise<void>((r) => {
      if (opts.signal?.aborted) r();
      opts.signal?.addEventListener('abort', () => r(), { once: true });
    });
    const io: FakeExecIo = {
      stdout: (d) => out.push({ stream: 'stdout', data: Buffer.from(d) }),
      stderr: (d) => out.push({ stream: 'stderr', data: Buffer.from(d) }),
      stdinUntilClosed: async () => {
        await stdinClosed;
        return Buffer.concat(rec.stdin);
      },
      nextSignal: () => firstSignal,
      aborted: () => abortP,
    };
    const name = start.name ?? '';
    const exit = (async () => {
      if (!this.status.has(name)) throw errors.notFound(`Instance "${name}" not found`);
      const code = await this.script(start, io);
      out.end();
      return code;
    })();
    exit.catch((err: unknown) => out.fail(err));
    return {
      write: async (data) => {
        rec.stdin.push(Buffer.from(data));
      },
      closeStdin: async () => {
        rec.stdinClosed = true;
        stdinDone();
      },
      resize: async (w, h) => {
        rec.resizes.push([w, h]);
      },
      signal: async (n) => {
        rec.signals.push(n);
        onSignal?.(n);
      },
      output: out,
      exit,
      collect: async () => {
        const so: Buffer[] = [];
        const se: Buffer[] = [];
        for await (const o of out) (o.stream === 'stdout' ? so : se).push(o.data);
        return { stdout: Buffer.concat(so), stderr: Buffer.concat(se), exitCode: await exit };
      },
    };
  }

  async pullFile(req: PartialMessage<pb.PullFileRequest>): Promise<{ header: pb.FileHeader; content: Buffer }> {
    this.requireInstance(req.name ?? '');
    const path = req.path ?? '';
    const err = this.fileErrors.get(path);
    if (err) throw err;
    const f = this.files.get(path);
    if (!f) throw new ShoalError(ErrorCode.NotFound, `Path "${path}" not found in instance "${req.name ?? ''}"`);
    const header = pb.FileHeader.fromPartial({
      type: f.type,
      uid: f.uid,
      gid: f.gid,
      mode: f.mode,
      size: f.content?.length ?? 0,
      entries: f.entries ?? [],
      target: f.target ?? '',
    });
    return { header, content: f.content ?? Buffer.alloc(0) };
  }

  async pushFile(operationId: string, header: PartialMessage<pb.PushFileHeader>, content: Buffer | AsyncIterable<Buffer> = Buffer.alloc(0)): Promise<void> {
    this.requireInstance(header.name ?? '');
    const parts: Buffer[] = [];
    if (Buffer.isBuffer(content)) parts.push(content);
    else for await (const c of content) parts.push(c);
    const err = this.fileErrors.get(header.path ?? '');
    if (err) throw err;
    this.pushes.push({ operationId, header, content: Buffer.concat(parts) });
  }

  unary(method: string, req: Record<string, unknown>): Promise<unknown> {
    const name = String(req['name'] ?? '');
    switch (method) {
      case 'getInstance': {
        const status = this.requireInstance(name);
        return Promise.resolve(pb.GetInstanceResponse.fromPartial({ instance: { spec: { name }, status: { status } } }));
      }
      case 'getConsoleLog':
        this.requireInstance(name);
        return Promise.resolve({ log: this.consoleLog });
      case 'deleteFile': {
        this.requireInstance(name);
        const path = String(req['path']);
        const err = this.fileErrors.get(path);
        if (err) return Promise.reject(err);
        if (!this.files.delete(path)) return Promise.reject(new ShoalError(ErrorCode.NotFound, `Path "${path}" not found`));
        this.deletes.push(path);
        return Promise.resolve({});
      }
      default:
        return Promise.reject(new Error(`FakeIoAgent: unexpected ${method}`));
    }
  }

  private requireInstance(name: string): string {
    const s = this.status.get(name);
    if (s === undefined) throw errors.notFound(`Instance "${name}" not found`);
    return s;
  }
}

/** MemberAgents over FakeIoAgents, one per member name. */
export class FakeMemberAgents implements MemberAgents {
  readonly byMember = new Map<string, FakeIoAgent>();

  client(member: string): AgentClient {
    const a = this.byMember.get(member);
    if (!a) throw errors.notFound(`Member "${member}" not found`);
    // The routes only use the IoAgent subset of AgentClient (src/api/instance-io/instance-ref.ts).
    return a as unknown as AgentClient;
  }
}

/** A minimal async channel (push, end, fail; iterate once). */
class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private done = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.done = true;
    this.wake?.();
  }

  fail(err: unknown): void {
    this.error = err ?? new Error('failed');
    this.done = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
