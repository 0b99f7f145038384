/**
 * This client's certificate (`client.crt`/`client.key` in the config directory), created on
 * first use the way lxc creates its own: self-signed ECDSA P-256, client authentication only,
 * ten years. Only `remote add` and HTTPS remotes need it, so @peculiar/x509 is imported lazily.
 */
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** PEM certificate and PKCS#8 key. */
export interface ClientKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Creates a self-signed client certificate with CN `user@host`. */
export async function createClientCertificate(now: number): Promise<ClientKeyPair> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = serial[0]! & 0x7f;
  const cn = `${userInfo().username}@${hostname()}`.replace(/[,+"\\<>;=]/g, '_');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: `CN=${cn},O=Shoal`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3650 * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return { certPem: cert.toString('pem') + '\n', keyPem: `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n` };
}

/** Reads the client certificate from `confDir`, creating it (key mode 0600) when absent. */
export async function ensureClientCertificate(confDir: string, now: number): Promise<ClientKeyPair> {
  const certFile = join(confDir, 'client.crt');
  const keyFile = join(confDir, 'client.key');
  try {
    return { certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(confDir, { recursive: true, mode: 0o700 });
  const pair = await createClientCertificate(now);
  await writeFile(keyFile, pair.keyPem, { mode: 0o600 });
  await writeFile(certFile, pair.certPem, { mode: 0o644 });
  return pair;
}
