// Quorum-loss recovery of a Raft log on disk (src/daemon/recover.ts): a three-voter log becomes a
// one-voter log (RemoveNode entries at a new term, committed), the removed members' addresses are
// reported, and a non-voter or an already-alone member is refused. Real LevelDB in a temp dir.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { ConfChangeType, EntryType, LevelLogStorage, encodeConfChange } from '../../../src/raft/index.js';
import { isShoalError, ErrorCode } from '../../../src/shared/index.js';
import { membershipOfLog, recoverDatabase } from '../../../src/daemon/recover.js';
import { makeTempDir } from '../../support/tmpdir.js';

describe('src/daemon/recover', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let dbPath: string;
  beforeEach(async () => {
    dir = await makeTempDir('cl-recover');
    dbPath = join(dir.path, 'db');
    const storage = await LevelLogStorage.open({ path: dbPath });
    const entries = [1, 2, 3].map((id) => ({
      term: 1,
      index: id,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: id, context: new TextEncoder().encode(`m${id}@127.0.0.1:${7000 + id}`) }),
    }));
    await storage.persist({ entries, hardState: { term: 4, vote: 1, commit: 3 }, sync: true });
    await storage.close();
  });
  afterEach(() => dir.remove());

  describe('recoverDatabase', () => {
    it('makes the member the sole voter with committed RemoveNode entries at a new term', async () => {
      const res = await recoverDatabase(dbPath, 3);
      assert.deepEqual(res, {
        removed: [
          { id: 1, address: 'm1@127.0.0.1:7001' },
          { id: 2, address: 'm2@127.0.0.1:7002' },
        ],
        term: 5,
        lastIndex: 5,
      });
      const storage = await LevelLogStorage.open({ path: dbPath });
      try {
        const m = membershipOfLog(storage);
        assert.deepEqual([[...m.voters], [...m.learners], [...m.addresses]], [[3], [], [[3, 'm3@127.0.0.1:7003']]]);
        assert.deepEqual(storage.initialState().hardState, { term: 5, vote: 3, commit: 5 });
      } finally {
        await storage.close();
      }
    });

    it('refuses a member that is not a voter, and a member already alone', async () => {
      await assert.rejects(recoverDatabase(dbPath, 9), (err) => isShoalError(err, ErrorCode.FailedPrecondition) && /raft id 9\) is not a voter/.test((err as Error).message));
      await recoverDatabase(dbPath, 1);
      await assert.rejects(recoverDatabase(dbPath, 1), (err) => isShoalError(err, ErrorCode.FailedPrecondition) && /already the only member/.test((err as Error).message));
    });
  });
});
