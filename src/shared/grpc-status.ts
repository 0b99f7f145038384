/**
 * The gRPC boundary's one error translation (CONVENTIONS "Errors" rule 4): ShoalError ↔ gRPC
 * status. The code travels as the canonical gRPC code plus metadata `shoal-error-code` and
 * `shoal-retryable`; NOT_LEADER (no gRPC equivalent) maps to FAILED_PRECONDITION and also carries
 * `shoal-leader-id` / `shoal-leader-address` from its details. Never match on message text.
 */
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ErrorCode, ShoalError } from './errors.js';

const TO_GRPC: Readonly<Record<ErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
  UNAVAILABLE: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  CANCELLED: status.CANCELLED,
  DATA_LOSS: status.DATA_LOSS,
  INTERNAL: status.INTERNAL,
  NOT_LEADER: status.FAILED_PRECONDITION,
};

const FROM_GRPC: ReadonlyMap<number, ErrorCode> = new Map(
  (Object.entries(TO_GRPC) as [ErrorCode, status][]).filter(([c]) => c !== ErrorCode.NotLeader).map(([c, s]) => [s, c]),
);

/** Converts any thrown value into a gRPC status for a handler's callback. */
export function toGrpcStatus(err: unknown): Partial<StatusObject> {
  const md = new Metadata();
  if (!(err instanceof ShoalError)) {
    md.set('shoal-error-code', ErrorCode.Internal);
    return { code: status.INTERNAL, details: 'Internal error', metadata: md };
  }
  md.set('shoal-error-code', err.code);
  md.set('shoal-retryable', String(err.retryable));
  const hint = err.details?.['leaderHint'];
  if (typeof hint === 'number') md.set('shoal-leader-id', String(hint));
  const addr = err.details?.['leaderAddress'];
  if (typeof addr === 'string') md.set('shoal-leader-address', addr);
  return { code: TO_GRPC[err.code], details: err.message, metadata: md };
}

/** Rebuilds a ShoalError from a failed call (client side). */
export function fromGrpcError(err: ServiceError): ShoalError {
  const raw = err.metadata?.get('shoal-error-code')[0];
  const known = typeof raw === 'string' && (Object.values(ErrorCode) as string[]).includes(raw) ? (raw as ErrorCode) : undefined;
  const code = known ?? FROM_GRPC.get(err.code) ?? ErrorCode.Unavailable;
  const retryable = err.metadata?.get('shoal-retryable')[0];
  const details: Record<string, unknown> = { grpcCode: err.code };
  const hint = err.metadata?.get('shoal-leader-id')[0];
  if (hint !== undefined) details['leaderHint'] = Number(hint);
  const addr = err.metadata?.get('shoal-leader-address')[0];
  if (addr !== undefined) details['leaderAddress'] = String(addr);
  return new ShoalError(code, err.details || err.message, {
    cause: err,
    details,
    ...(retryable === undefined ? {} : { retryable: retryable === 'true' }),
  });
}
