// Covers src/raft/transport/codec.ts with fast-check: every message (and Snap header + data)
// survives types → proto → bytes → proto → types exactly, and out-of-range numbers, unknown enum
// values and misplaced snapshots are refused with INVALID_ARGUMENT naming the field.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { ErrorCode, ShoalError } from '../../../../src/shared/index.js';
import { EntryType, MessageType, type Entry, type Message, type Snapshot } from '../../../../src/raft/index.js';
import {
  fromProtoEntry,
  fromProtoMessage,
  fromSnapshotHeader,
  toProtoEntry,
  toProtoMessage,
  toSnapshotHeader,
} from '../../../../src/raft/transport/codec.js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import * as pb from '../../../../proto/gen/shoal/raft/v1/raft.js';

const uint = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const bytes = fc.uint8Array({ maxLength: 48 });
const entryArb: fc.Arbitrary<Entry> = fc.record(
  {
    term: uint,
    index: uint,
    type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
    data: bytes,
  },
  { noNullPrototype: true },
);
const messageArb: fc.Arbitrary<Message> = fc.record(
  {
    type: fc.constantFrom(...Object.values(MessageType)),
    from: uint,
    to: uint,
    term: uint,
    logTerm: uint,
    index: uint,
    entries: fc.array(entryArb, { maxLength: 5 }),
    commit: uint,
    reject: fc.boolean(),
    rejectHint: uint,
    context: bytes,
  },
  { noNullPrototype: true },
);
const snapshotArb: fc.Arbitrary<Snapshot> = fc.record(
  {
    meta: fc.record(
      {
        index: uint,
        term: uint,
        confState: fc.record(
          { voters: fc.array(uint, { maxLength: 5 }), learners: fc.array(uint, { maxLength: 3 }) },
          { noNullPrototype: true },
        ),
      },
      { noNullPrototype: true },
    ),
    data: fc.uint8Array({ maxLength: 300 }),
  },
  { noNullPrototype: true },
);
/** Anything that is not a non-negative safe integer. */
const badNumber = fc.oneof(
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
  fc.double({ noInteger: true }),
  fc.constantFrom(2 ** 53, 2 ** 64, Number.NaN, Infinity),
);
const numericFields = ['from', 'to', 'term', 'logTerm', 'index', 'commit', 'rejectHint'] as const;

function isInvalid(err: unknown): boolean {
  return (
    err instanceof ShoalError &&
    err.code === ErrorCode.InvalidArgument &&
    err.message.startsWith('Invalid raft message')
  );
}

describe('src/raft/transport/codec', () => {
  describe('toProtoMessage / fromProtoMessage', () => {
    it('round-trips every message exactly, through the wire bytes', () => {
      fc.assert(
        fc.property(fc.array(messageArb, { maxLength: 4 }), (msgs) => {
          const wire = pb.SendMessagesRequest.encode({ messages: msgs.map(toProtoMessage) }).finish();
          const back = pb.SendMessagesRequest.decode(wire).messages.map(fromProtoMessage);
          assert.deepEqual(back, msgs);
        }),
      );
    });
    it('refuses a number that is not a non-negative safe integer, naming the field', () => {
      fc.assert(
        fc.property(messageArb, fc.constantFrom(...numericFields), badNumber, (m, field, bad) => {
          const broken = { ...m, [field]: bad };
          assert.throws(() => toProtoMessage(broken), isInvalid);
          const p = { ...toProtoMessage(m), [field]: bad };
          assert.throws(() => fromProtoMessage(p), isInvalid);
        }),
      );
    });
    it('refuses out-of-range entry terms and indexes', () => {
      fc.assert(
        fc.property(entryArb, fc.constantFrom('term', 'index'), badNumber, (e, field, bad) => {
          assert.throws(() => toProtoEntry({ ...e, [field]: bad }), isInvalid);
          assert.throws(() => fromProtoEntry({ ...toProtoEntry(e), [field]: bad }), isInvalid);
        }),
      );
    });
    it('refuses unknown or unspecified enum values', () => {
      const m = toProtoMessage({
        type: MessageType.App,
        from: 1,
        to: 2,
        term: 1,
        logTerm: 0,
        index: 0,
        entries: [],
        commit: 0,
        reject: false,
        rejectHint: 0,
        context: new Uint8Array(0),
      });
      assert.throws(() => fromProtoMessage({ ...m, type: pb.MessageType.MESSAGE_TYPE_UNSPECIFIED }), isInvalid);
      assert.throws(() => fromProtoMessage({ ...m, type: 99 as pb.MessageType }), isInvalid);
      const e = { term: 1, index: 1, type: pb.EntryType.ENTRY_TYPE_UNSPECIFIED, data: Buffer.alloc(0) };
      assert.throws(() => fromProtoEntry(e), isInvalid);
    });
    it('refuses a message carrying a snapshot', () => {
      fc.assert(
        fc.property(messageArb, snapshotArb, (m, snapshot) => {
          assert.throws(() => toProtoMessage({ ...m, snapshot }), isInvalid);
        }),
      );
    });
    it('leaves a value beyond 2^53 on the wire undecodable', () => {
      const w = new BinaryWriter();
      w.uint32(32).uint64(2n ** 60n); // field 4 (term), varint
      assert.throws(() => pb.Message.decode(w.finish()), /MAX_SAFE_INTEGER/);
    });
  });

  describe('toSnapshotHeader / fromSnapshotHeader', () => {
    it('round-trips a Snap message with its snapshot, through the wire bytes', () => {
      fc.assert(
        fc.property(messageArb, snapshotArb, (m, snapshot) => {
          const snap = { ...m, type: MessageType.Snap, snapshot };
          const wire = pb.InstallSnapshotRequest.encode({
            part: { $case: 'header', value: toSnapshotHeader(snap) },
          }).finish();
          const part = pb.InstallSnapshotRequest.decode(wire).part;
          assert.equal(part?.$case, 'header');
          if (part?.$case !== 'header') return;
          assert.equal(part.value.totalSize, snapshot.data.byteLength);
          assert.deepEqual(fromSnapshotHeader(part.value, snapshot.data), snap);
        }),
      );
    });
    it('refuses a header whose message is not a Snap or whose parts are missing', () => {
      assert.throws(
        () => fromSnapshotHeader({ message: undefined, meta: undefined, totalSize: 0 }, new Uint8Array()),
        isInvalid,
      );
      const app = toProtoMessage({
        type: MessageType.App,
        from: 1,
        to: 2,
        term: 1,
        logTerm: 0,
        index: 0,
        entries: [],
        commit: 0,
        reject: false,
        rejectHint: 0,
        context: new Uint8Array(0),
      });
      const meta = { index: 1, term: 1, confState: { voters: [1], learners: [] } };
      assert.throws(() => fromSnapshotHeader({ message: app, meta, totalSize: 0 }, new Uint8Array()), isInvalid);
    });
  });
});
