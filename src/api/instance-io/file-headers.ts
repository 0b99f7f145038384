/**
 * The `X-LXD-*` headers of the instance file API, parsed and validated as LXD's
 * `shared.ParseLXDFileHeaders` does (a malformed header is a 400, never silently ignored):
 * - `X-LXD-uid`, `X-LXD-gid`: base-10 integers (-1 or absent = unset);
 * - `X-LXD-mode`: permission bits, octal with a leading `0` (`0644`, as lxc sends `%04o`),
 *   `0o`/`0x` prefixes, or decimal; masked with 0777;
 * - `X-LXD-type`: `file` (default), `directory` or `symlink`;
 * - `X-LXD-write`: `overwrite` (default) or `append`.
 * Pure.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from '../../shared/index.js';

/** The file types of the API. */
export type FileKind = 'file' | 'directory' | 'symlink';

/** Parsed push headers. */
export interface FileHeaders {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  readonly type: FileKind;
  readonly write: 'overwrite' | 'append';
}

const MAX_ID = 0xffffffff;

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s.trim();
}

function parseId(raw: string | undefined, what: 'UID' | 'GID'): number | undefined {
  if (raw === undefined || raw === '-1') return undefined;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > MAX_ID) throw errors.invalid(`Invalid ${what}: "${raw}"`);
  return Number(raw);
}

/** Go's `strconv.ParseInt(raw, 0, 0)` for non-negative values, masked to permission bits. */
function parseMode(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(raw)) n = parseInt(raw.slice(2), 16);
  else if (/^0[oO][0-7]+$/.test(raw)) n = parseInt(raw.slice(2), 8);
  else if (/^0[0-7]*$/.test(raw)) n = parseInt(raw, 8);
  else if (/^[1-9]\d*$/.test(raw)) n = Number(raw);
  else throw errors.invalid(`Invalid Mode: "${raw}"`);
  if (!Number.isSafeInteger(n)) throw errors.invalid(`Invalid Mode: "${raw}"`);
  return n & 0o777;
}

/** Parses the headers of a file push. Throws INVALID_ARGUMENT naming the bad header. */
export function parseFileHeaders(h: IncomingHttpHeaders): FileHeaders {
  const uid = parseId(header(h, 'x-lxd-uid'), 'UID');
  const gid = parseId(header(h, 'x-lxd-gid'), 'GID');
  const mode = parseMode(header(h, 'x-lxd-mode'));
  const type = header(h, 'x-lxd-type') ?? 'file';
  if (type !== 'file' && type !== 'directory' && type !== 'symlink') throw errors.invalid(`Bad file type: ${type}`);
  const write = header(h, 'x-lxd-write') ?? 'overwrite';
  if (write !== 'overwrite' && write !== 'append') throw errors.invalid(`Bad file write mode: ${write}`);
  return { ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }), ...(mode === undefined ? {} : { mode }), type, write };
}

/** `X-LXD-mode` as LXD sends it in answers: `%04o`. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * The `path` query parameter: required, made absolute as LXD does (`etc/hosts` → `/etc/hosts`).
 * Throws INVALID_ARGUMENT "Missing path argument".
 */
export function filePathParam(path: string | undefined): string {
  if (path === undefined || path === '') throw errors.invalid('Missing path argument');
  if (path.includes('\0')) throw errors.invalid('Invalid path: contains a NUL byte');
  return path.startsWith('/') ? path : `/${path}`;
}
