/**
 * A small typed promise client of the AgentService (tests, benchmarks; the cluster module wraps
 * it in cluster/agent-client.ts). Deadlines come from `timeoutMs` and cancellation from an
 * AbortSignal; every failure is rebuilt by the one `fromGrpcError`. Streams are wrapped:
 * ImportImage/PushFile take async iterables, ExportImage/PullFile return them, ExecCommand
 * returns a handle with backpressured stdin and an exit promise.
 */
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { fromGrpcError, type AsyncDisposable } from '../shared/index.js';
import * as pb from '../../proto/gen/shoal/agent/v1/agent.js';
import { AGENT_GRPC_OPTIONS, type AgentTls } from './grpc-options.js';

type Def = typeof pb.AgentServiceService;
type MethodName = keyof Def;
/** Names of the unary RPCs. */
export type UnaryMethod = {
  [K in MethodName]: Def[K]['requestStream'] extends false ? (Def[K]['responseStream'] extends false ? K : never) : never;
}[MethodName];
/** The request and response message types of an RPC. */
export type RequestOf<K extends MethodName> = Parameters<Def[K]['requestSerialize']>[0];
export type ResponseOf<K extends MethodName> = ReturnType<Def[K]['responseDeserialize']>;

/** A message with every field optional (ts-proto's fromPartial fills defaults). */
export type PartialMessage<T> = T extends Buffer | Date | string | number | boolean | undefined
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<PartialMessage<U>>
    : T extends { $case: infer C; value: infer V }
      ? { $case: C; value: PartialMessage<V> }
      : T extends object
        ? { [K in keyof T]?: PartialMessage<T[K]> }
        : T;

/** Per-call options. */
export interface CallOpts {
  /** Deadline relative to now (default 60 s; 0 = none). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Sent as `x-request-id` so agent logs join the caller's. */
  readonly requestId?: string;
}

interface MessageCodec<T> {
  fromPartial(object: unknown): T;
}

