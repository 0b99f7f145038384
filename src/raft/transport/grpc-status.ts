/**
 * The gRPC boundary of the raft transport: ShoalError ↔ gRPC status, in one place. The stable
 * code travels in metadata (`shoal-error-code`, `shoal-retryable`); messages are never parsed.
 */
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, ShoalError } from '../../shared/index.js';

/** Rebuilds a ShoalError from a gRPC status (the code travels in metadata `shoal-error-code`). */
export function fromServiceError(err: grpc.ServiceError, context: string): ShoalError {
  const code = err.metadata?.get('shoal-error-code')[0];
  const known = Object.values(ErrorCode).find((c) => c === code);
  return new ShoalError(known ?? GRPC_TO_CODE[err.code] ?? ErrorCode.Unavailable, `${context}: ${err.details}`, {
    cause: err,
  });
}

const GRPC_TO_CODE: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.CANCELLED]: ErrorCode.Cancelled,
  [grpc.status.INVALID_ARGUMENT]: ErrorCode.InvalidArgument,
  [grpc.status.DEADLINE_EXCEEDED]: ErrorCode.DeadlineExceeded,
  [grpc.status.PERMISSION_DENIED]: ErrorCode.PermissionDenied,
  [grpc.status.RESOURCE_EXHAUSTED]: ErrorCode.ResourceExhausted,
  [grpc.status.FAILED_PRECONDITION]: ErrorCode.FailedPrecondition,
  [grpc.status.UNAUTHENTICATED]: ErrorCode.Unauthenticated,
  [grpc.status.DATA_LOSS]: ErrorCode.DataLoss,
  [grpc.status.UNAVAILABLE]: ErrorCode.Unavailable,
};

const CODE_TO_GRPC: Readonly<Record<ErrorCode, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  ABORTED: grpc.status.ABORTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  CANCELLED: grpc.status.CANCELLED,
  DATA_LOSS: grpc.status.DATA_LOSS,
  INTERNAL: grpc.status.INTERNAL,
  NOT_LEADER: grpc.status.FAILED_PRECONDITION,
};

/** The gRPC status for an error (ShoalError by code; anything else INTERNAL). */
export function toGrpcStatus(err: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (err instanceof ShoalError) {
    metadata.set('shoal-error-code', err.code);
    metadata.set('shoal-retryable', String(err.retryable));
    return { code: CODE_TO_GRPC[err.code], details: err.message, metadata };
  }
  return { code: grpc.status.INTERNAL, details: 'Internal error', metadata };
}
