/**
 * The typed REST client: LXD envelopes decoded, errors turned into ShoalError carrying the
 * server's message, async operations waited on through `/1.0/operations/<id>/wait` (pylxd's way;
 * no events websocket needed). Resource helpers live in resources.ts; this file is the protocol.
 */
import type { Readable } from 'node:stream';
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { AnyResponse, Operation } from '../../api/types/index.js';
import type { RawResponse, Transport } from './transport.js';

/** ErrorCode of an HTTP status (the inverse of the server's table, total over statuses). */
export function errorCodeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return ErrorCode.InvalidArgument;
    case 401:
      return ErrorCode.Unauthenticated;
    case 403:
      return ErrorCode.PermissionDenied;
    case 404:
      return ErrorCode.NotFound;
    case 409:
      return ErrorCode.AlreadyExists;
    case 412:
      return ErrorCode.Aborted;
    case 429:
      return ErrorCode.ResourceExhausted;
    case 503:
      return ErrorCode.Unavailable;
    case 504:
      return ErrorCode.DeadlineExceeded;
    default:
      return status >= 500 ? ErrorCode.Internal : ErrorCode.FailedPrecondition;
  }
}

/** Query parameters; undefined values are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** Request scope shared by most calls: `?project=` and `?target=`. */
export interface Scope {
  readonly project?: string | undefined;
  readonly target?: string | undefined;
}

/** Builds `path?query` (values URI-encoded). */
export function withQuery(path: string, query: Query = {}): string {
  const parts = Object.entries(query)
    .filter((e): e is [string, string | number | boolean] => e[1] !== undefined && e[1] !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  if (parts.length === 0) return path;
  return path + (path.includes('?') ? '&' : '?') + parts.join('&');
}

/** Progress reports of a running operation (`*_progress` metadata, as lxc prints them). */
export type ProgressListener = (text: string) => void;

/** The result of a sync call. */
export interface SyncResult<T> {
  readonly metadata: T;
  readonly etag: string | undefined;
  readonly status: number;
}

/** Decodes one raw answer into its envelope; non-JSON or error answers throw ShoalError. */
export function decodeEnvelope(res: RawResponse, what: string): AnyResponse {
  let env: AnyResponse;
  try {
    env = JSON.parse(res.body.toString('utf8')) as AnyResponse;
  } catch (err) {
    throw new ShoalError(
      res.status >= 400 ? errorCodeOfStatus(res.status) : ErrorCode.Internal,
      `Invalid answer to ${what} (HTTP ${res.status})`,
      { cause: err },
    );
  }
  if (typeof env !== 'object' || env === null || typeof env.type !== 'string') {
    throw new ShoalError(ErrorCode.Internal, `Invalid answer to ${what}: not an LXD envelope`);
  }
  if (env.type === 'error' || res.status >= 400) {
    const status = env.error_code || res.status;
    throw new ShoalError(errorCodeOfStatus(status), env.error || `HTTP ${res.status}`, {
      details: { status },
    });
  }
  return env;
}

/** A REST client bound to one server. */
export class ShoalClient {
  constructor(readonly transport: Transport) {}

  /** Raw request returning the decoded envelope. */
  async call(method: string, path: string, body?: unknown, headers: Readonly<Record<string, string>> = {}): Promise<{ env: AnyResponse; res: RawResponse }> {
    const res = await this.transport.request({
      method,
      path,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { env: decodeEnvelope(res, `${method} ${path.split('?')[0]}`), res };
  }

  /** GET a sync resource. */
  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.getWithEtag<T>(path, query)).metadata;
  }

  /** GET a sync resource with its ETag (for PUT with If-Match). */
  async getWithEtag<T>(path: string, query?: Query): Promise<SyncResult<T>> {
    const { env, res } = await this.call('GET', withQuery(path, query));
    const etag = res.headers.etag;
    return { metadata: env.metadata as T, etag: typeof etag === 'string' ? etag : undefined, status: res.status };
  }

  /**
   * Any mutating call: when the server answers with an operation, waits for it and returns the
   * final operation; a sync answer returns its metadata. A failed operation throws its `err`.
   */
  async send<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: { query?: Query; etag?: string | undefined; progress?: ProgressListener | undefined } = {},
  ): Promise<T> {
    const headers: Record<string, string> = opts.etag ? { 'if-match': opts.etag } : {};
    const { env } = await this.call(method, withQuery(path, opts.query), body, headers);
    if (env.type === 'async') return (await this.waitOperation(env.metadata as Operation, opts.progress)) as T;
    return env.metadata as T;
  }

  /** Like {@link send} but returns the operation without waiting (exec, token operations). */
  async start(method: string, path: string, body?: unknown, query?: Query): Promise<Operation> {
    const { env } = await this.call(method, withQuery(path, query), body);
    if (env.type !== 'async') throw new ShoalError(ErrorCode.Internal, `Expected an operation from ${method} ${path}`);
    return env.metadata as Operation;
  }

  /** Uploads a stream (image import) and waits for the operation it starts. */
  async upload<T = unknown>(
    path: string,
    body: Readable,
    headers: Readonly<Record<string, string>>,
    opts: { query?: Query; progress?: ProgressListener | undefined } = {},
  ): Promise<T> {
    const res = await this.transport.request({ method: 'POST', path: withQuery(path, opts.query), headers, body });
    const env = decodeEnvelope(res, `POST ${path}`);
    if (env.type === 'async') return (await this.waitOperation(env.metadata as Operation, opts.progress)) as T;
    return env.metadata as T;
  }

  /**
   * Waits for an operation to finish. Long-polls `/wait?timeout=1` so that progress metadata
   * can be reported between polls; throws ShoalError with the operation's `err` on failure.
   */
  async waitOperation(op: Operation, progress?: ProgressListener | undefined): Promise<Operation> {
    let current = op;
    let shown = '';
    for (;;) {
      if (current.status_code >= 200) break;
      if (progress) {
        const text = progressText(current);
        if (text !== '' && text !== shown) progress((shown = text));
      }
      const timeout = progress ? 1 : -1;
      const { env } = await this.call('GET', withQuery(`/1.0/operations/${encodeURIComponent(current.id)}/wait`, { timeout }))
        .catch((err: unknown) => {
          // /wait reports its own timeout as an error envelope under HTTP 200 (LXD 5.0.9+).
          if (err instanceof ShoalError && err.code === ErrorCode.DeadlineExceeded) return { env: undefined };
          throw err;
        });
      if (env) current = env.metadata as Operation;
      else current = await this.get<Operation>(`/1.0/operations/${encodeURIComponent(current.id)}`);
    }
    if (current.status_code !== 200) {
      const code = current.status_code === 401 ? ErrorCode.Cancelled : ErrorCode.FailedPrecondition;
      throw new ShoalError(code, current.err || `Operation ${current.status.toLowerCase()}`);
    }
    return current;
  }
}

/** The operation's progress as lxc shows it (`*_progress` keys, or `progress.percent`). */
export function progressText(op: Operation): string {
  const md = op.metadata ?? {};
  for (const [k, v] of Object.entries(md)) if (k.endsWith('_progress') && typeof v === 'string') return v;
  const p = md['progress'];
  if (p && typeof p === 'object' && 'percent' in p) return `${String((p as { percent: unknown }).percent)}%`;
  return '';
}
