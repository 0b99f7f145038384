// Figure: raft log persist throughput on LevelDB (fsynced batches/s and entries/s) for batches of
// 1, 32 and 256 entries of 256 B. Ours = LevelLogStorage.persist({entries, hardState, sync:true})
// (CRC-framed records + hard state, view updated after the batch). Anchor = the same entries and
// hard state written as one raw classic-level db.batch(..., {sync:true}) with no framing: the
// floor our storage layer sits on. Same disk, same durability, same run.
// Run: npx tsx bench/raft-level-storage.ts [seconds-per-case]
import { ClassicLevel } from 'classic-level';
import { LevelLogStorage, EntryType, type Entry } from '../src/raft/index.js';
import { makeTempDir } from '../test/support/tmpdir.js';

const SECONDS = Number(process.argv[2] ?? 3);
const ENTRY_BYTES = 256;

function entries(from: number, n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(ENTRY_BYTES);
    for (let k = 0; k < ENTRY_BYTES; k++) data[k] = (from + i + k * 7) & 0xff;
    out.push({ index: from + i, term: 1, type: EntryType.Normal, data });
  }
  return out;
}

async function ours(batch: number): Promise<number> {
  const dir = await makeTempDir('bench-level');
  const s = await LevelLogStorage.open({ path: dir.path });
  try {
    let next = 1;
    let batches = 0;
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      const es = entries(next, batch);
      next += batch;
      await s.persist({ entries: es, hardState: { term: 1, vote: 1, commit: next - 1 }, sync: true });
      batches++;
    }
    return batches / SECONDS;
  } finally {
    await s.close();
    await dir.remove();
  }
}

async function raw(batch: number): Promise<number> {
  const dir = await makeTempDir('bench-level-raw');
  const db = new ClassicLevel<Buffer, Buffer>(dir.path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    let next = 1;
    let batches = 0;
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      const ops = entries(next, batch).map((e) => {
        const key = Buffer.alloc(9);
        key[0] = 0x65;
        key.writeBigUInt64BE(BigInt(e.index), 1);
        return { type: 'put' as const, key, value: Buffer.from(e.data) };
      });
      next += batch;
      const hs = Buffer.alloc(24);
      hs.writeBigUInt64BE(BigInt(next - 1), 16);
      ops.push({ type: 'put', key: Buffer.from('h'), value: hs });
      await db.batch(ops, { sync: true });
      batches++;
    }
    return batches / SECONDS;
  } finally {
    await db.close();
    await dir.remove();
  }
}

const rows: string[] = [];
for (const batch of [1, 32, 256]) {
  const a = await raw(batch);
  const o = await ours(batch);
  rows.push(
    `${String(batch).padStart(5)} | ${o.toFixed(0).padStart(9)} | ${(o * batch).toFixed(0).padStart(11)} | ` +
      `${a.toFixed(0).padStart(9)} | ${(a * batch).toFixed(0).padStart(11)}`,
  );
}
console.log(`LevelLogStorage.persist vs raw classic-level batch, sync:true, ${ENTRY_BYTES} B entries, ${SECONDS} s per case`);
console.log('batch | ours b/s  | ours ent/s  | raw b/s   | raw ent/s');
for (const r of rows) console.log(r);
