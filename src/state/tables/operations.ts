/** Operations (LXD Operation) and warnings (LXD Warning). */
import { defineTable } from './define.js';
import { arr, bool, int, json, map, obj, oneOf, str, time } from './fields.js';

export interface OperationRecord {
  readonly id: string;
  readonly class: 'task' | 'websocket' | 'token';
  readonly description: string;
  readonly created_at: string;
  readonly updated_at: string;
  /** LXD status name (`Running`, `Success`, `Failure`, `Cancelled`…) and code (103, 200, 400, 401…). */
  readonly status: string;
  readonly status_code: number;
  /** Resource type → URLs (`{"instances": ["/1.0/instances/web1"]}`). */
  readonly resources: Readonly<Record<string, readonly string[]>>;
  readonly metadata: unknown;
  readonly may_cancel: boolean;
  readonly err: string;
  /** Member running the operation. */
  readonly location: string;
  readonly project: string;
  /** Request id of the API call that created it (joins log lines). */
  readonly request_id: string;
}

const UUIDISH = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const operations = defineTable<OperationRecord, [string]>({
  name: 'operations',
  noun: 'Operation',
  arity: 1,
  keyOf: (r) => [r.id],
  describe: ([id]) => `Operation "${id}"`,
  check: obj<OperationRecord>({
    id: str({ pattern: UUIDISH, what: 'a UUID' }),
    class: oneOf('task', 'websocket', 'token'),
    description: str(),
    created_at: time,
    updated_at: time,
    status: str({ nonEmpty: true }),
    status_code: int(100, 499),
    resources: map(arr(str())),
    metadata: json,
    may_cancel: bool,
    err: str(),
    location: str(),
    project: str(),
    request_id: str(),
  }),
});

export interface WarningRecord {
  readonly uuid: string;
  /** Member the warning is about ('' = cluster-wide). */
  readonly location: string;
  readonly project: string;
  readonly type: string;
  readonly entity_url: string;
  readonly count: number;
  readonly first_seen_at: string;
  readonly last_seen_at: string;
  readonly last_message: string;
  readonly severity: 'low' | 'moderate' | 'high';
  readonly status: 'new' | 'acknowledged' | 'resolved';
}

export const warnings = defineTable<WarningRecord, [string]>({
  name: 'warnings',
  noun: 'Warning',
  arity: 1,
  keyOf: (r) => [r.uuid],
  describe: ([id]) => `Warning "${id}"`,
  check: obj<WarningRecord>({
    uuid: str({ pattern: UUIDISH, what: 'a UUID' }),
    location: str(),
    project: str({ pattern: /^$|^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, what: 'a project name or empty' }),
    type: str({ nonEmpty: true }),
    entity_url: str(),
    count: int(1),
    first_seen_at: time,
    last_seen_at: time,
    last_message: str(),
    severity: oneOf('low', 'moderate', 'high'),
    status: oneOf('new', 'acknowledged', 'resolved'),
  }),
});

