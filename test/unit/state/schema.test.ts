/*
 * Unit tests of schema versions (src/state/schema) in a mixed-version cluster simulated in process:
 * several StateStores over one replicated state, each with the schema its "binary" supports. The
 * cluster stays at schema 1 (writing v1 certificates, refusing restricted ones) while any member
 * only supports 1, keeps serving every member, and upgrades through one transaction that rewrites
 * the certificates once all members support 2; afterwards an old member is refused.
 */
import { strict as assert } from 'node:assert';
import { advertiseMember, certificates, members, readSchemaVersion, recordVersionAt, SCHEMA_LATEST, upgradeSchemaTx } from '../../../src/state/index.js';
import type { ShoalError } from '../../../src/shared/index.js';
import { aCertificate, ad, openTestStore, type TestStore } from '../../support/state/fixtures.js';

describe('src/state/schema', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore();
  });
  afterEach(async () => {
    await t.close();
  });

  it('knows schema 2 and writes certificates in format 2 from it on', () => {
    assert.equal(SCHEMA_LATEST, 2);
    assert.equal(recordVersionAt('certificates', 1), 1);
    assert.equal(recordVersionAt('certificates', 2), 2);
    assert.equal(recordVersionAt('instances', 2), 1);
  });

  it('keeps a mixed-version cluster at schema 1, serving every member, then upgrades once all support 2', async () => {
    const m1 = t.store; // new binary
    const m3 = t.peer(1); // old binary
    await m1.update((tx) => advertiseMember(tx, ad('m1')));
    await m1.update((tx) => advertiseMember(tx, ad('m2')));
    await m3.update((tx) => advertiseMember(tx, ad('m3', { schema_max: 1 })));

    // The newer members do not upgrade while m3 cannot read the new format.
    const wait = await m1.update((tx) => upgradeSchemaTx(tx, m1.schemaMax, '2026-11-23T10:00:00Z'));
    assert.deepEqual(wait.result, { upgraded: false, reason: 'waiting for m3 to support schema 2' });

    // Everyone keeps reading and writing, in format 1.
    await m1.update((tx) => tx.create(certificates, aCertificate()));
    await m3.update((tx) => tx.create(certificates, aCertificate({ fingerprint: 'd'.repeat(64), name: 'bob' })));
    const v1 = await m3.view();
    assert.deepEqual(v1.list(certificates).map((c) => [c.record.name, c.recordVersion, c.record.restricted]), [['alice', 1, false], ['bob', 1, false]]);
    // The new feature is gated until the upgrade, on new and old members alike.
    await assert.rejects(
      m1.update((tx) => tx.update(certificates, aCertificate({ restricted: true, projects: ['default'] }))),
      (err: ShoalError) => err.code === 'FAILED_PRECONDITION' && /cluster is at schema 1 until every member supports schema 2/.test(err.message),
    );

    // m3 is upgraded: it now advertises 2, and the leader upgrades in one transaction.
    const m3new = t.peer();
    await m3new.update((tx) => advertiseMember(tx, ad('m3')));
    const before = t.sm.revision();
    const up = await m1.update((tx) => upgradeSchemaTx(tx, m1.schemaMax, '2026-11-23T10:01:00Z'));
    assert.deepEqual(up.result, { upgraded: true, from: 1, to: 2, rewritten: 2 });
    assert.equal(t.sm.revision(), before + 1);
    const v2 = await m1.view();
    assert.equal(v2.schemaVersion, 2);
    assert.equal(readSchemaVersion(v2.kv), 2);
    assert.deepEqual(v2.list(certificates).map((c) => [c.record.name, c.recordVersion, c.revision]), [['alice', 2, up.revision], ['bob', 2, up.revision]]);
    await m1.update((tx) => tx.update(certificates, aCertificate({ restricted: true, projects: ['default'] })));
    assert.deepEqual((await m1.view()).require(certificates, 'c'.repeat(64)).record.projects, ['default']);

    // A member that only supports schema 1 can no longer work with the cluster, nor rejoin it.
    await assert.rejects(t.peer(1).view(), (err: ShoalError) => err.code === 'FAILED_PRECONDITION' && /cluster is at schema 2 but this member supports schema 1/.test(err.message));
    await assert.rejects(
      m1.update((tx) => advertiseMember(tx, ad('m4', { schema_max: 1 }))),
      (err: ShoalError) => err.message === 'Member "m4" supports schema 1 but the cluster is at schema 2; upgrade it first',
    );
    assert.equal((await m1.view()).get(members, 'm4'), undefined);
  });

  it('does not upgrade past what the proposing member supports, nor without member records', async () => {
    const old = t.peer(1);
    assert.deepEqual((await old.update((tx) => upgradeSchemaTx(tx, old.schemaMax, '2026-11-23T10:00:00Z'))).result, { upgraded: false, reason: 'no member records yet' });
    await t.store.update((tx) => advertiseMember(tx, ad('m1')));
    assert.deepEqual((await old.update((tx) => upgradeSchemaTx(tx, old.schemaMax, '2026-11-23T10:00:00Z'))).result, { upgraded: false, reason: 'already at schema 1' });
  });

  it('waits for every Raft member to advertise before upgrading', async () => {
    await t.store.update((tx) => advertiseMember(tx, ad('m1')));
    const step = await t.store.update((tx) => upgradeSchemaTx(tx, t.store.schemaMax, '2026-11-23T10:00:00Z', [1, 2, 3]));
    assert.deepEqual(step.result, { upgraded: false, reason: 'waiting for Raft member(s) 2, 3 to advertise their schema' });
  });
});
