/**
 * The cluster's public-key infrastructure. Bootstrap creates a cluster CA; each member gets its
 * own key and a certificate signed by the CA (no private key is shared between members, unlike
 * LXD); member-to-member traffic is mutual TLS against the CA. Keys are ECDSA P-256 (fast to make,
 * supported by Node's TLS and grpc-js), certificates X.509 v3 built with @peculiar/x509 over Node's
 * WebCrypto. Times come from the caller (a Clock), randomness from the platform CSPRNG.
 */
// @peculiar/x509 resolves its ASN.1 providers with tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { X509Certificate as NodeX509, createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ErrorCode, ShoalError } from '../shared/errors.js';

type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

/** A certificate and its private key, PEM encoded (PKCS#8 for the key). */
export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What Shoal reads from a certificate. */
export interface CertificateInfo {
  readonly commonName: string;
  /** SHA-256 of the DER, lowercase hex (what LXD calls the fingerprint). */
  readonly fingerprint: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly isCA: boolean;
  /** DNS names and IP addresses from subjectAltName. */
  readonly subjectAltNames: readonly string[];
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f; // positive
  return Buffer.from(b).toString('hex');
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  const b64 = keyPem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  try {
    return await webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, false, ['sign']);
  } catch (err) {
    throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid private key: expected a PKCS#8 ECDSA P-256 key', { cause: err });
  }
}

/** Creates a self-signed CA for a new cluster, valid `validityDays` from `now`. */
export async function createClusterCA(options: { name: string; now: number; validityDays: number }): Promise<KeyPair> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDn(options.name)},O=Shoal`,
    notBefore: new Date(options.now - 60_000),
    notAfter: new Date(options.now + options.validityDays * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** What a leaf certificate says: CN, subjectAltName entries and validity. */
export interface LeafOptions {
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly now: number;
  readonly validityDays: number;
}

/**
 * The one way a leaf certificate is made: `publicKey` signed by `ca`, CN = `commonName`, usable for
 * TLS server and client authentication, with the given DNS names and IP addresses as
 * subjectAltName. Returns the PEM.
 */
async function signLeaf(ca: KeyPair, publicKey: CryptoKey, options: LeafOptions): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKey(ca.keyPem);
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((v) => ({ type: 'dns' as const, value: v })),
    ...(options.ipAddresses ?? []).map((v) => ({ type: 'ip' as const, value: v })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escapeDn(options.commonName)},O=Shoal`,
    issuer: caCert.subject,
    notBefore: new Date(options.now - 60_000),
    notAfter: new Date(options.now + options.validityDays * DAY_MS),
    signingAlgorithm: ALG,
    publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return cert.toString('pem') + '\n';
}

/** Issues a member (or client) certificate with a new key, signed by `ca` (see {@link signLeaf}). */
export async function issueCertificate(ca: KeyPair, options: LeafOptions): Promise<KeyPair> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  return { certPem: await signLeaf(ca, keys.publicKey, options), keyPem: await exportKey(keys.privateKey) };
}

/** A new key pair and a PKCS#10 request for `commonName` (what a joining member sends). */
export async function createCertificateRequest(options: { commonName: string }): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${escapeDn(options.commonName)},O=Shoal`,
    keys,
    signingAlgorithm: ALG,
  });
  return { csrPem: csr.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/**
 * Issues a member certificate for the key in `csrPem` (whose signature proves possession of the
 * key), signed by `ca`, with CN = `commonName` whatever the request says. INVALID_ARGUMENT for a
 * malformed request or a bad signature.
 */
export async function signCertificateRequest(ca: KeyPair, csrPem: string, options: LeafOptions): Promise<string> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid certificate request: expected a PEM PKCS#10 request', { cause: err });
  }
  if (!(await csr.verify())) throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid certificate request: bad signature');
  return signLeaf(ca, await csr.publicKey.export(ALG, ['verify']), options);
}

/** Creates a self-signed client certificate (what `lxc`/`shoal` clients present, as LXD does). */
export async function createClientCertificate(options: { commonName: string; now: number; validityDays: number }): Promise<KeyPair> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDn(options.commonName)},O=Shoal`,
    notBefore: new Date(options.now - 60_000),
    notAfter: new Date(options.now + options.validityDays * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** SHA-256 of the certificate's DER, lowercase hex. Throws INVALID_ARGUMENT on bad PEM. */
export function certificateFingerprint(certPem: string): string {
  return createHash('sha256').update(parse(certPem).raw).digest('hex');
}

/** Facts about a certificate. Throws INVALID_ARGUMENT on bad PEM. */
export function certificateInfo(certPem: string): CertificateInfo {
  const c = parse(certPem);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? '';
  return {
    commonName: cn,
    fingerprint: createHash('sha256').update(c.raw).digest('hex'),
    notBefore: Date.parse(c.validFrom),
    notAfter: Date.parse(c.validTo),
    isCA: c.ca,
    subjectAltNames: (c.subjectAltName ?? '')
      .split(', ')
      .filter(Boolean)
      .map((s) => s.replace(/^(DNS|IP Address):/, '')),
  };
}

/** True when `certPem` was signed by `caPem` and is valid at `now`. */
export function isIssuedBy(certPem: string, caPem: string, now: number): boolean {
  const c = parse(certPem);
  const ca = parse(caPem);
  return c.checkIssued(ca) && c.verify(ca.publicKey) && Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
}

/**
 * Renewal policy: a certificate is due for renewal once less than `renewBeforeDays` of validity
 * remain, and deserves a warning once less than `warnBeforeDays` remain.
 */
export function renewalState(
  certPem: string,
  now: number,
  policy: { renewBeforeDays: number; warnBeforeDays: number },
): 'ok' | 'warn' | 'renew' | 'expired' {
  const { notAfter } = certificateInfo(certPem);
  if (now >= notAfter) return 'expired';
  const left = notAfter - now;
  if (left < policy.renewBeforeDays * DAY_MS) return 'renew';
  if (left < policy.warnBeforeDays * DAY_MS) return 'warn';
  return 'ok';
}

function parse(pem: string): NodeX509 {
  try {
    return new NodeX509(pem);
  } catch (err) {
    throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid certificate: expected a PEM X.509 certificate', { cause: err });
  }
}

function escapeDn(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1');
}
