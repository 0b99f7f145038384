/*
 * Unit tests of the state machine's pure transition function (src/state/kv/apply.ts): plain puts,
 * deletes and cas, then etcd-style transactions (every compare target and operator, prefix compares,
 * both branches, one revision per transaction, reads seeing earlier writes, malformed transactions
 * as deterministic no-ops), and the command codec round trip. State is a Map behind a KvReader.
 */
import { strict as assert } from 'node:assert';
import {
  applyCommand,
  cmp,
  decodeCommand,
  encodeCommand,
  type Compare,
  type KeyRecord,
  type KvCommand,
  type KvReader,
  type Txn,
} from '../../../../src/state/kv/index.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const rec = (v: string, version: number, create: number, mod: number): KeyRecord => ({ value: b(v), version, createRevision: create, modRevision: mod });

/** A KvReader over a plain map, plus a helper that applies an outcome's changes to it. */
function store(init: Record<string, KeyRecord> = {}): KvReader & { map: Map<string, KeyRecord>; run(cmd: KvCommand, rev: number): ReturnType<typeof applyCommand> } {
  const map = new Map(Object.entries(init));
  const reader: KvReader = {
    get: (k) => map.get(k),
    scan: (p) => [...map].filter(([k]) => k.startsWith(p)).sort(([x], [y]) => (x < y ? -1 : 1)),
  };
  return {
    ...reader,
    map,
    run(cmd, rev) {
      const out = applyCommand(reader, cmd, rev);
      for (const c of out.changes) {
        if (c.next === null) map.delete(c.key);
        else map.set(c.key, c.next);
      }
      return out;
    },
  };
}
const txn = (t: Partial<Txn>): KvCommand => ({ kind: 'txn', txn: { compare: [], success: [], failure: [], ...t } });

