/**
 * Warnings (LXD lxd/warnings): problems the cluster wants an operator to see, kept in the
 * replicated `warnings` table. One warning per (type, member, project, entity): raising it again
 * bumps `count`, `last_seen_at` and `last_message`, and reopens a resolved one (status `new`); an
 * acknowledged one stays acknowledged. Daemon code raises and resolves warnings with
 * {@link raiseWarning} / {@link resolveWarnings}; the API serves them at /1.0/warnings.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/index.js';
import { warnings, type StateStore, type StateView, type WarningRecord, type WriteTx } from '../../state/index.js';
import type { Warning } from '../types/index.js';

/** What a warning is about. */
export interface WarningSpec {
  /** LXD's warning type, a short phrase ("Offline cluster member", "Storage pool creation failed"). */
  readonly type: string;
  /** The member it happened on ('' = cluster-wide). */
  readonly location: string;
  /** '' when not project-specific. */
  readonly project?: string;
  /** The object it concerns (`/1.0/storage-pools/data`), or ''. */
  readonly entityUrl?: string;
  readonly message: string;
  readonly severity?: WarningRecord['severity'];
}

const sameKind = (r: WarningRecord, s: WarningSpec): boolean =>
  r.type === s.type && r.location === s.location && r.project === (s.project ?? '') && r.entity_url === (s.entityUrl ?? '');

/**
 * Records a warning, or updates the one of the same kind. Returns its uuid. One transaction.
 */
export async function raiseWarning(store: StateStore, clock: Clock, spec: WarningSpec): Promise<string> {
  let uuid = '';
  await store.update((tx) => {
    uuid = raiseWarningTx(tx, clock, spec);
  });
  return uuid;
}

/** {@link raiseWarning} inside a caller's transaction. */
export function raiseWarningTx(tx: WriteTx, clock: Clock, spec: WarningSpec): string {
  const now = new Date(clock.now()).toISOString();
  const cur = tx.list(warnings).find((w) => sameKind(w.record, spec))?.record;
  if (cur) {
    tx.put(warnings, {
      ...cur,
      count: cur.count + 1,
      last_seen_at: now,
      last_message: spec.message,
      severity: spec.severity ?? cur.severity,
      status: cur.status === 'resolved' ? 'new' : cur.status,
    });
    return cur.uuid;
  }
  const uuid = randomUUID();
  tx.create(warnings, {
    uuid,
    type: spec.type,
    location: spec.location,
    project: spec.project ?? '',
    entity_url: spec.entityUrl ?? '',
    count: 1,
    first_seen_at: now,
    last_seen_at: now,
    last_message: spec.message,
    severity: spec.severity ?? 'moderate',
    status: 'new',
  });
  return uuid;
}

/**
 * Marks the matching warnings resolved: the problem went away. Returns how many changed.
 */
export async function resolveWarnings(store: StateStore, match: WarningMatch): Promise<number> {
  let n = 0;
  await store.update((tx) => {
    n = resolveWarningsTx(tx, match);
  });
  return n;
}

/** Which warnings {@link resolveWarnings} resolves: every given field must match. */
export interface WarningMatch {
  readonly type?: string;
  readonly location?: string;
  readonly entityUrl?: string;
}

/** {@link resolveWarnings} inside a caller's transaction. */
export function resolveWarningsTx(tx: WriteTx, match: WarningMatch): number {
  let n = 0;
  for (const w of tx.list(warnings)) {
    const r = w.record;
    if (r.status === 'resolved') continue;
    if (match.type !== undefined && r.type !== match.type) continue;
    if (match.location !== undefined && r.location !== match.location) continue;
    if (match.entityUrl !== undefined && r.entity_url !== match.entityUrl) continue;
    tx.put(warnings, { ...r, status: 'resolved' });
    n++;
  }
  return n;
}

/** The API view of a record. */
export function toApiWarning(r: WarningRecord): Warning {
  return { ...r };
}

/** Warnings visible in `project` (undefined = all), sorted by first sighting. */
export function listWarnings(view: StateView, project: string | undefined): WarningRecord[] {
  return view
    .list(warnings)
    .map((w) => w.record)
    .filter((r) => project === undefined || r.project === project)
    .sort((a, b) => a.first_seen_at.localeCompare(b.first_seen_at) || a.uuid.localeCompare(b.uuid));
}
