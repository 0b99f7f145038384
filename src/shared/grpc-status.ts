/**
 * The one translation between ShoalError and gRPC status, used by every gRPC boundary (node agent,
 * raft transport, cluster service). The server side calls {@link toGrpcStatus}; the client side
 * {@link fromGrpcError}. The ShoalError code travels exactly in the `shoal-error-code` trailer and
 * `shoal-retryable` says whether a retry may succeed, so clients never parse message text.
 */
import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ErrorCode, ShoalError, errorMessage } from './errors.js';

/** Trailer keys carrying the ShoalError identity. */
export const GRPC_ERROR_CODE_KEY = 'shoal-error-code';
export const GRPC_RETRYABLE_KEY = 'shoal-retryable';
/** NOT_LEADER errors also carry the leader's raft id and address (from `details.leaderHint/leaderAddress`). */
export const GRPC_LEADER_ID_KEY = 'shoal-leader-id';
export const GRPC_LEADER_ADDRESS_KEY = 'shoal-leader-address';

/** ShoalError code → gRPC status code (total). */
export const GRPC_STATUS_OF: Readonly<Record<ErrorCode, GrpcStatus>> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  ABORTED: GrpcStatus.ABORTED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  CANCELLED: GrpcStatus.CANCELLED,
  DATA_LOSS: GrpcStatus.DATA_LOSS,
  INTERNAL: GrpcStatus.INTERNAL,
  // The metadata says NOT_LEADER exactly (raft/transport maps it the same way).
  NOT_LEADER: GrpcStatus.FAILED_PRECONDITION,
};

/** gRPC status code → ShoalError code, for statuses without our trailer (transport errors, other servers). */
const ERROR_CODE_OF: Readonly<Record<number, ErrorCode>> = {
  [GrpcStatus.CANCELLED]: ErrorCode.Cancelled,
  [GrpcStatus.UNKNOWN]: ErrorCode.Internal,
  [GrpcStatus.INVALID_ARGUMENT]: ErrorCode.InvalidArgument,
  [GrpcStatus.DEADLINE_EXCEEDED]: ErrorCode.DeadlineExceeded,
  [GrpcStatus.NOT_FOUND]: ErrorCode.NotFound,
  [GrpcStatus.ALREADY_EXISTS]: ErrorCode.AlreadyExists,
  [GrpcStatus.PERMISSION_DENIED]: ErrorCode.PermissionDenied,
  [GrpcStatus.RESOURCE_EXHAUSTED]: ErrorCode.ResourceExhausted,
  [GrpcStatus.FAILED_PRECONDITION]: ErrorCode.FailedPrecondition,
  [GrpcStatus.ABORTED]: ErrorCode.Aborted,
  [GrpcStatus.OUT_OF_RANGE]: ErrorCode.InvalidArgument,
  [GrpcStatus.UNIMPLEMENTED]: ErrorCode.FailedPrecondition,
  [GrpcStatus.INTERNAL]: ErrorCode.Internal,
  [GrpcStatus.UNAVAILABLE]: ErrorCode.Unavailable,
  [GrpcStatus.DATA_LOSS]: ErrorCode.DataLoss,
  [GrpcStatus.UNAUTHENTICATED]: ErrorCode.Unauthenticated,
};

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** A status to hand to a grpc-js callback or `call.emit('error', …)`. */
export type GrpcErrorStatus = Pick<StatusObject, 'code' | 'details' | 'metadata'>;

/**
 * Translates any thrown value into a gRPC status. A ShoalError keeps its message and code; any
 * other value becomes INTERNAL with its message (agents are cluster-internal; the leader's API
 * boundary decides what users see).
 */
export function toGrpcStatus(err: unknown): GrpcErrorStatus {
  const shoal =
    err instanceof ShoalError ? err : new ShoalError(ErrorCode.Internal, errorMessage(err), { cause: err });
  const metadata = new Metadata();
  metadata.set(GRPC_ERROR_CODE_KEY, shoal.code);
  metadata.set(GRPC_RETRYABLE_KEY, String(shoal.retryable));
  const hint = shoal.details?.['leaderHint'];
  if (typeof hint === 'number') metadata.set(GRPC_LEADER_ID_KEY, String(hint));
  const addr = shoal.details?.['leaderAddress'];
  if (typeof addr === 'string') metadata.set(GRPC_LEADER_ADDRESS_KEY, addr);
  return { code: GRPC_STATUS_OF[shoal.code], details: shoal.message, metadata };
}

/**
 * Rebuilds a ShoalError from a failed call. With our trailer, code and retryable are exact;
 * without it (connection refused, TLS failure, deadline hit locally), the gRPC code is mapped and
 * retryable takes the ShoalError default for that code. Idempotent on a ShoalError.
 */
export function fromGrpcError(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  if (!isServiceError(err)) return new ShoalError(ErrorCode.Internal, errorMessage(err), { cause: err });
  const sent = err.metadata?.get(GRPC_ERROR_CODE_KEY)[0];
  const retryable = err.metadata?.get(GRPC_RETRYABLE_KEY)[0];
  const code =
    typeof sent === 'string' && KNOWN_CODES.has(sent)
      ? (sent as ErrorCode)
      : (ERROR_CODE_OF[err.code] ?? ErrorCode.Internal);
  const message = err.details || errorMessage(err);
  const details: Record<string, unknown> = { grpcCode: err.code };
  const hint = err.metadata?.get(GRPC_LEADER_ID_KEY)[0];
  if (hint !== undefined) details['leaderHint'] = Number(hint);
  const addr = err.metadata?.get(GRPC_LEADER_ADDRESS_KEY)[0];
  if (addr !== undefined) details['leaderAddress'] = String(addr);
  return new ShoalError(code, message, {
    cause: err,
    details,
    ...(retryable === 'true' || retryable === 'false' ? { retryable: retryable === 'true' } : {}),
  });
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}
