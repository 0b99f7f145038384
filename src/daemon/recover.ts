/**
 * Quorum-loss recovery (`shoald cluster recover`; LXD `lxd cluster recover-from-quorum-loss`,
 * swarmkit/etcd `--force-new-cluster`): makes this member the sole voter of the cluster from its
 * own log. Runs on a stopped member's database (the daemon stops its member first when asked
 * online, see daemon.ts).
 *
 * How: the membership in force at the end of the local log is computed (snapshot ConfState, then
 * every ConfChange entry after it); one RemoveNode entry per other member is appended at a new
 * term, and the hard state commits everything through them. On start-up the Raft runtime applies
 * those entries like any committed change, so this member is then the only voter and elects
 * itself at once. The entries of the local log past the old commit index are kept and committed
 * (the survivor's log is the best record left; etcd drops them instead).
 *
 * The removed members must not be restarted with their old state: they would still believe in the
 * old membership. Remove them (`DELETE /1.0/cluster/members/<name>?force=1`) and let them rejoin
 * with a new token from a wiped state dir.
 */
import { ClassicLevel } from 'classic-level';
import {
  ConfChangeType,
  EntryType,
  LevelLogStorage,
  decodeConfChange,
  encodeConfChange,
  type Entry,
  type NodeId,
  type RaftLogger,
  type SharedLevel,
} from '../raft/index.js';
import { ErrorCode, ShoalError } from '../shared/index.js';

/** What a recovery did. */
export interface RecoveryResult {
  /** Raft ids and addresses (`name@host:port`) of the members taken out of the configuration. */
  readonly removed: ReadonlyArray<{ readonly id: NodeId; readonly address: string }>;
  /** The new term and last index of the log. */
  readonly term: number;
  readonly lastIndex: number;
}

/** Membership at the end of `storage`'s log, with the addresses the log carries. */
export function membershipOfLog(storage: LevelLogStorage): { voters: Set<NodeId>; learners: Set<NodeId>; addresses: Map<NodeId, string> } {
  const snap = storage.snapshot();
  const voters = new Set<NodeId>(snap.meta.confState.voters);
  const learners = new Set<NodeId>(snap.meta.confState.learners);
  const addresses = new Map<NodeId, string>();
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  if (last >= first) {
    for (const e of storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type !== EntryType.ConfChange) continue;
      const cc = decodeConfChange(e.data);
      switch (cc.type) {
        case ConfChangeType.AddNode:
          learners.delete(cc.nodeId);
          voters.add(cc.nodeId);
          break;
        case ConfChangeType.AddLearner:
          voters.delete(cc.nodeId);
          learners.add(cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          voters.delete(cc.nodeId);
          learners.delete(cc.nodeId);
          addresses.delete(cc.nodeId);
          continue;
      }
      if (cc.context.byteLength > 0) addresses.set(cc.nodeId, new TextDecoder().decode(cc.context));
    }
  }
  return { voters, learners, addresses };
}

/**
 * Rewrites the Raft membership in `db` (the member's LevelDB, not in use by a running node) so
 * that `selfId` is the only voter. FAILED_PRECONDITION when this member is not a voter in its own
 * log (a standby's log may lack committed entries: recover on a `database` member) or is already
 * the only member.
 */
export async function recoverAsSoleVoter(db: SharedLevel, selfId: NodeId, logger?: RaftLogger): Promise<RecoveryResult> {
  const storage = await LevelLogStorage.open({ db, ...(logger ? { logger } : {}) });
  try {
    const { voters, learners, addresses } = membershipOfLog(storage);
    if (!voters.has(selfId)) {
      throw new ShoalError(ErrorCode.FailedPrecondition, `This member (raft id ${selfId}) is not a voter in its log; recover on a member with role "database"`);
    }
    const others = [...voters, ...learners].filter((id) => id !== selfId).sort((a, b) => a - b);
    if (others.length === 0) throw new ShoalError(ErrorCode.FailedPrecondition, 'This member is already the only member of its cluster; nothing to recover');
    const { hardState } = storage.initialState();
    const last = storage.lastIndex();
    const term = Math.max(hardState.term, last > 0 ? storage.term(last) : 0) + 1;
    const entries: Entry[] = others.map((id, i) => ({
      term,
      index: last + 1 + i,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array() }),
    }));
    const lastIndex = last + entries.length;
    await storage.persist({ entries, hardState: { term, vote: selfId, commit: lastIndex }, sync: true });
    return { removed: others.map((id) => ({ id, address: addresses.get(id) ?? '' })), term, lastIndex };
  } finally {
    await storage.close();
  }
}

/**
 * Opens the member's database at `dbPath` (LevelDB; UNAVAILABLE when a running daemon holds it),
 * recovers it with {@link recoverAsSoleVoter} and closes it again.
 */
export async function recoverDatabase(dbPath: string, selfId: NodeId, logger?: RaftLogger): Promise<RecoveryResult> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dbPath, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open();
  } catch (err) {
    throw new ShoalError(ErrorCode.Unavailable, `Cannot open the member database "${dbPath}" (is the daemon running?)`, { cause: err });
  }
  try {
    return await recoverAsSoleVoter(db, selfId, logger);
  } finally {
    await db.close();
  }
}
