/*
 * RaftNode over the real parts in one process: LevelLogStorage and LevelKvStateMachine sharing one
 * classic-level database, a real GrpcTransport (one voter, so nothing is sent). Covers automatic
 * snapshots with log compaction on real storage and an exact restart from disk (nothing re-applied).
 */
import { strict as assert } from 'node:assert';
import { ClassicLevel } from 'classic-level';
import { join } from 'node:path';
import { GrpcTransport, LevelLogStorage, RaftNode } from '../../../src/raft/index.js';
import { seededRng, silentLogger, systemClock } from '../../../src/shared/index.js';
import { LevelKvStateMachine, encodeCommand, type KvApplyResult } from '../../../src/state/index.js';
import { createTestPki, type TestPki } from '../../support/pki.js';
import { makeTempDir } from '../../support/tmpdir.js';

describe('src/raft/runtime/raft-node', function () {
  this.timeout(30_000);
  let dir: { path: string; remove: () => Promise<void> };
  let pki: TestPki;
  const open: { node: RaftNode<KvApplyResult>; sm: LevelKvStateMachine; db: ClassicLevel<Uint8Array, Uint8Array> }[] = [];

  async function start(): Promise<{ node: RaftNode<KvApplyResult>; sm: LevelKvStateMachine }> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir.path, 'db'), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const log = silentLogger();
    const storage = await LevelLogStorage.open({ db, logger: log });
    const sm = await LevelKvStateMachine.open(db);
    const tls = await pki.issue('m1');
    const transport = new GrpcTransport({ id: 1, tls, clock: systemClock, rng: seededRng(1), logger: log });
    const node = await RaftNode.start<KvApplyResult>({
      id: 1,
      storage,
      stateMachine: sm,
      transport,
      clock: systemClock,
      rng: seededRng(1),
      logger: log,
      tickMs: 10,
      snapshotEntries: 10,
      snapshotTrailing: 2,
      bootstrap: [{ id: 1, address: 'm1@127.0.0.1:1' }],
    });
    open.push({ node, sm, db });
    return { node, sm };
  }

  async function stopAll(): Promise<void> {
    for (const { node, sm, db } of open.splice(0)) {
      await node.close();
      await sm.flush();
      await db.close();
    }
  }

  async function leader(node: RaftNode<KvApplyResult>): Promise<void> {
    for (let i = 0; i < 500 && node.status().softState.role !== 'Leader'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(node.status().softState.role, 'Leader');
  }

  before(async () => {
    pki = await createTestPki();
  });
  after(async () => {
    await pki.remove();
  });
  beforeEach(async () => {
    dir = await makeTempDir('raft-node-level');
  });
  afterEach(async () => {
    await stopAll();
    await dir.remove();
  });

  describe('RaftNode on LevelDB', () => {
    it('snapshots and compacts the log, then restarts with exactly the same state', async () => {
      let { node, sm } = await start();
      await leader(node);
      for (let i = 0; i < 35; i++) {
        const r = await node.propose(encodeCommand({ kind: 'put', key: `k${i}`, value: new TextEncoder().encode(`v${i}`) }));
        assert.deepEqual(r, { kind: 'put', revision: i + 1, version: 1 });
      }
      for (let i = 0; i < 100 && node.status().snapshotIndex < 30; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(node.status().snapshotIndex >= 30, `snapshot at ${node.status().snapshotIndex}`);
      const before = await sm.digest();
      const revision = sm.revision();
      await stopAll();

      ({ node, sm } = await start());
      await leader(node);
      assert.equal(sm.revision(), revision, 'nothing was applied twice');
      assert.deepEqual((await sm.digest()).digest, before.digest);
      const r = await node.propose(encodeCommand({ kind: 'put', key: 'k0', value: new TextEncoder().encode('again') }));
      assert.deepEqual(r, { kind: 'put', revision: revision + 1, version: 2 });
    });
  });
});
