/**
 * The streaming AgentService handlers: ImportImage and PushFile (client streams), ExportImage and
 * PullFile (server streams, backpressured), ExecCommand (bidi). Same rules as the unary handlers:
 * decode, call the service, encode, and end with `toGrpcStatus` on failure.
 */
import { Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { errorMessage, type Logger } from '../shared/index.js';
import type * as pb from '../../proto/gen/shoal/agent/v1/agent.js';
import { fileHeaderToPb, imageFormatFromPb, imageOf, imagePartFromPb, pushSpecFromPb } from './codec.js';
import {
  callLogger,
  callSignal,
  logFailure,
  protocolError,
  statusOf,
  writeWithBackpressure,
} from './server-call.js';
import type { ImageChunkIn } from './service-images.js';
import type { AgentService } from './service.js';

type StreamingHandlers = Pick<pb.AgentServiceServer, 'importImage' | 'exportImage' | 'execCommand' | 'pullFile' | 'pushFile'>;

/** Output chunk size of PullFile. */
const FILE_CHUNK_BYTES = 256 * 1024;

export function streamingHandlers(service: AgentService, log: Logger): StreamingHandlers {
  /** Runs a client-streaming handler body and answers through the callback. */
  const clientStream =
    <Req, Res>(rpc: string, fn: (call: grpc.ServerReadableStream<Req, Res>, signal: AbortSignal) => Promise<Res>) =>
    (call: grpc.ServerReadableStream<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      const clog = callLogger(log, call, rpc);
      const { signal, dispose } = callSignal(call);
      service.run(() => fn(call, signal)).then(
        (res) => {
          dispose();
          callback(null, res);
        },
        (err: unknown) => {
          dispose();
          logFailure(clog, err);
          callback(statusOf(err));
        },
      );
    };

  /** Runs a server-streaming (or bidi) handler body; ends the stream, or errors it. */
  const serverStream =
    <C extends grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>>(
      rpc: string,
      fn: (call: C, signal: AbortSignal) => Promise<void>,
    ) =>
    (call: C): void => {
      const clog = callLogger(log, call, rpc);
      const { signal, dispose } = callSignal(call);
      service.run(() => fn(call, signal)).then(
        () => {
          dispose();
          call.end();
        },
        (err: unknown) => {
          dispose();
          logFailure(clog, err);
          call.emit('error', statusOf(err));
        },
      );
    };

  return {
    importImage: clientStream('ImportImage', async (call: grpc.ServerReadableStream<pb.ImportImageRequest, pb.ImportImageResponse>, signal) => {
      const it = call[Symbol.asyncIterator]() as AsyncIterator<pb.ImportImageRequest>;
      const first = await it.next();
      const payload = first.done ? undefined : first.value.payload;
      if (first.done || payload?.$case !== 'header') throw protocolError('ImportImage must start with a header');
      const header = { format: imageFormatFromPb(payload.value.format), expectedFingerprint: payload.value.expectedFingerprint };
      async function* chunks(): AsyncGenerator<ImageChunkIn> {
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          const p = n.value.payload;
          if (p?.$case !== 'chunk') throw protocolError('ImportImage expects chunks after the header');
          yield { part: imagePartFromPb(p.value.part), offset: p.value.offset, data: p.value.data };
        }
      }
      const info = await service.images.import(first.value.operationId, header, chunks(), signal);
      return { image: imageOf(await service.images.describe(info.fingerprint)) };
    }),

    exportImage: serverStream('ExportImage', async (call: grpc.ServerWritableStream<pb.ExportImageRequest, pb.ExportImageResponse>, signal) => {
      const req = call.request;
      const part = imagePartFromPb(req.part);
      const exp = await service.images.export(req.fingerprint, part, req.offset, req.chunkBytes);
      let offset = req.offset;
      try {
        for await (const data of exp.stream as AsyncIterable<Buffer>) {
          await writeWithBackpressure(call, { chunk: { part: req.part, offset, data }, totalBytes: exp.totalBytes }, signal);
          offset += data.length;
        }
      } finally {
        exp.stream.destroy();
      }
    }),

    pullFile: serverStream('PullFile', async (call: grpc.ServerWritableStream<pb.PullFileRequest, pb.PullFileResponse>, signal) => {
      const req = call.request;
      const { info, content } = await service.execFiles.pull({ project: req.project, name: req.name }, req.path, signal);
      await writeWithBackpressure(call, { payload: { $case: 'header', value: fileHeaderToPb(info) } }, signal);
      if (!content) return;
      try {
        for await (const buf of content as AsyncIterable<Buffer>) {
          for (let i = 0; i < buf.length; i += FILE_CHUNK_BYTES) {
            const data = buf.subarray(i, i + FILE_CHUNK_BYTES);
            await writeWithBackpressure(call, { payload: { $case: 'data', value: data } }, signal);
          }
        }
      } finally {
        content.destroy();
      }
    }),

    pushFile: clientStream('PushFile', async (call: grpc.ServerReadableStream<pb.PushFileRequest, pb.PushFileResponse>, signal) => {
      const it = call[Symbol.asyncIterator]() as AsyncIterator<pb.PushFileRequest>;
      const first = await it.next();
      const payload = first.done ? undefined : first.value.payload;
      if (first.done || payload?.$case !== 'header') throw protocolError('PushFile must start with a header');
      const spec = pushSpecFromPb(payload.value);
      async function* data(): AsyncGenerator<Buffer> {
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          const p = n.value.payload;
          if (p?.$case !== 'data') throw protocolError('PushFile expects data after the header');
          yield p.value;
        }
      }
      const ref = { project: payload.value.project, name: payload.value.name };
      await service.execFiles.push(first.value.operationId, ref, spec, Readable.from(data()), signal);
      return {};
    }),

    execCommand: serverStream('ExecCommand', async (call: grpc.ServerDuplexStream<pb.ExecCommandRequest, pb.ExecCommandResponse>, signal) => {
      const clog = callLogger(log, call, 'ExecCommand');
      const it = call[Symbol.asyncIterator]() as AsyncIterator<pb.ExecCommandRequest>;
      const first = await it.next();
      const input = first.done ? undefined : first.value.input;
      if (first.done || input?.$case !== 'start') throw protocolError('ExecCommand must start with a start message');
      const st = input.value;
      const session = await service.execFiles.exec(
        { project: st.project, name: st.name },
        {
          command: st.command,
          env: st.env,
          pty: st.pty,
          ...(st.cwd ? { cwd: st.cwd } : {}),
          ...(st.uid === undefined ? {} : { uid: st.uid }),
          ...(st.gid === undefined ? {} : { gid: st.gid }),
          ...(st.width ? { width: st.width } : {}),
          ...(st.height ? { height: st.height } : {}),
        },
        signal,
      );
      session.stdin.on('error', (err: Error) => {
        // EPIPE once the command exited or closed its stdin: its exit code tells the story.
        clog.debug({ err: errorMessage(err) }, 'exec stdin closed early');
      });

      // Client → command. Ends when the client half-closes (which closes stdin too).
      let exited = false;
      const inputDone = (async () => {
        for (;;) {
          const n = await it.next();
          if (n.done) break;
          const m = n.value.input;
          switch (m?.$case) {
            case 'stdin':
              if (!session.stdin.writableEnded && !session.stdin.write(m.value)) {
                await new Promise<void>((resolve) => {
                  session.stdin.once('drain', resolve);
                  session.stdin.once('close', resolve);
                });
              }
              break;
            case 'resize':
              session.resize(m.value.width, m.value.height);
              break;
            case 'signal':
              session.signal(m.value);
              break;
            case 'stdinClose':
              session.stdin.end();
              break;
            case 'start':
              throw protocolError('ExecCommand got a second start message');
            case undefined:
              break;
          }
        }
        if (!session.stdin.writableEnded) session.stdin.end();
      })().catch((err: unknown) => {
        // After the command exited, a failing input side (client cancelled, EPIPE) is moot.
        if (!exited) clog.debug({ err: errorMessage(err) }, 'exec input ended with an error');
      });

      // Command → client, with backpressure.
      const pump = async (r: Readable, kind: 'stdout' | 'stderr'): Promise<void> => {
        for await (const b of r as AsyncIterable<Buffer>) {
          await writeWithBackpressure(call, { output: kind === 'stdout' ? { $case: 'stdout', value: b } : { $case: 'stderr', value: b } }, signal);
        }
      };
      await Promise.all([pump(session.stdout, 'stdout'), session.stderr ? pump(session.stderr, 'stderr') : Promise.resolve()]);
      const code = await session.exit;
      exited = true;
      await writeWithBackpressure(call, { output: { $case: 'exitCode', value: code } }, signal);
      void inputDone;
    }),
  };
}
