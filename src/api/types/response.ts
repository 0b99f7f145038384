/**
 * The LXD response envelope (shared/api/response.go, lxd/response/response.go). Sync replies are
 * HTTP 200 (201 with a Location header when something was created), async replies are HTTP 202
 * with `Location: /1.0/operations/<id>` and the Operation as metadata, errors carry the HTTP
 * status again in `error_code` and `metadata: null`.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Operation } from './operation.js';

/** `type` of an envelope. */
export const ResponseType = { Sync: 'sync', Async: 'async', Error: 'error' } as const;
export type ResponseType = (typeof ResponseType)[keyof typeof ResponseType];

const envelopeFields = {
  status: Type.String(),
  status_code: Type.Integer(),
  operation: Type.String(),
  error_code: Type.Integer(),
  error: Type.String(),
};

/** A sync envelope around `metadata`. */
export function SyncResponse<T extends TSchema>(metadata: T) {
  return Type.Object({ type: Type.Literal('sync'), ...envelopeFields, metadata });
}

/** The async envelope: metadata is the Operation just created. */
export const AsyncResponse = Type.Object({ type: Type.Literal('async'), ...envelopeFields, metadata: Operation });
export type AsyncResponse = Static<typeof AsyncResponse>;

/** The error envelope. */
export const ErrorResponse = Type.Object({ type: Type.Literal('error'), ...envelopeFields, metadata: Type.Null() });
export type ErrorResponse = Static<typeof ErrorResponse>;

/** Sync envelope with an empty object as metadata (LXD `EmptySyncResponse`). */
export const EmptySyncResponse = SyncResponse(Type.Object({}));
export type EmptySyncResponse = Static<typeof EmptySyncResponse>;

/** Sync envelope with `metadata: null` (LXD `SyncResponseLocation(true, nil, url)`). */
export const NullSyncResponse = SyncResponse(Type.Null());
export type NullSyncResponse = Static<typeof NullSyncResponse>;

/** Sync envelope listing resource URLs (`recursion=0`). */
export const UrlListResponse = SyncResponse(Type.Array(Type.String()));
export type UrlListResponse = Static<typeof UrlListResponse>;

/** The generic shape of any envelope, as clients decode it. */
export const AnyResponse = Type.Object({
  type: Type.Union([Type.Literal('sync'), Type.Literal('async'), Type.Literal('error')]),
  ...envelopeFields,
  metadata: Type.Unknown(),
});
export type AnyResponse = Static<typeof AnyResponse>;
