// The state-backed API ports (src/api/adapters) and createApiDeps against a real one-member
// cluster database (Raft + LevelDB in a temp dir): trust store, single-use trust tokens, operation
// records with their resume data, server config validated by the key registry.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { StateOperationStore } from '../../../src/api/adapters/operation-store.js';
import { StateServerConfig } from '../../../src/api/adapters/server-config.js';
import { StateTrustStore } from '../../../src/api/adapters/trust-store.js';
import { StateTrustTokenStore } from '../../../src/api/adapters/trust-token-store.js';
import type { OperationRecord, PendingTrustToken, TrustedCertificate } from '../../../src/api/ports.js';
import { ErrorCode, ShoalError } from '../../../src/shared/index.js';
import { operations } from '../../../src/state/index.js';
import { openOneMemberDb, type OneMemberDb } from '../../support/api/state-harness.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const cert = (over: Partial<TrustedCertificate> = {}): TrustedCertificate => ({
  fingerprint: 'c'.repeat(64), type: 'client', name: 'alice', certificate: PEM, restricted: false, projects: [], ...over,
});
const code = (c: string) => (e: unknown): boolean => e instanceof ShoalError && e.code === c;

describe('src/api/adapters', () => {
  let db: OneMemberDb;
  before(async () => {
    db = await openOneMemberDb();
  });
  after(async () => {
    await db.close();
  });

  describe('StateTrustStore', () => {
    it('adds, gets, lists, updates (also to a new fingerprint) and removes certificates', async () => {
      const t = new StateTrustStore(db.store);
      await t.add(cert());
      await assert.rejects(t.add(cert()), code(ErrorCode.AlreadyExists));
      assert.equal((await t.get('c'.repeat(64)))?.name, 'alice');
      assert.equal(await t.get('nope'), undefined);
      await t.update('c'.repeat(64), (c) => ({ ...c, name: 'bob' }));
      assert.equal((await t.get('c'.repeat(64)))?.name, 'bob');
      await t.update('c'.repeat(64), (c) => ({ ...c, fingerprint: 'd'.repeat(64) }));
      assert.equal(await t.get('c'.repeat(64)), undefined);
      assert.deepEqual((await t.list()).map((c) => c.fingerprint), ['d'.repeat(64)]);
      await assert.rejects(t.update('e'.repeat(64), (c) => c), code(ErrorCode.NotFound));
      await t.remove('d'.repeat(64));
      await assert.rejects(t.remove('d'.repeat(64)), code(ErrorCode.NotFound));
      assert.deepEqual(await t.list(), []);
    });

    it('changes nothing when the mutation throws (ETag mismatch)', async () => {
      const t = new StateTrustStore(db.store);
      await t.add(cert({ name: 'carol' }));
      await assert.rejects(t.update('c'.repeat(64), () => { throw new ShoalError(ErrorCode.FailedPrecondition, 'ETag'); }), code(ErrorCode.FailedPrecondition));
      assert.equal((await t.get('c'.repeat(64)))?.name, 'carol');
      await t.remove('c'.repeat(64));
    });
  });

  describe('StateTrustTokenStore', () => {
    const token = (secret: string, op: string): PendingTrustToken => ({
      operationId: op, name: 'laptop', type: 'client', restricted: false, projects: [],
      secretHash: createHash('sha256').update(secret).digest('hex'), expiresAt: undefined,
    });

    it('gives a token to exactly one of two concurrent takers', async () => {
      const s = new StateTrustTokenStore(db.store);
      const t = token('s1', 'op-1');
      await s.add(t);
      assert.equal((await s.list()).length, 1);
      const [a, b] = await Promise.all([s.take(t.secretHash), s.take(t.secretHash)]);
      assert.equal([a, b].filter((x) => x !== undefined).length, 1);
      assert.deepEqual(a ?? b, t);
      assert.equal(await s.take(t.secretHash), undefined);
      assert.deepEqual(await s.list(), []);
    });

    it('removes by operation id, idempotently', async () => {
      const s = new StateTrustTokenStore(db.store);
      await s.add({ ...token('s2', 'op-2'), expiresAt: 1234 });
      assert.equal((await s.list())[0]?.expiresAt, 1234);
      await s.remove('op-2');
      await s.remove('op-2');
      assert.deepEqual(await s.list(), []);
    });
  });

  describe('StateOperationStore', () => {
    const rec: OperationRecord = {
      id: '0b1e8e8a-1c1d-4e0e-9b7a-0f4f6d1c2a3b', class: 'task', type: 'instance-create', description: 'Creating instance',
      project: 'default', location: 'm1', createdAt: '2026-11-23T10:00:00Z', updatedAt: '2026-11-23T10:00:00Z',
      statusCode: 103, resources: { instances: ['/1.0/instances/c1'] }, metadata: { progress: '1%' }, mayCancel: false,
      err: '', requestId: 'r1', input: { name: 'c1' },
    };

    it('round-trips records with their resume data and keeps LXD fields in the table', async () => {
      const s = new StateOperationStore(db.store);
      await s.put(rec);
      assert.deepEqual(await s.list(), [rec]);
      const stored = (await db.store.view()).require(operations, rec.id).record;
      assert.equal(stored.status, 'Running');
      assert.equal(stored.status_code, 103);
      await s.put({ ...rec, statusCode: 200, metadata: null });
      assert.equal((await s.list())[0]?.statusCode, 200);
      await s.delete(rec.id);
      await s.delete(rec.id);
      assert.deepEqual(await s.list(), []);
    });
  });

  describe('StateServerConfig', () => {
    it('routes keys by scope, unsets with empty values, and refuses unknown keys without changing anything', async () => {
      const c = new StateServerConfig(db.store, () => 'm1');
      await c.update({ 'core.https_address': '127.0.0.1:8443' }, 'merge');
      assert.equal((await c.get())['core.https_address'], '127.0.0.1:8443');
      await assert.rejects(c.update({ 'core.nonsense': 'x' }, 'merge'), code(ErrorCode.InvalidArgument));
      assert.equal((await c.get())['core.nonsense'], undefined);
      await assert.rejects(c.update({}, 'replace', () => { throw new ShoalError(ErrorCode.FailedPrecondition, 'ETag'); }), code(ErrorCode.FailedPrecondition));
      assert.equal((await c.get())['core.https_address'], '127.0.0.1:8443');
      await c.update({ 'core.https_address': '' }, 'merge');
      assert.equal((await c.get())['core.https_address'], undefined);
      await c.update({ 'images.auto_update_interval': '0', 'core.https_address': '127.0.0.1:9443' }, 'merge');
      await c.update({ 'core.https_address': '127.0.0.1:9444' }, 'replace');
      assert.deepEqual(await c.get(), { 'core.https_address': '127.0.0.1:9444' });
    });
  });
});
