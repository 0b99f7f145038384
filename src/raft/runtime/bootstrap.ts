/**
 * Bootstrapping a brand-new cluster (etcd `RawNode.Bootstrap`): every initial member writes the
 * same log — one AddNode ConfChange entry per member at term 1, indexes 1..n, committed — so they
 * all start with identical logs and learn the membership by applying those entries.
 */
import { encodeConfChange } from '../core/index.js';
import type { DurableLogStorage } from '../ports.js';
import { ConfChangeType, EntryType, type Entry, type NodeId } from '../types.js';

/** A member of the initial configuration. */
export interface InitialMember {
  readonly id: NodeId;
  readonly address: string;
}

/** True when `storage` holds nothing at all (no hard state, entries or snapshot). */
export function isEmptyStorage(storage: DurableLogStorage): boolean {
  const { hardState } = storage.initialState();
  return storage.lastIndex() === 0 && storage.snapshot().meta.index === 0 && hardState.term === 0 && hardState.vote === 0;
}

/**
 * Writes the initial configuration into empty `storage` (one synced batch). Members are sorted by
 * id so that every member writes byte-identical entries whatever order it was given them in.
 */
export async function bootstrapStorage(storage: DurableLogStorage, members: readonly InitialMember[]): Promise<void> {
  const sorted = [...members].sort((a, b) => a.id - b.id);
  const entries: Entry[] = sorted.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: m.id, context: new TextEncoder().encode(m.address) }),
  }));
  await storage.persist({ entries, hardState: { term: 1, vote: 0, commit: entries.length }, sync: true });
}
