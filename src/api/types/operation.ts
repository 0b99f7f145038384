/** Operations (shared/api/operation.go). */
import { Type, type Static } from 'typebox';
import { StringList, Timestamp } from './common.js';

/** `class` of an operation. */
export const OperationClass = { Task: 'task', Websocket: 'websocket', Token: 'token' } as const;
export type OperationClass = (typeof OperationClass)[keyof typeof OperationClass];

/**
 * An operation as clients see it. `resources` maps a resource type to URLs and is never null
 * (lxc skips token operations whose resources are nil). Metadata values that end in
 * `_progress` are strings (lxc panics on anything else).
 */
export const Operation = Type.Object({
  id: Type.String(),
  class: Type.Union([Type.Literal('task'), Type.Literal('websocket'), Type.Literal('token')]),
  description: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
  status: Type.String(),
  status_code: Type.Integer(),
  resources: Type.Record(Type.String(), StringList),
  metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  may_cancel: Type.Boolean(),
  err: Type.String(),
  location: Type.String(),
});
export type Operation = Static<typeof Operation>;

/** `GET /1.0/operations`: URLs keyed by lower-cased status (`running`, `success`, `failure`, `cancelled`). */
export const OperationUrlsByStatus = Type.Record(Type.String(), StringList);
export type OperationUrlsByStatus = Static<typeof OperationUrlsByStatus>;

/** `GET /1.0/operations?recursion=1`: operations keyed by lower-cased status. */
export const OperationsByStatus = Type.Record(Type.String(), Type.Array(Operation));
export type OperationsByStatus = Static<typeof OperationsByStatus>;
