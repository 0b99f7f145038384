/**
 * The one error type that crosses module and process boundaries, and its stable codes.
 *
 * Codes are the gRPC canonical names plus NOT_LEADER, so each boundary (HTTP, gRPC, CLI) maps
 * them with one total table. Never match on message text: read `code` and `retryable`.
 */

export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  NotFound: 'NOT_FOUND',
  AlreadyExists: 'ALREADY_EXISTS',
  FailedPrecondition: 'FAILED_PRECONDITION',
  /** A revision conflict or an optimistic-concurrency failure. */
  Aborted: 'ABORTED',
  Unavailable: 'UNAVAILABLE',
  DeadlineExceeded: 'DEADLINE_EXCEEDED',
  PermissionDenied: 'PERMISSION_DENIED',
  Unauthenticated: 'UNAUTHENTICATED',
  ResourceExhausted: 'RESOURCE_EXHAUSTED',
  Cancelled: 'CANCELLED',
  DataLoss: 'DATA_LOSS',
  Internal: 'INTERNAL',
  NotLeader: 'NOT_LEADER',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.Unavailable,
  ErrorCode.DeadlineExceeded,
  ErrorCode.Aborted,
  ErrorCode.NotLeader,
]);

/** Options accepted by {@link ShoalError}. */
export interface ShoalErrorOptions {
  readonly cause?: unknown;
  /** Overrides the default, which is true for UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED and NOT_LEADER. */
  readonly retryable?: boolean;
  /** Structured facts for logs and API metadata (never secrets). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * An expected failure with a stable code and an LXD-style message: sentence case, no trailing
 * period, names in double quotes (`Instance "web1" not found`).
 */
export class ShoalError extends Error {
  override readonly name: string = 'ShoalError';
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ShoalErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.details = options.details;
  }
}

/** Raised when a command run through the node agent's exec exits non-zero or cannot start. */
export class ExecError extends ShoalError {
  override readonly name: string = 'ExecError';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderrTail: string,
    options: ShoalErrorOptions & { readonly message?: string; readonly code?: ErrorCode } = {},
  ) {
    super(
      options.code ?? ErrorCode.Internal,
      options.message ??
        `Command "${argv.join(' ')}" failed` +
          (exitCode === null ? '' : ` with exit code ${exitCode}`) +
          (stderrTail ? `: ${stderrTail.trim()}` : ''),
      options,
    );
  }
}

/** Raised when a revert stack could not undo everything; `remaining` says exactly what is left. */
export class RevertIncompleteError extends ShoalError {
  override readonly name: string = 'RevertIncompleteError';
  constructor(
    readonly remaining: readonly string[],
    cause: unknown,
  ) {
    super(ErrorCode.Internal, `Revert incomplete, remaining: ${remaining.join('; ')}`, {
      cause,
      retryable: false,
      details: { remaining },
    });
  }
}

/** True when `err` is a {@link ShoalError} (optionally with the given code). */
export function isShoalError(err: unknown, code?: ErrorCode): err is ShoalError {
  return err instanceof ShoalError && (code === undefined || err.code === code);
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Wraps `err` with context the way incus does `"Failed X: %w"`: the message becomes
 * `<context>: <cause message>`, `cause` is kept, and code/retryable are inherited from a
 * ShoalError cause unless overridden.
 */
export function wrap(err: unknown, context: string, code?: ErrorCode): ShoalError {
  const inheritedCode = err instanceof ShoalError ? err.code : ErrorCode.Internal;
  const finalCode = code ?? inheritedCode;
  const options: ShoalErrorOptions =
    err instanceof ShoalError && code === undefined
      ? { cause: err, retryable: err.retryable, ...(err.details ? { details: err.details } : {}) }
      : { cause: err };
  return new ShoalError(finalCode, `${context}: ${errorMessage(err)}`, options);
}

/** Shorthands for the most common errors. */
export const errors = {
  invalid: (message: string, details?: Record<string, unknown>): ShoalError =>
    new ShoalError(ErrorCode.InvalidArgument, message, details ? { details } : {}),
  notFound: (message: string): ShoalError => new ShoalError(ErrorCode.NotFound, message),
  exists: (message: string): ShoalError => new ShoalError(ErrorCode.AlreadyExists, message),
  precondition: (message: string): ShoalError => new ShoalError(ErrorCode.FailedPrecondition, message),
  internal: (message: string, cause?: unknown): ShoalError =>
    new ShoalError(ErrorCode.Internal, message, cause === undefined ? {} : { cause }),
  unavailable: (message: string, cause?: unknown): ShoalError =>
    new ShoalError(ErrorCode.Unavailable, message, cause === undefined ? {} : { cause }),
  cancelled: (message: string): ShoalError => new ShoalError(ErrorCode.Cancelled, message),
} as const;
