/**
 * An OperationStore kept in memory: the real implementation for a member that is not part of a
 * replicated cluster (nothing survives a restart, and nothing needs to: there is no other member
 * to take over). Clustered members use the database-backed store.
 */
import type { OperationRecord, OperationStore } from '../ports.js';

/** Records in a Map, copied on the way in and out. */
export class MemoryOperationStore implements OperationStore {
  private readonly records = new Map<string, OperationRecord>();

  put(record: OperationRecord): Promise<void> {
    this.records.set(record.id, structuredClone(record));
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.records.delete(id);
    return Promise.resolve();
  }

  list(): Promise<readonly OperationRecord[]> {
    return Promise.resolve([...this.records.values()].map((r) => structuredClone(r)));
  }
}
