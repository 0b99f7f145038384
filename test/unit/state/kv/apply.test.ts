/*
 * Unit tests of the KV transition function (src/state/kv/apply.ts) and the command codec: versions,
 * revisions and compare-and-set outcomes, computed purely from (record, command, revision).
 */
import { strict as assert } from 'node:assert';
import { applyCommand, decodeRecord, encodeRecord, type KeyRecord } from '../../../../src/state/kv/apply.js';
import { decodeCommand, encodeCommand } from '../../../../src/state/kv/command.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
/** Byte arrays (Buffer or Uint8Array) as plain number arrays, for deep comparison. */
const plain = (v: unknown): unknown =>
  v instanceof Uint8Array
    ? [...v]
    : v !== null && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
      : v;

describe('src/state/kv/apply', () => {
  describe('applyCommand', () => {
    it('creates a key at version 1 with create and mod revision = the new revision', () => {
      const out = applyCommand(undefined, { kind: 'put', key: 'a', value: b('1') }, 7);
      assert.deepEqual(out, {
        next: { value: b('1'), version: 1, createRevision: 8, modRevision: 8 },
        revision: 8,
        result: { kind: 'put', revision: 8, version: 1 },
      });
    });

    it('bumps version and mod revision on overwrite, keeping the create revision', () => {
      const cur: KeyRecord = { value: b('1'), version: 1, createRevision: 3, modRevision: 3 };
      const out = applyCommand(cur, { kind: 'put', key: 'a', value: b('2') }, 10);
      assert.deepEqual(out.next, { value: b('2'), version: 2, createRevision: 3, modRevision: 11 });
    });

    it('deletes an existing key with a new revision and leaves the revision alone for a missing one', () => {
      const cur: KeyRecord = { value: b('1'), version: 1, createRevision: 3, modRevision: 3 };
      assert.deepEqual(applyCommand(cur, { kind: 'delete', key: 'a' }, 5), {
        next: null,
        revision: 6,
        result: { kind: 'delete', revision: 6, deleted: true },
      });
      assert.deepEqual(applyCommand(undefined, { kind: 'delete', key: 'a' }, 5), {
        next: undefined,
        revision: 5,
        result: { kind: 'delete', revision: 5, deleted: false },
      });
    });

    it('cas on value writes only when the current value matches', () => {
      const cur: KeyRecord = { value: b('x'), version: 2, createRevision: 1, modRevision: 4 };
      const ok = applyCommand(cur, { kind: 'cas', key: 'k', expected: { kind: 'value', value: b('x') }, value: b('y') }, 9);
      assert.deepEqual(ok.result, {
        kind: 'cas',
        revision: 10,
        succeeded: true,
        kv: { key: 'k', value: b('y'), version: 3, createRevision: 1, modRevision: 10 },
      });
      const no = applyCommand(cur, { kind: 'cas', key: 'k', expected: { kind: 'value', value: b('z') }, value: b('y') }, 9);
      assert.deepEqual(no, { next: undefined, revision: 9, result: { kind: 'cas', revision: 9, succeeded: false, kv: { key: 'k', ...cur } } });
    });

    it('cas on version 0 creates only a missing key', () => {
      const create = applyCommand(undefined, { kind: 'cas', key: 'k', expected: { kind: 'version', version: 0 }, value: b('v') }, 0);
      assert.equal(create.result.kind === 'cas' && create.result.succeeded, true);
      const cur: KeyRecord = { value: b('x'), version: 1, createRevision: 1, modRevision: 1 };
      const again = applyCommand(cur, { kind: 'cas', key: 'k', expected: { kind: 'version', version: 0 }, value: b('v') }, 1);
      assert.equal(again.result.kind === 'cas' && again.result.succeeded, false);
    });
  });

  describe('encodeRecord / decodeRecord', () => {
    it('round-trips a record', () => {
      const r: KeyRecord = { value: b('hello'), version: 3, createRevision: 12, modRevision: 99 };
      assert.deepEqual(decodeRecord(encodeRecord(r)), r);
    });

    it('refuses a record shorter than its header', () => {
      assert.equal(decodeRecord(new Uint8Array(5)), undefined);
    });
  });

  describe('encodeCommand / decodeCommand', () => {
    it('round-trips put, delete and both kinds of cas', () => {
      const cmds = [
        { kind: 'put', key: 'a', value: b('1') },
        { kind: 'delete', key: 'a' },
        { kind: 'cas', key: 'a', expected: { kind: 'value', value: b('1') }, value: b('2') },
        { kind: 'cas', key: 'a', expected: { kind: 'version', version: 4 }, value: b('2') },
      ] as const;
      for (const c of cmds) {
        assert.deepEqual(plain(decodeCommand(encodeCommand(c))), plain(c));
      }
    });

    it('turns garbage into a reason instead of throwing', () => {
      assert.equal(typeof decodeCommand(new Uint8Array([0xff, 0xff, 0xff])), 'string');
      assert.equal(decodeCommand(new Uint8Array(0)), 'empty command');
    });
  });
});
