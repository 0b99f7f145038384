/*
 * Unit tests of the typed tables (src/state/tables): keys from name parts, the stored envelope
 * `{version, record}`, shape validation with the field named, refusal of records newer than this
 * build, certificate formats v1/v2, expanded instance config, and join tokens stored hashed.
 */
import { strict as assert } from 'node:assert';
import { hashJoinSecret, newJoinSecret } from '../../../src/cluster/join-token.js';
import type { ShoalError } from '../../../src/shared/index.js';
import {
  certificates,
  consumeJoinToken,
  decodeStored,
  encodeStored,
  expandInstance,
  instances,
  joinSecretDigest,
  joinTokens,
  keyFor,
  putJoinToken,
  rootDisk,
  storageVolumes,
  tableOfKey,
} from '../../../src/state/index.js';
import { aCertificate, anInstance, openTestStore, withMembers } from '../../support/state/fixtures.js';

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));

describe('src/state/tables', () => {
  describe('keys', () => {
    it('builds keys from name parts and maps keys back to their table', () => {
      assert.equal(keyFor(instances, ['default', 'web1']), 'instances/default/web1');
      assert.equal(keyFor(storageVolumes, ['default', '-', 'default', 'custom', 'data']), 'storage-volumes/default/-/default/custom/data');
      assert.throws(() => keyFor(instances, ['default', 'a/b']), /Invalid instance name "a\/b"/);
      const t = tableOfKey('instances/default/web1');
      assert.equal(t?.table.describe(t.parts), 'Instance "web1" in project "default"');
      assert.equal(tableOfKey('meta/schema'), undefined);
    });
  });

  describe('stored records', () => {
    it('stores records in a version envelope and decodes them back', () => {
      const bytes = encodeStored(instances, anInstance(), 1);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes)), { version: 1, record: anInstance() });
      assert.deepEqual(decodeStored(instances, 'instances/default/web1', bytes), { record: anInstance(), version: 1 });
    });

    it('refuses stored records that are corrupt or newer than this build knows', () => {
      assert.throws(() => decodeStored(instances, 'k', enc({ record: {} })), (e: ShoalError) => e.code === 'DATA_LOSS' && /no version envelope/.test(e.message));
      assert.throws(() => decodeStored(instances, 'k', enc({ version: 1, record: { ...anInstance(), extra: 1 } })), (e: ShoalError) => e.code === 'DATA_LOSS' && /field "extra" is not a known field/.test(e.message));
      assert.throws(
        () => decodeStored(instances, 'k', enc({ version: 7, record: anInstance() })),
        (e: ShoalError) => e.code === 'FAILED_PRECONDITION' && e.message === 'Record "k" has format 7 but this member knows instance formats up to 1; upgrade this member',
      );
    });

    it('reads certificate format 1 as unrestricted and writes it back without the new fields', () => {
      const v1 = { fingerprint: 'c'.repeat(64), type: 'client', name: 'alice', certificate: aCertificate().certificate };
      assert.deepEqual(decodeStored(certificates, 'k', enc({ version: 1, record: v1 })).record, aCertificate());
      assert.deepEqual(JSON.parse(new TextDecoder().decode(encodeStored(certificates, aCertificate(), 1))), { version: 1, record: v1 });
      assert.throws(() => encodeStored(certificates, aCertificate({ restricted: true }), 1), (e: ShoalError) => e.code === 'FAILED_PRECONDITION');
    });

    it('names the field that fails validation', () => {
      assert.throws(() => instances.validate({ ...anInstance(), status: 'Sleeping' } as never), (e: ShoalError) => e.message === 'Invalid instance "web1": field "status" must be one of "Creating", "Stopped", "Running", "Frozen", "Error"');
      assert.throws(() => instances.validate({ ...anInstance(), config: { a: 1 } } as never), /field "config\.a" must be a string/);
      assert.throws(() => certificates.validate(aCertificate({ projects: ['default'] })), /projects are only allowed on a restricted certificate/);
    });
  });

  describe('expandInstance', () => {
    it('applies profiles in order, then the instance, and finds the root disk', () => {
      const e = expandInstance(
        { config: { 'limits.cpu': '4' }, devices: { eth0: { type: 'nic', network: 'br1' } } },
        [
          { config: { 'limits.cpu': '1', 'limits.memory': '1GiB' }, devices: { root: { type: 'disk', path: '/', pool: 'default' }, eth0: { type: 'nic', network: 'br0' } } },
          { config: { 'limits.memory': '2GiB' }, devices: {} },
        ],
      );
      assert.deepEqual(e, {
        config: { 'limits.cpu': '4', 'limits.memory': '2GiB' },
        devices: { root: { type: 'disk', path: '/', pool: 'default' }, eth0: { type: 'nic', network: 'br1' } },
      });
      assert.deepEqual(rootDisk(e.devices), { type: 'disk', path: '/', pool: 'default' });
    });
  });

  describe('join tokens', () => {
    it('stores only the digest of the secret (the cluster module\'s hash), single use, with an expiry', async () => {
      const t = await openTestStore();
      try {
        await withMembers(t.store, 1);
        const secret = newJoinSecret();
        assert.equal(joinSecretDigest(secret), hashJoinSecret(secret));
        await t.store.update((tx) => putJoinToken(tx, { serverName: 'm2', secret, expiresAt: '2026-11-23T13:00:00Z', createdAt: '2026-11-23T10:00:00Z', operation: 'op' }));
        const raw = new TextDecoder().decode((await t.store.read()).getKv('join-tokens/m2')!.value);
        assert.ok(!raw.includes(secret));
        assert.ok(raw.includes(hashJoinSecret(secret)));
        const at = Date.parse('2026-11-23T11:00:00Z');
        await assert.rejects(t.store.update((tx) => consumeJoinToken(tx, 'm2', newJoinSecret(), at)), /No valid join token for member "m2"/);
        await assert.rejects(t.store.update((tx) => consumeJoinToken(tx, 'm2', secret, Date.parse('2026-11-23T14:00:00Z'))), /No valid join token/);
        await t.store.update((tx) => consumeJoinToken(tx, 'm2', secret, at));
        assert.equal((await t.store.view()).get(joinTokens, 'm2'), undefined);
        await assert.rejects(t.store.update((tx) => consumeJoinToken(tx, 'm2', secret, at)), /No valid join token/);
      } finally {
        await t.close();
      }
    });
  });
});