describe('src/state/kv/apply', () => {
  describe('applyCommand (put, delete, cas)', () => {
    it('creates a key at version 1 with create and mod revision = the new revision', () => {
      const s = store();
      const out = s.run({ kind: 'put', key: 'a', value: b('1') }, 7);
      assert.deepEqual(out, {
        revision: 8,
        result: { kind: 'put', revision: 8, version: 1 },
        changes: [{ key: 'a', prev: undefined, next: rec('1', 1, 8, 8) }],
      });
    });

    it('bumps version and mod revision on overwrite, keeping the create revision', () => {
      const s = store({ a: rec('1', 1, 3, 3) });
      s.run({ kind: 'put', key: 'a', value: b('2') }, 10);
      assert.deepEqual(s.map.get('a'), rec('2', 2, 3, 11));
    });

    it('deletes an existing key with a new revision and leaves the revision alone for a missing one', () => {
      const s = store({ a: rec('1', 1, 3, 3) });
      assert.deepEqual(s.run({ kind: 'delete', key: 'a' }, 5).result, { kind: 'delete', revision: 6, deleted: true });
      assert.deepEqual(s.run({ kind: 'delete', key: 'a' }, 6), { revision: 6, result: { kind: 'delete', revision: 6, deleted: false }, changes: [] });
    });

    it('cas writes only when the current value or version matches', () => {
      const s = store({ k: rec('x', 2, 1, 4) });
      const no = s.run({ kind: 'cas', key: 'k', expected: { kind: 'value', value: b('z') }, value: b('y') }, 9);
      assert.deepEqual(no.result, { kind: 'cas', revision: 9, succeeded: false, kv: { key: 'k', ...rec('x', 2, 1, 4) } });
      const ok = s.run({ kind: 'cas', key: 'k', expected: { kind: 'version', version: 2 }, value: b('y') }, 9);
      assert.deepEqual(ok.result, { kind: 'cas', revision: 10, succeeded: true, kv: { key: 'k', ...rec('y', 3, 1, 10) } });
      const create = s.run({ kind: 'cas', key: 'n', expected: { kind: 'version', version: 0 }, value: b('1') }, 10);
      assert.equal(create.result.kind === 'cas' && create.result.succeeded, true);
    });
  });

  describe('applyCommand (txn)', () => {
    const base = { a: rec('apple', 2, 3, 5), 'p/1': rec('x', 1, 4, 4), 'p/2': rec('y', 1, 6, 6) };

    it('evaluates each compare target and operator like etcd', () => {
      const s = store(base);
      const check = (c: Compare): boolean => {
        const out = applyCommand(s, txn({ compare: [c] }), 10);
        return out.result.kind === 'txn' && out.result.succeeded;
      };
      assert.equal(check(cmp.version('a', '=', 2)), true);
      assert.equal(check(cmp.version('a', '>', 2)), false);
      assert.equal(check(cmp.createRevision('a', '<', 4)), true);
      assert.equal(check(cmp.modRevision('a', '!=', 5)), false);
      assert.equal(check(cmp.value('a', '=', b('apple'))), true);
      assert.equal(check(cmp.value('a', '<', b('banana'))), true);
      assert.equal(check(cmp.value('a', '>', b('apples'))), false);
      assert.equal(check(cmp.exists('a')), true);
      assert.equal(check(cmp.absent('a')), false);
      assert.equal(check(cmp.absent('zz')), true);
      // A missing key has revision 0, and a value compare on it is false whatever the operator.
      assert.equal(check(cmp.modRevision('zz', '=', 0)), true);
      assert.equal(check(cmp.value('zz', '!=', b('q'))), false);
    });

    it('applies a prefix compare to every key under the prefix', () => {
      const s = store(base);
      const ok = (c: Compare): boolean => {
        const r = applyCommand(s, txn({ compare: [c] }), 10).result;
        return r.kind === 'txn' && r.succeeded;
      };
      assert.equal(ok(cmp.unchangedSince('p/', 6)), true);
      assert.equal(ok(cmp.unchangedSince('p/', 5)), false);
      assert.equal(ok(cmp.unchangedSince('empty/', 0)), true);
    });

    it('runs the success branch at one new revision shared by all its writes', () => {
      const s = store(base);
      const out = s.run(
        txn({
          compare: [cmp.modRevision('a', '=', 5), cmp.absent('n')],
          success: [
            { kind: 'put', key: 'n', value: b('new') },
            { kind: 'put', key: 'a', value: b('avocado'), prevKv: true },
            { kind: 'delete', key: 'p/', prefix: true },
          ],
          failure: [{ kind: 'range', key: 'a' }],
        }),
        10,
      );
      assert.deepEqual(out.result, {
        kind: 'txn',
        succeeded: true,
        revision: 11,
        failedCompare: -1,
        responses: [{ kind: 'put' }, { kind: 'put', prev: { key: 'a', ...base.a } }, { kind: 'delete', deleted: 2 }],
      });
      assert.deepEqual(Object.fromEntries(s.map), { a: rec('avocado', 3, 3, 11), n: rec('new', 1, 11, 11) });
    });

    it('runs the failure branch and names the first failed compare', () => {
      const s = store(base);
      const out = s.run(
        txn({
          compare: [cmp.exists('a'), cmp.absent('p/1'), cmp.absent('p/2')],
          success: [{ kind: 'put', key: 'x', value: b('1') }],
          failure: [{ kind: 'range', key: 'p/', prefix: true, limit: 1 }],
        }),
        10,
      );
      assert.deepEqual(out, {
        revision: 10,
        changes: [],
        result: {
          kind: 'txn',
          succeeded: false,
          revision: 10,
          failedCompare: 1,
          responses: [{ kind: 'range', kvs: [{ key: 'p/1', ...base['p/1'] }], count: 2, more: true }],
        },
      });
    });

    it('lets later reads of a transaction see its earlier writes', () => {
      const s = store(base);
      const out = s.run(
        txn({
          success: [
            { kind: 'put', key: 'p/0', value: b('z') },
            { kind: 'delete', key: 'p/1' },
            { kind: 'range', key: 'p/', prefix: true },
          ],
        }),
        10,
      );
      assert.ok(out.result.kind === 'txn');
      assert.deepEqual(out.result.responses[2], {
        kind: 'range',
        kvs: [
          { key: 'p/0', ...rec('z', 1, 11, 11) },
          { key: 'p/2', ...base['p/2'] },
        ],
        count: 2,
        more: false,
      });
    });

    it('keeps the revision when the chosen branch writes nothing', () => {
      const s = store(base);
      const out = s.run(txn({ success: [{ kind: 'range', key: 'a' }, { kind: 'delete', key: 'missing' }] }), 10);
      assert.equal(out.revision, 10);
      assert.equal(out.result.kind === 'txn' && out.result.revision, 10);
    });

    it('applies a malformed transaction as an invalid no-op', () => {
      const s = store(base);
      for (const bad of [
        txn({ success: [{ kind: 'put', key: 'k', value: b('1') }, { kind: 'put', key: 'k', value: b('2') }] }),
        txn({ success: [{ kind: 'put', key: 'p/9', value: b('1') }, { kind: 'delete', key: 'p/', prefix: true }] }),
        txn({ success: [{ kind: 'put', key: '', value: b('1') }] }),
        txn({ success: [{ kind: 'delete', key: '', prefix: true }] }),
        txn({ compare: [{ key: 'a', target: 'version', op: '=', number: 1.5 }] }),
      ]) {
        const out = s.run(bad, 10);
        assert.equal(out.result.kind, 'invalid');
        assert.deepEqual(out.changes, []);
        assert.equal(out.revision, 10);
      }
      assert.deepEqual(Object.fromEntries(s.map), base);
    });
  });

  describe('encodeCommand / decodeCommand', () => {
    it('round-trips every command kind', () => {
      const cmds: KvCommand[] = [
        { kind: 'put', key: 'a', value: b('1') },
        { kind: 'delete', key: 'a' },
        { kind: 'cas', key: 'a', expected: { kind: 'version', version: 3 }, value: b('2') },
        { kind: 'cas', key: 'a', expected: { kind: 'value', value: b('x') }, value: b('2') },
        txn({
          compare: [cmp.absent('a'), cmp.value('b', '>', b('v')), cmp.unchangedSince('p/', 9)],
          success: [
            { kind: 'put', key: 'a', value: b('1'), prevKv: true },
            { kind: 'delete', key: 'p/', prefix: true, prevKv: true },
          ],
          failure: [{ kind: 'range', key: 'p/', prefix: true, limit: 5 }],
        }),
      ];
      const plain = (v: unknown): unknown =>
        v instanceof Uint8Array
          ? [...v]
          : Array.isArray(v)
            ? v.map(plain)
            : v !== null && typeof v === 'object'
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
              : v;
      for (const c of cmds) assert.deepEqual(plain(decodeCommand(encodeCommand(c))), plain(c));
    });

    it('decodes garbage to a reason instead of throwing', () => {
      assert.equal(typeof decodeCommand(new Uint8Array([0xff, 0xff, 0xff])), 'string');
      assert.equal(decodeCommand(new Uint8Array(0)), 'empty command');
    });
  });
});
