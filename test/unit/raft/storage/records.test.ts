// Covers src/raft/storage/records.ts: payload round trips (fast-check), and that the record
// framing rejects every single-byte change, truncation and a value moved under another key.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { EntryType } from '../../../../src/raft/index.js';
import {
  CorruptRecordError,
  chunkKey,
  decodeEntry,
  decodeHardState,
  decodeSnapshotMeta,
  encodeEntry,
  encodeHardState,
  encodeSnapshotMeta,
  entryKey,
  openRecord,
  parseChunkKey,
  parseEntryKey,
  sealRecord,
} from '../../../../src/raft/storage/records.js';

const u64 = fc.nat({ max: Number.MAX_SAFE_INTEGER });

describe('src/raft/storage/records', () => {
  describe('payloads', () => {
    it('round-trips entries, hard states and snapshot metadata', () => {
      fc.assert(
        fc.property(u64, u64, fc.boolean(), fc.uint8Array({ maxLength: 64 }), (index, term, conf, data) => {
          const e = { index, term, type: conf ? EntryType.ConfChange : EntryType.Normal, data };
          assert.deepEqual(decodeEntry(encodeEntry(e)), e);
          const hs = { term, vote: index, commit: term };
          assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
          const meta = {
            index,
            term,
            size: data.length,
            chunks: 3,
            crc: 0xdeadbeef,
            confState: { voters: [1, index], learners: [term] },
          };
          assert.deepEqual(decodeSnapshotMeta(encodeSnapshotMeta(meta)), meta);
        }),
      );
    });
    it('keeps entry keys in numeric order when compared as bytes', () => {
      fc.assert(
        fc.property(u64, u64, (a, b) => {
          const cmp = Buffer.compare(Buffer.from(entryKey(a)), Buffer.from(entryKey(b)));
          assert.equal(Math.sign(cmp), Math.sign(a - b));
          assert.equal(parseEntryKey(entryKey(a)), a);
        }),
      );
      assert.deepEqual(parseChunkKey(chunkKey(42, 7)), { index: 42, n: 7 });
    });
    it('refuses to encode integers that are not safe and non-negative', () => {
      for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) {
        assert.throws(() => encodeHardState({ term: bad, vote: 0, commit: 0 }), RangeError);
      }
    });
  });

  describe('sealRecord / openRecord', () => {
    it('rejects any single flipped byte, any truncation and a value under another key', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 200 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (payload, pos, mask) => {
            const key = entryKey(7);
            const sealed = sealRecord(key, payload);
            assert.deepEqual(Buffer.from(openRecord(key, sealed)), Buffer.from(payload));
            const flipped = sealed.slice();
            flipped[pos % flipped.length]! ^= mask;
            assert.throws(() => openRecord(key, flipped), CorruptRecordError);
            assert.throws(() => openRecord(key, sealed.subarray(0, pos % sealed.length)), CorruptRecordError);
            assert.throws(() => openRecord(entryKey(8), sealed), CorruptRecordError);
          },
        ),
      );
    });
  });
});
