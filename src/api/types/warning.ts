/** `/1.0/warnings` (shared/api/warning.go). */
import { Type, type Static } from 'typebox';
import { STRICT, Timestamp } from './common.js';

/** Warning statuses. */
export const WarningStatus = { New: 'new', Acknowledged: 'acknowledged', Resolved: 'resolved' } as const;
export type WarningStatus = (typeof WarningStatus)[keyof typeof WarningStatus];

/** `PUT|PATCH /1.0/warnings/<uuid>`: only the status is writable. */
export const WarningPut = Type.Object(
  { status: Type.Union([Type.Literal('new'), Type.Literal('acknowledged'), Type.Literal('resolved')]) },
  STRICT,
);
export type WarningPut = Static<typeof WarningPut>;

/** A warning, per member (`location`). `severity`: low, moderate, high. */
export const Warning = Type.Object({
  status: Type.String(),
  uuid: Type.String(),
  location: Type.String(),
  project: Type.String(),
  type: Type.String(),
  count: Type.Integer(),
  first_seen_at: Timestamp,
  last_seen_at: Timestamp,
  last_message: Type.String(),
  severity: Type.String(),
  entity_url: Type.String(),
});
export type Warning = Static<typeof Warning>;
