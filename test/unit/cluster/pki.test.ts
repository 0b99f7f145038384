// Covers src/cluster/pki.ts: CA creation, member and client certificates (fields, signatures,
// validity window, SANs), fingerprints as LXD computes them, renewal policy, bad input.
import { strict as assert } from 'node:assert';
import { X509Certificate, createHash } from 'node:crypto';
import {
  certificateFingerprint,
  certificateInfo,
  createClientCertificate,
  createClusterCA,
  isIssuedBy,
  issueCertificate,
  renewalState,
} from '../../../src/cluster/pki.js';
import { ShoalError } from '../../../src/shared/index.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 24 * 3600 * 1000;

describe('src/cluster/pki', () => {
  it('creates a CA and issues member certificates it verifies', async () => {
    const ca = await createClusterCA({ name: 'shoal-cluster', now: NOW, validityDays: 3650 });
    const m1 = await issueCertificate(ca, { commonName: 'm1', dnsNames: ['m1'], ipAddresses: ['10.0.0.1'], now: NOW, validityDays: 365 });
    const caInfo = certificateInfo(ca.certPem);
    assert.equal(caInfo.commonName, 'shoal-cluster');
    assert.equal(caInfo.isCA, true);
    const info = certificateInfo(m1.certPem);
    assert.deepEqual(
      { cn: info.commonName, ca: info.isCA, san: info.subjectAltNames, after: info.notAfter },
      { cn: 'm1', ca: false, san: ['m1', '10.0.0.1'], after: NOW + 365 * DAY },
    );
    assert.ok(isIssuedBy(m1.certPem, ca.certPem, NOW));
    assert.ok(!isIssuedBy(m1.certPem, ca.certPem, NOW + 400 * DAY), 'expired');
    const other = await createClusterCA({ name: 'other', now: NOW, validityDays: 10 });
    assert.ok(!isIssuedBy(m1.certPem, other.certPem, NOW), 'another CA');
  });

  it('gives each member its own key', async () => {
    const ca = await createClusterCA({ name: 'c', now: NOW, validityDays: 10 });
    const a = await issueCertificate(ca, { commonName: 'a', now: NOW, validityDays: 1 });
    const b = await issueCertificate(ca, { commonName: 'b', now: NOW, validityDays: 1 });
    assert.notEqual(a.keyPem, b.keyPem);
    assert.notEqual(a.keyPem, ca.keyPem);
  });

  it('fingerprints the DER with SHA-256 as LXD does', async () => {
    const c = await createClientCertificate({ commonName: 'alice@laptop', now: NOW, validityDays: 3650 });
    const der = new X509Certificate(c.certPem).raw;
    assert.equal(certificateFingerprint(c.certPem), createHash('sha256').update(der).digest('hex'));
  });

  it('says when to warn and renew', async () => {
    const ca = await createClusterCA({ name: 'c', now: NOW, validityDays: 100 });
    const policy = { renewBeforeDays: 30, warnBeforeDays: 60 };
    assert.equal(renewalState(ca.certPem, NOW, policy), 'ok');
    assert.equal(renewalState(ca.certPem, NOW + 50 * DAY, policy), 'warn');
    assert.equal(renewalState(ca.certPem, NOW + 80 * DAY, policy), 'renew');
    assert.equal(renewalState(ca.certPem, NOW + 101 * DAY, policy), 'expired');
  });

  it('rejects malformed certificates and keys with INVALID_ARGUMENT', async () => {
    assert.throws(() => certificateInfo('garbage'), (e: unknown) => e instanceof ShoalError && e.code === 'INVALID_ARGUMENT');
    const ca = await createClusterCA({ name: 'c', now: NOW, validityDays: 1 });
    await assert.rejects(
      issueCertificate({ certPem: ca.certPem, keyPem: 'nope' }, { commonName: 'x', now: NOW, validityDays: 1 }),
      /Invalid private key/,
    );
  });
});
