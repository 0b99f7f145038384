// Covers the open-time verification of src/raft/storage/level-storage.ts (level-load.ts): each test
// writes a healthy log, damages it behind the storage's back (a flipped byte, a deleted or
// truncated value, an inconsistent record, bytes flipped in LevelDB's own table file) and checks
// that reopening fails with DATA_LOSS naming the damaged key.
import { strict as assert } from 'node:assert';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { ErrorCode, ShoalError } from '../../../src/shared/index.js';
import { EntryType, LevelLogStorage, type Entry } from '../../../src/raft/index.js';
import { HARD_STATE_KEY, chunkKey, encodeHardState, entryKey, sealRecord } from '../../../src/raft/storage/records.js';
import { makeTempDir } from '../../support/tmpdir.js';

const PREFIX = Buffer.from('!raft!');

function randomEntries(from: number, to: number, term: number, size: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k++) data[k] = Math.floor(Math.random() * 256);
    out.push({ index: i, term, type: EntryType.Normal, data });
  }
  return out;
}

/** Opens the raw DB (binary keys) so a test can damage records behind the storage's back. */
async function withRaw(path: string, fn: (db: ClassicLevel<Buffer, Buffer>) => Promise<void>): Promise<void> {
  const db = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}
const raw = (key: Uint8Array): Buffer => Buffer.concat([PREFIX, key]);

async function assertDataLoss(path: string, expected: RegExp): Promise<void> {
  await assert.rejects(LevelLogStorage.open({ path }), (err: unknown) => {
    assert.ok(err instanceof ShoalError, `expected a ShoalError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.DataLoss);
    assert.match(err.message, expected);
    return true;
  });
}

describe('src/raft/storage/level-storage', () => {
  describe('LevelLogStorage corruption detection', () => {
    let dir: { path: string; remove: () => Promise<void> };

    beforeEach(async () => {
      dir = await makeTempDir('level-corrupt');
      const s = await LevelLogStorage.open({ path: dir.path });
      await s.persist({
        entries: randomEntries(1, 10, 1, 600),
        hardState: { term: 1, vote: 1, commit: 10 },
        sync: true,
      });
      const snapData = new Uint8Array(1.5 * 1024 * 1024).fill(5);
      await s.createSnapshot(4, { voters: [1], learners: [] }, snapData, 2);
      await s.close();
    });
    afterEach(() => dir.remove());

    it('opens the healthy log', async () => {
      const s = await LevelLogStorage.open({ path: dir.path });
      assert.equal(s.firstIndex(), 3);
      assert.equal(s.lastIndex(), 10);
      await s.close();
    });

    it('names an entry whose bytes were flipped', async () => {
      await withRaw(dir.path, async (db) => {
        const v = (await db.get(raw(entryKey(7))))!;
        v[100]! ^= 0x01;
        await db.put(raw(entryKey(7)), v);
      });
      await assertDataLoss(dir.path, /entry 7: checksum mismatch \(key e\/7\)/);
    });

    it('names a missing entry in the middle of the log', async () => {
      await withRaw(dir.path, (db) => db.del(raw(entryKey(6))));
      await assertDataLoss(dir.path, /entry 6 is missing \(next stored is 7\) \(key e\/6\)/);
    });

    it('names a truncated entry value', async () => {
      await withRaw(dir.path, async (db) => {
        const v = (await db.get(raw(entryKey(5))))!;
        await db.put(raw(entryKey(5)), v.subarray(0, v.length - 3));
      });
      await assertDataLoss(dir.path, /entry 5: length mismatch .*\(key e\/5\)/);
    });

    it('names an entry value copied under another key', async () => {
      await withRaw(dir.path, async (db) => {
        await db.put(raw(entryKey(8)), (await db.get(raw(entryKey(9))))!);
      });
      await assertDataLoss(dir.path, /entry 8: checksum mismatch \(key e\/8\)/);
    });

    it('names a corrupt hard state', async () => {
      await withRaw(dir.path, async (db) => {
        const v = (await db.get(raw(HARD_STATE_KEY)))!;
        v[v.length - 1]! ^= 0xff;
        await db.put(raw(HARD_STATE_KEY), v);
      });
      await assertDataLoss(dir.path, /hard state: checksum mismatch \(key h\)/);
    });

    it('rejects a commit index beyond the last entry', async () => {
      await withRaw(dir.path, (db) =>
        db.put(
          raw(HARD_STATE_KEY),
          Buffer.from(sealRecord(HARD_STATE_KEY, encodeHardState({ term: 1, vote: 1, commit: 11 }))),
        ),
      );
      await assertDataLoss(dir.path, /commit index 11 is beyond the last index 10 \(key h\)/);
    });

    it('names a missing snapshot chunk', async () => {
      await withRaw(dir.path, (db) => db.del(raw(chunkKey(4, 1))));
      await assertDataLoss(dir.path, /snapshot 4 chunk 1 is missing \(key d\/4\/1\)/);
    });

    it('names a corrupt snapshot chunk', async () => {
      await withRaw(dir.path, async (db) => {
        const v = (await db.get(raw(chunkKey(4, 0))))!;
        v[5000]! ^= 0x10;
        await db.put(raw(chunkKey(4, 0)), v);
      });
      await assertDataLoss(dir.path, /snapshot 4 chunk 0: checksum mismatch \(key d\/4\/0\)/);
    });

    it('rejects a log that stops before the snapshot index', async () => {
      await withRaw(dir.path, async (db) => {
        for (let i = 3; i <= 10; i++) await db.del(raw(entryKey(i)));
      });
      await assertDataLoss(dir.path, /log ends at 2, before the snapshot index 4/);
    });

    it('detects bytes flipped inside a LevelDB table file', async () => {
      // Move everything into .ldb tables, then flip a byte inside entry 9's (incompressible) data.
      const probe = await LevelLogStorage.open({ path: dir.path });
      const needle = Buffer.from(probe.entries(9, 10, 1 << 20)[0]!.data.subarray(200, 232));
      await probe.close();
      await withRaw(dir.path, (db) => db.compactRange(Buffer.from([0]), Buffer.from([0xff])));
      let flipped = false;
      for (const f of await readdir(dir.path)) {
        if (!f.endsWith('.ldb')) continue;
        const bytes = await readFile(join(dir.path, f));
        const at = bytes.indexOf(needle);
        if (at < 0) continue;
        bytes[at + 10]! ^= 0x04;
        await writeFile(join(dir.path, f), bytes);
        flipped = true;
      }
      assert.ok(flipped, 'entry 9 data was found in a table file');
      await assertDataLoss(dir.path, /entry 9: checksum mismatch \(key e\/9\)/);
    });
  });
});
