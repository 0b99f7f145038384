// Covers SnapshotAssembler in src/raft/transport/snapshot-stream.ts (the receiver side of
// InstallSnapshot) without sockets: a well-formed stream yields the Snap message, and every
// protocol violation, size mismatch, checksum mismatch or oversized snapshot is refused by code.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { ErrorCode, ShoalError } from '../../../../src/shared/index.js';
import { MessageType, type Message, type Snapshot } from '../../../../src/raft/index.js';
import { toSnapshotHeader } from '../../../../src/raft/transport/codec.js';
import { SnapshotAssembler } from '../../../../src/raft/transport/snapshot-stream.js';
import type * as pb from '../../../../proto/gen/shoal/raft/v1/raft.js';

const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
const snapshot: Snapshot = { meta: { index: 9, term: 2, confState: { voters: [1, 2, 3], learners: [] } }, data };
const msg: Message & { snapshot: Snapshot } = {
  type: MessageType.Snap,
  from: 1,
  to: 2,
  term: 2,
  logTerm: 0,
  index: 0,
  entries: [],
  commit: 9,
  reject: false,
  rejectHint: 0,
  context: new Uint8Array(0),
  snapshot,
};
const header = (m = msg): pb.InstallSnapshotRequest => ({ part: { $case: 'header', value: toSnapshotHeader(m) } });
const chunk = (offset: number, end: number): pb.InstallSnapshotRequest => ({
  part: { $case: 'chunk', value: { offset, data: data.subarray(offset, end) } },
});
const sha = createHash('sha256').update(data).digest();
const trailer = (digest = sha): pb.InstallSnapshotRequest => ({
  part: { $case: 'trailer', value: { sha256: digest } },
});

/** Feeds `reqs`; returns the assembled message or the ShoalError code that stopped it. */
function feed(reqs: readonly pb.InstallSnapshotRequest[], max = 1 << 20): Message | string {
  const a = new SnapshotAssembler(max);
  try {
    let out: Message | undefined;
    for (const r of reqs) out = a.accept(r) ?? out;
    return out ?? 'incomplete';
  } catch (err) {
    assert.ok(err instanceof ShoalError);
    return err.code;
  }
}

describe('src/raft/transport/snapshot-stream', () => {
  describe('SnapshotAssembler', () => {
    it('assembles chunks into the Snap message after the checksum verifies', () => {
      const out = feed([header(), chunk(0, 400), chunk(400, 1000), trailer()]);
      assert.deepEqual(out, { ...msg, snapshot: { ...snapshot, data: new Uint8Array(data) } });
    });
    it('accepts an empty snapshot', () => {
      const empty = { ...msg, snapshot: { ...snapshot, data: new Uint8Array(0) } };
      const digest = createHash('sha256').digest();
      assert.equal(typeof feed([header(empty), trailer(digest)]), 'object');
    });
    it('refuses a wrong checksum, missing data and excess data as DATA_LOSS', () => {
      const bad = Buffer.from(sha);
      bad[31]! ^= 0x80;
      assert.equal(feed([header(), chunk(0, 1000), trailer(bad)]), ErrorCode.DataLoss);
      assert.equal(feed([header(), chunk(0, 999), trailer()]), ErrorCode.DataLoss);
      const longer = { part: { $case: 'chunk' as const, value: { offset: 1000, data: Buffer.alloc(1) } } };
      assert.equal(feed([header(), chunk(0, 1000), longer]), ErrorCode.DataLoss);
    });
    it('refuses streams out of order as INVALID_ARGUMENT', () => {
      assert.equal(feed([chunk(0, 10)]), ErrorCode.InvalidArgument);
      assert.equal(feed([trailer()]), ErrorCode.InvalidArgument);
      assert.equal(feed([header(), header()]), ErrorCode.InvalidArgument);
      assert.equal(feed([header(), chunk(0, 10), chunk(20, 30)]), ErrorCode.InvalidArgument);
      assert.equal(feed([header(), chunk(0, 1000), trailer(), chunk(0, 1)]), ErrorCode.InvalidArgument);
      assert.equal(feed([{ part: undefined }]), ErrorCode.InvalidArgument);
    });
    it('refuses a snapshot over the size limit before allocating it', () => {
      assert.equal(feed([header()], 999), ErrorCode.ResourceExhausted);
    });
  });
});
