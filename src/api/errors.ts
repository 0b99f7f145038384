/**
 * The one place where errors become HTTP responses (registered with `setErrorHandler` and
 * `setNotFoundHandler`). Every failure leaves as LXD's error envelope
 * `{type:"error", status:"", status_code:0, operation:"", error_code:<http>, error:<message>,
 * metadata:null}` with the same HTTP status:
 *
 * | code                | HTTP | why (LXD precedent)                                                   |
 * |---------------------|------|-----------------------------------------------------------------------|
 * | INVALID_ARGUMENT    | 400  | response.BadRequest                                                   |
 * | FAILED_PRECONDITION | 400  | LXD answers "instance is running", "only running operations can be    |
 * |                     |      | cancelled", … with BadRequest; conflicts on names are ALREADY_EXISTS  |
 * | NOT_FOUND           | 404  | response.NotFound                                                     |
 * | ALREADY_EXISTS      | 409  | response.Conflict                                                     |
 * | ABORTED             | 409  | a revision conflict between two writers (retryable)                   |
 * | (If-Match mismatch) | 412  | {@link PreconditionFailedError}, response.PreconditionFailed           |
 * | PERMISSION_DENIED   | 403  | response.Forbidden                                                    |
 * | UNAUTHENTICATED     | 403  | LXD answers untrusted callers 403 "not authorized", never 401          |
 * | RESOURCE_EXHAUSTED  | 507  | out of space/capacity on the chosen member                            |
 * | CANCELLED           | 400  | the request's work was cancelled                                       |
 * | UNAVAILABLE         | 503  | response.Unavailable (no leader, member offline, quorum lost)          |
 * | NOT_LEADER          | 503  | a forwarded request reached a member that lost leadership: retry       |
 * | DEADLINE_EXCEEDED   | 504  | a timeout inside Shoal                                                 |
 * | DATA_LOSS, INTERNAL | 500  | message kept: Shoal's INTERNAL messages are written for users (LXD     |
 * |                     |      | shows them too, and they are the operator's main clue)                 |
 *
 * Anything that is not a ShoalError (a bug: TypeError, …) becomes 500 "Internal server error",
 * with the original logged under `err`. fastify's own errors keep their 4xx status (bad JSON,
 * body too large, …); schema validation failures become 400 with a message naming the field.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, ShoalError, type Logger } from '../shared/index.js';
import type { ErrorResponse } from './types/index.js';

/** An `If-Match` header that does not match the current ETag: HTTP 412. */
export class PreconditionFailedError extends ShoalError {
  override readonly name: string = 'PreconditionFailedError';
  constructor(message: string) {
    super(ErrorCode.Aborted, message, { retryable: false });
  }
}

/** HTTP status of each error code (the table above). */
export const HTTP_STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 403,
  RESOURCE_EXHAUSTED: 507,
  CANCELLED: 400,
  UNAVAILABLE: 503,
  NOT_LEADER: 503,
  DEADLINE_EXCEEDED: 504,
  DATA_LOSS: 500,
  INTERNAL: 500,
};

/** The message sent for failures that are bugs. */
export const GENERIC_INTERNAL_MESSAGE = 'Internal server error';

/** Builds the error envelope. */
export function errorEnvelope(status: number, message: string): ErrorResponse {
  return { type: 'error', status: '', status_code: 0, operation: '', error_code: status, error: message, metadata: null };
}

/** HTTP status and user-facing message for any thrown value; `internal` says whether it was a bug. */
export function describeError(err: unknown): { status: number; message: string; internal: boolean } {
  if (err instanceof PreconditionFailedError) return { status: 412, message: err.message, internal: false };
  if (err instanceof ShoalError) return { status: HTTP_STATUS_OF_CODE[err.code], message: err.message, internal: false };
  if (isFastifyError(err)) {
    if (err.validation) return { status: 400, message: validationMessage(err), internal: false };
    const status = err.statusCode ?? 500;
    if (status < 500) return { status, message: err.message, internal: false };
  }
  return { status: 500, message: GENERIC_INTERNAL_MESSAGE, internal: true };
}

/** The message an operation's `err` shows for a failure (same rules as the HTTP boundary). */
export function operationErrorMessage(err: unknown): string {
  return describeError(err).message;
}

/** fastify `setErrorHandler` target. */
export function onError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, message, internal } = describeError(err);
  logFailure(request.log, err, status, internal);
  void reply.code(status).type('application/json').send(errorEnvelope(status, message));
}

/** fastify `setNotFoundHandler` target: LXD answers unknown paths 404 "not found". */
export function onNotFound(_request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).type('application/json').send(errorEnvelope(404, 'not found'));
}

function logFailure(log: Logger | FastifyRequest['log'], err: unknown, status: number, internal: boolean): void {
  if (internal) log.error({ err }, 'request failed with an internal error');
  else if (status >= 500) log.warn({ err }, 'request failed');
  else log.debug({ err }, 'request rejected');
}

interface ValidationIssue {
  readonly keyword?: string;
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

function isFastifyError(err: unknown): err is FastifyError & { validation?: ValidationIssue[]; validationContext?: string } {
  return err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string';
}

const WHERE: Readonly<Record<string, string>> = {
  body: 'request body',
  querystring: 'query string',
  params: 'URL',
  headers: 'headers',
};

/**
 * A one-line message naming the offending field: `Unknown field "foo" in request body`,
 * `Missing field "name" in request body`, `Invalid value for "config.limits" in request body: must
 * be string`. Among several issues the most specific one is reported.
 */
export function validationMessage(err: { validation?: readonly ValidationIssue[]; validationContext?: string }): string {
  const where = WHERE[err.validationContext ?? 'body'] ?? 'request';
  const issues = err.validation ?? [];
  const pick =
    issues.find((i) => i.keyword === 'additionalProperties') ??
    issues.find((i) => i.keyword === 'required') ??
    issues.find((i) => i.keyword !== 'boolean' && i.keyword !== 'anyOf') ??
    issues[0];
  if (!pick) return `Invalid ${where}`;
  const path = fieldPath(pick.instancePath ?? '');
  const prefix = path ? `${path}.` : '';
  const params = pick.params ?? {};
  if (pick.keyword === 'additionalProperties') {
    const extra = firstString(params['additionalProperties'] ?? params['additionalProperty']);
    if (extra !== undefined) return `Unknown field "${prefix}${extra}" in ${where}`;
  }
  if (pick.keyword === 'required') {
    const missing = firstString(params['requiredProperties'] ?? params['missingProperty']);
    if (missing !== undefined) return `Missing field "${prefix}${missing}" in ${where}`;
  }
  const what = pick.message ?? 'is invalid';
  return path ? `Invalid value for "${path}" in ${where}: ${what}` : `Invalid ${where}: ${what}`;
}

function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function firstString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}
