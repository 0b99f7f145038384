// A real one-member cluster database in-process for API tests: LevelDB in a temp dir, a RaftNode
// (one voter, no peers: it elects itself), the LevelKvStateMachine and a StateStore, with member
// `m1` advertised (which creates the default project, profile and group). `close()` removes it all.
import { ClassicLevel } from 'classic-level';
import { LevelLogStorage, RaftNode, type Transport } from '../../../src/raft/index.js';
import { seededRng, silentLogger, systemClock } from '../../../src/shared/index.js';
import { advertiseMember, LevelKvStateMachine, StateStore, type KvApplyResult } from '../../../src/state/index.js';
import { makeTempDir } from '../tmpdir.js';

/** A transport for a cluster of one: there is never anyone to send to. */
class LoneTransport implements Transport {
  send(): void {}
  onMessage(): void {}
  onReport(): void {}
  setPeer(): void {}
  removePeer(): void {}
  async close(): Promise<void> {}
}

export interface OneMemberDb {
  readonly store: StateStore;
  readonly raft: RaftNode<KvApplyResult>;
  readonly dir: string;
  close(): Promise<void>;
}

/** Opens the database and waits until its member leads and `m1` is advertised. */
export async function openOneMemberDb(member = 'm1'): Promise<OneMemberDb> {
  const tmp = await makeTempDir('api-db');
  const db = new ClassicLevel<Uint8Array, Uint8Array>(tmp.path, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const log = silentLogger();
  const storage = await LevelLogStorage.open({ db, logger: log });
  const sm = await LevelKvStateMachine.open(db);
  const raft = await RaftNode.start<KvApplyResult>({
    id: 1,
    storage,
    stateMachine: sm,
    transport: new LoneTransport(),
    clock: systemClock,
    rng: seededRng(1),
    logger: log,
    tickMs: 10,
    electionTick: 3,
    bootstrap: [{ id: 1, address: '127.0.0.1:1' }],
  });
  const close = async (): Promise<void> => {
    await raft.close();
    await sm.flush();
    await db.close();
    await tmp.remove();
  };
  try {
    for (let i = 0; raft.leader !== 1; i++) {
      if (i > 500) throw new Error('one-member raft did not elect itself');
      await new Promise((r) => setTimeout(r, 10));
    }
    const store = new StateStore({ sm, raft });
    await store.update((tx) =>
      advertiseMember(tx, {
        server_name: member,
        raft_id: 1,
        url: 'https://127.0.0.1:8443',
        architecture: 'x86_64',
        schema_max: store.schemaMax,
        resources: { cpu: 2, memory_bytes: 4 * 2 ** 30, storage_pools: {} },
        last_heartbeat: new Date().toISOString(),
      }),
    );
    return { store, raft, dir: tmp.path, close };
  } catch (err) {
    await close();
    throw err;
  }
}