function codecOf<T>(typeName: string): MessageCodec<T> {
  const codec = (pb as unknown as Record<string, MessageCodec<T> | undefined>)[typeName];
  if (!codec) throw new Error(`No message type ${typeName}`);
  return codec;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A running exec. */
export interface ExecHandle {
  /** Writes stdin (resolves when the transport accepted it). */
  write(data: Buffer | string): Promise<void>;
  closeStdin(): Promise<void>;
  resize(width: number, height: number): Promise<void>;
  signal(sig: number): Promise<void>;
  /** Output chunks in arrival order until the exit code. */
  readonly output: AsyncIterable<{ readonly stream: 'stdout' | 'stderr'; readonly data: Buffer }>;
  /** Resolves with the exit code after all output was delivered (consume `output` or call `collect`). */
  readonly exit: Promise<number>;
  /** Consumes the output and returns it with the exit code. */
  collect(): Promise<{ readonly stdout: Buffer; readonly stderr: Buffer; readonly exitCode: number }>;
}

/** See the module comment. */
export class AgentClient implements AsyncDisposable {
  private readonly raw: grpc.Client;

  /**
   * Connects to `address` (host:port) with mutual TLS. `serverName` is the name in the server's
   * certificate (dialing by IP without it works when the certificate has an IP SAN).
   */
  constructor(address: string, tls: AgentTls, serverName?: string) {
    const creds = grpc.credentials.createSsl(tls.caPem, tls.keyPem, tls.certPem);
    const options: grpc.ChannelOptions = {
      ...AGENT_GRPC_OPTIONS,
      ...(serverName ? { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName } : {}),
    };
    this.raw = new grpc.Client(address, creds, options);
  }

  /** Calls a unary RPC. Rejects with the ShoalError the agent raised (or a transport one). */
  unary<K extends UnaryMethod>(method: K, request: PartialMessage<RequestOf<K>>, opts: CallOpts = {}): Promise<ResponseOf<K>> {
    const def = pb.AgentServiceService[method] as unknown as grpc.MethodDefinition<RequestOf<K>, ResponseOf<K>>;
    const req = codecOf<RequestOf<K>>(`${upperFirst(method)}Request`).fromPartial(request);
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(fromGrpcError(cancelledError()));
      const call = this.raw.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        req,
        this.metadata(opts),
        this.callOptions(opts),
        (err, res) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (err) reject(fromGrpcError(err));
          else resolve(res as ResponseOf<K>);
        },
      );
      const onAbort = (): void => call.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Imports an image: the header, then `chunks` (metadata part first, then rootfs for split
   * images) with offsets filled in. Stops sending as soon as the agent answers (e.g. the image
   * is already there).
   */
  async importImage(
    operationId: string,
    header: PartialMessage<pb.ImportImageHeader>,
    chunks: AsyncIterable<{ readonly part: pb.ImagePart; readonly data: Buffer }>,
    opts: CallOpts = {},
  ): Promise<pb.ImportImageResponse> {
    const def = pb.AgentServiceService.importImage;
    let answered = false;
    let call: grpc.ClientWritableStream<pb.ImportImageRequest> | undefined;
    const response = new Promise<pb.ImportImageResponse>((resolve, reject) => {
      call = this.raw.makeClientStreamRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        this.metadata(opts),
        this.callOptions(opts),
        (err, res) => {
          answered = true;
          if (err) reject(fromGrpcError(err));
          else resolve(res as pb.ImportImageResponse);
        },
      );
    });
    const stream = call!;
    const onAbort = (): void => stream.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      stream.write(pb.ImportImageRequest.fromPartial({ operationId, payload: { $case: 'header', value: pb.ImportImageHeader.fromPartial(header) } }));
      const offsets = new Map<pb.ImagePart, number>();
      for await (const c of chunks) {
        if (answered) break;
        const offset = offsets.get(c.part) ?? 0;
        offsets.set(c.part, offset + c.data.length);
        const msg = { operationId: '', payload: { $case: 'chunk' as const, value: { part: c.part, offset, data: c.data } } };
        if (!stream.write(msg)) await Promise.race([once(stream, 'drain'), response.then(() => undefined, () => undefined)]);
      }
      stream.end();
      return await response;
    } catch (err) {
      if (!answered) {
        // The chunks failed (the caller's source broke): cancel the call so the agent drops
        // what it received. Its answer (CANCELLED) is superseded by `err`.
        stream.cancel();
        response.catch(() => undefined);
      }
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Streams one part of an image from an offset. */
  async *exportImage(request: PartialMessage<pb.ExportImageRequest>, opts: CallOpts = {}): AsyncGenerator<pb.ExportImageResponse> {
    yield* this.serverStream('exportImage', pb.ExportImageRequest.fromPartial(request), opts);
  }

  /** Reads a path: the header, then the content (empty for directories and symlinks). */
  async pullFile(
    request: PartialMessage<pb.PullFileRequest>,
    opts: CallOpts = {},
  ): Promise<{ readonly header: pb.FileHeader; readonly content: Buffer }> {
    let header: pb.FileHeader | undefined;
    const parts: Buffer[] = [];
    for await (const m of this.serverStream('pullFile', pb.PullFileRequest.fromPartial(request), opts)) {
      if (m.payload?.$case === 'header') header = m.payload.value;
      else if (m.payload?.$case === 'data') parts.push(m.payload.value);
    }
    if (!header) throw new Error('PullFile ended without a header');
    return { header, content: Buffer.concat(parts) };
  }

  /** Writes a path: header, then `content` in chunks. */
  async pushFile(
    operationId: string,
    header: PartialMessage<pb.PushFileHeader>,
    content: Buffer | AsyncIterable<Buffer> = Buffer.alloc(0),
    opts: CallOpts = {},
  ): Promise<void> {
    const def = pb.AgentServiceService.pushFile;
    let call: grpc.ClientWritableStream<pb.PushFileRequest> | undefined;
    const response = new Promise<void>((resolve, reject) => {
      call = this.raw.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, this.metadata(opts), this.callOptions(opts), (err) =>
        err ? reject(fromGrpcError(err)) : resolve(),
      );
    });
    const stream = call!;
    stream.write(pb.PushFileRequest.fromPartial({ operationId, payload: { $case: 'header', value: pb.PushFileHeader.fromPartial(header) } }));
    const chunks: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(content) ? chunk(content, 256 * 1024) : content;
    for await (const data of chunks) {
      if (!stream.write({ operationId: '', payload: { $case: 'data', value: data } })) {
        await Promise.race([once(stream, 'drain'), response.then(() => undefined, () => undefined)]);
      }
    }
    stream.end();
    return response;
  }

  /** Starts a command in an instance. */
  exec(operationId: string, start: PartialMessage<pb.ExecStart>, opts: CallOpts = {}): ExecHandle {
    const def = pb.AgentServiceService.execCommand;
    const call = this.raw.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, this.metadata(opts), this.callOptions(opts));
    const onAbort = (): void => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const send = async (input: pb.ExecCommandRequest['input']): Promise<void> => {
      if (!call.write({ operationId: '', input })) await once(call, 'drain');
    };
    call.write(pb.ExecCommandRequest.fromPartial({ operationId, input: { $case: 'start', value: pb.ExecStart.fromPartial(start as never) } }));
    let resolveExit!: (code: number) => void;
    let rejectExit!: (err: unknown) => void;
    const exit = new Promise<number>((res, rej) => {
      resolveExit = res;
      rejectExit = rej;
    });
    exit.catch(() => undefined);
    async function* output(): AsyncGenerator<{ stream: 'stdout' | 'stderr'; data: Buffer }> {
      try {
        for await (const m of call as AsyncIterable<pb.ExecCommandResponse>) {
          const o = m.output;
          if (o?.$case === 'stdout') yield { stream: 'stdout', data: o.value };
          else if (o?.$case === 'stderr') yield { stream: 'stderr', data: o.value };
          else if (o?.$case === 'exitCode') resolveExit(o.value);
        }
        rejectExit(new Error('Exec stream ended without an exit code'));
      } catch (err) {
        const e = fromGrpcError(err);
        rejectExit(e);
        throw e;
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    }
    const out = output();
    return {
      write: (data) => send({ $case: 'stdin', value: Buffer.from(data) }),
      closeStdin: async () => {
        await send({ $case: 'stdinClose', value: {} });
      },
      resize: (width, height) => send({ $case: 'resize', value: { width, height } }),
      signal: (sig) => send({ $case: 'signal', value: sig }),
      output: out,
      exit,
      collect: async () => {
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        for await (const o of out) (o.stream === 'stdout' ? stdout : stderr).push(o.data);
        call.end();
        return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode: await exit };
      },
    };
  }

  /** Closes the channel. */
  async close(): Promise<void> {
    this.raw.close();
  }

  private async *serverStream<K extends 'exportImage' | 'pullFile'>(
    method: K,
    req: RequestOf<K>,
    opts: CallOpts,
  ): AsyncGenerator<ResponseOf<K>> {
    const def = pb.AgentServiceService[method] as unknown as grpc.MethodDefinition<RequestOf<K>, ResponseOf<K>>;
    const call = this.raw.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, req, this.metadata(opts), this.callOptions(opts));
    const onAbort = (): void => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const m of call as AsyncIterable<ResponseOf<K>>) yield m;
    } catch (err) {
      throw fromGrpcError(err);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  private metadata(opts: CallOpts): grpc.Metadata {
    const md = new grpc.Metadata();
    if (opts.requestId) md.set('x-request-id', opts.requestId);
    return md;
  }

  private callOptions(opts: CallOpts): grpc.CallOptions {
    const timeout = opts.timeoutMs ?? 60_000;
    return timeout > 0 ? { deadline: Date.now() + timeout } : {};
  }
}

function* chunk(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

function cancelledError(): grpc.ServiceError {
  return Object.assign(new Error('Call cancelled'), {
    code: grpc.status.CANCELLED,
    details: 'Call cancelled',
    metadata: new grpc.Metadata(),
  });
}
