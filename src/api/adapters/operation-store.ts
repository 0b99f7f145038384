/**
 * StateOperationStore: operation records in the replicated `operations` table (LXD's global
 * operations table), so a new leader finds unfinished work. The table keeps LXD's fields; what
 * only Shoal needs to re-drive an operation (its type, resumer input, token expiry) travels in the
 * record's metadata under the reserved key {@link RESUME_KEY}, which is stripped on the way out.
 */
import { operations, type OperationRecord as StateOperationRecord, type StateStore } from '../../state/index.js';
import { STATUS_TEXT, type StatusCode } from '../types/index.js';
import type { OperationRecord, OperationStore } from '../ports.js';

/** Metadata key holding `{type, input, expires_at}`. */
export const RESUME_KEY = 'shoal.resume';

interface Resume {
  readonly type: string;
  readonly input?: unknown;
  readonly expires_at?: number;
}

function toState(r: OperationRecord): StateOperationRecord {
  const resume: Resume = { type: r.type, ...(r.input !== undefined ? { input: r.input } : {}), ...(r.expiresAt !== undefined ? { expires_at: r.expiresAt } : {}) };
  return {
    id: r.id,
    class: r.class,
    description: r.description,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    status: STATUS_TEXT[r.statusCode as StatusCode] ?? 'Unknown',
    status_code: r.statusCode,
    resources: r.resources,
    metadata: { ...(r.metadata ?? {}), [RESUME_KEY]: resume },
    may_cancel: r.mayCancel,
    err: r.err,
    location: r.location,
    project: r.project,
    request_id: r.requestId,
  };
}

function fromState(s: StateOperationRecord): OperationRecord {
  const meta = (s.metadata && typeof s.metadata === 'object' ? { ...(s.metadata as Record<string, unknown>) } : {}) as Record<string, unknown>;
  const resume = (meta[RESUME_KEY] ?? { type: '' }) as Resume;
  delete meta[RESUME_KEY];
  return {
    id: s.id,
    class: s.class,
    type: resume.type,
    description: s.description,
    project: s.project,
    location: s.location,
    createdAt: s.created_at,
    updatedAt: s.updated_at,
    statusCode: s.status_code,
    resources: s.resources,
    metadata: Object.keys(meta).length > 0 || s.metadata !== null ? meta : null,
    mayCancel: s.may_cancel,
    err: s.err,
    requestId: s.request_id,
    ...(resume.input !== undefined ? { input: resume.input } : {}),
    ...(resume.expires_at !== undefined ? { expiresAt: resume.expires_at } : {}),
  };
}

/** See the module comment. Writes for one operation must be issued in order (the manager does). */
export class StateOperationStore implements OperationStore {
  constructor(private readonly store: StateStore) {}

  async put(record: OperationRecord): Promise<void> {
    const rec = toState(record);
    await this.store.update((tx) => tx.put(operations, rec));
  }

  async delete(id: string): Promise<void> {
    await this.store.update((tx) => {
      if (tx.get(operations, id)) tx.delete(operations, id);
    });
  }

  async list(): Promise<readonly OperationRecord[]> {
    const view = await this.store.view();
    return view.list(operations).map((s) => fromState(s.record));
  }
}
