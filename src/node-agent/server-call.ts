/**
 * Plumbing shared by the AgentService handlers: a per-call AbortSignal (client cancellation and
 * the call's deadline), error translation through the one `toGrpcStatus`, per-RPC logging, and
 * backpressured writes.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { ErrorCode, ShoalError, isShoalError, toGrpcStatus, type Logger } from '../shared/index.js';

/** What every kind of server call offers (grpc-js does not export its ServerSurfaceCall). */
export interface ServerCall {
  readonly metadata: grpc.Metadata;
  getDeadline(): grpc.Deadline;
  on(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

/** A call's cancellation signal; `dispose()` releases its timer and listener. */
export interface CallSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** Aborts when the client cancels or the call's deadline passes. */
export function callSignal(call: ServerCall): CallSignal {
  const ac = new AbortController();
  const onCancel = (): void => ac.abort(new ShoalError(ErrorCode.Cancelled, 'Call cancelled by the client'));
  call.on('cancelled', onCancel);
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(at)) {
    timer = setTimeout(
      () => ac.abort(new ShoalError(ErrorCode.DeadlineExceeded, 'Call deadline exceeded')),
      Math.max(0, at - Date.now()),
    );
    timer.unref();
  }
  return {
    signal: ac.signal,
    dispose: () => {
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
    },
  };
}

/** A child logger for one call, joined to the API request by `x-request-id`. */
export function callLogger(log: Logger, call: ServerCall, rpc: string): Logger {
  const reqId = call.metadata.get('x-request-id')[0];
  return log.child({ rpc, ...(typeof reqId === 'string' ? { reqId } : {}) });
}

/** Logs a failed call: INTERNAL (needs a human) at error, expected outcomes at debug. */
export function logFailure(log: Logger, err: unknown): void {
  if (!isShoalError(err) || err.code === ErrorCode.Internal) log.error({ err }, 'call failed');
  else log.debug({ err: { code: err.code, message: err.message } }, 'call failed');
}

/** The status to end a call with. */
export function statusOf(err: unknown): ReturnType<typeof toGrpcStatus> {
  return toGrpcStatus(err);
}

/** Writes one message, waiting for 'drain' when the stream's buffer is full (backpressure). */
export async function writeWithBackpressure(stream: Writable, msg: unknown, signal: AbortSignal): Promise<void> {
  if (!stream.write(msg)) await once(stream, 'drain', { signal });
}

/** An error to end a stream with when the client sent the wrong first message. */
export function protocolError(message: string): ShoalError {
  return new ShoalError(ErrorCode.InvalidArgument, message);
}
