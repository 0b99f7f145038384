/**
 * Building replies in LXD's envelope: sync (200, or 201 + Location when something was created),
 * async (202 + Location of the operation), and ETags. The ETag is the SHA-256 of the canonical
 * JSON (keys sorted) of whatever the handler says is the object's editable state; clients echo
 * it in `If-Match` on PUT/PATCH, and a mismatch is a 412 (LXD util.EtagCheck).
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PreconditionFailedError } from './errors.js';
import type { AsyncResponse, Operation } from './types/index.js';

/** A sync envelope around `metadata`. */
export interface SyncEnvelope<T> {
  type: 'sync';
  status: string;
  status_code: number;
  operation: string;
  error_code: number;
  error: string;
  metadata: T;
}

/** `{type:"sync", status:"Success", status_code:200, …, metadata}`. */
export function sync<T>(metadata: T): SyncEnvelope<T> {
  return { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata };
}

/** LXD's `EmptySyncResponse`: metadata `{}`. */
export function syncEmpty(): SyncEnvelope<Record<string, never>> {
  return sync({});
}

/** Sets `ETag` on the reply from `editable` and returns `envelope` (for GETs of editable objects). */
export function withEtag<T>(reply: FastifyReply, editable: unknown, envelope: T): T {
  void reply.header('ETag', `"${etagOf(editable)}"`);
  return envelope;
}

/** A 201 with `Location: url` and `metadata: null` (LXD `SyncResponseLocation(true, nil, url)`). */
export function created(reply: FastifyReply, url: string): SyncEnvelope<null> {
  void reply.code(201).header('Location', url);
  return sync(null);
}

/** A 202 with `Location: /1.0/operations/<id>` and the operation as metadata. */
export function asyncResponse(reply: FastifyReply, op: Operation): AsyncResponse {
  const url = `/1.0/operations/${op.id}`;
  void reply.code(202).header('Location', url);
  return { type: 'async', status: 'Operation created', status_code: 100, operation: url, error_code: 0, error: '', metadata: op };
}

/** Hex SHA-256 of the canonical JSON of `value`. Deterministic across key order. */
export function etagOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * Throws {@link PreconditionFailedError} when the request has an `If-Match` header that is not
 * the ETag of `current`. No header: no check (LXD). Quotes and a weak `W/` prefix are ignored.
 */
export function checkIfMatch(request: FastifyRequest, current: unknown): void {
  const header = request.headers['if-match'];
  if (header === undefined || header === '') return;
  const presented = header.replace(/^W\//, '').replace(/^"|"$/g, '');
  if (presented === '*') return;
  const actual = etagOf(current);
  if (presented !== actual) throw new PreconditionFailedError(`ETag doesn't match: ${actual} vs ${presented}`);
}

/** JSON with object keys sorted at every level; `undefined` members dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = (v as Record<string, unknown>)[k];
    return out;
  });
}
