// A throw-away PKI for tests: a cluster CA and member certificates made with the openssl CLI
// (node:crypto cannot sign X.509). EC P-256 keys; a member certificate has CN = member name and
// SAN DNS:<name> + IP:127.0.0.1, usable as both TLS server and client (mutual TLS between members).
// Test-only; src/cluster/pki.ts will own the real one.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from './tmpdir.js';

const run = promisify(execFile);

/** PEM material of one member: the CA to trust, its certificate and its private key. */
export interface MemberTls {
  readonly caPem: Buffer;
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
}

export interface TestPki {
  readonly caPem: Buffer;
  /** Issues a certificate for member `name` (CN and SAN DNS), signed by this CA. */
  issue(name: string): Promise<MemberTls>;
  /** Deletes the working directory (keys included). Idempotent. */
  remove(): Promise<void>;
}

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', [...args], { timeout: 30_000 });
}

/** Creates a CA named `caName` in a fresh temp dir. Call `remove()` in an after hook. */
export async function createTestPki(caName = 'shoal-test-ca'): Promise<TestPki> {
  const dir = await makeTempDir('pki');
  const p = (f: string): string => join(dir.path, f);
  try {
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p('ca.key')]);
    await openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      p('ca.key'),
      '-subj',
      `/CN=${caName}`,
      '-days',
      '3650',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      p('ca.crt'),
    ]);
  } catch (err) {
    await dir.remove();
    throw err;
  }
  const caPem = await readFile(p('ca.crt'));
  let serial = 0;
  return {
    caPem,
    async issue(name: string): Promise<MemberTls> {
      const n = `${name}-${++serial}`;
      await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(`${n}.key`)]);
      await openssl(['req', '-new', '-key', p(`${n}.key`), '-subj', `/CN=${name}`, '-out', p(`${n}.csr`)]);
      await writeFile(
        p(`${n}.ext`),
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature,keyAgreement',
          'extendedKeyUsage=serverAuth,clientAuth',
          `subjectAltName=DNS:${name},IP:127.0.0.1`,
          '',
        ].join('\n'),
      );
      await openssl([
        'x509',
        '-req',
        '-in',
        p(`${n}.csr`),
        '-CA',
        p('ca.crt'),
        '-CAkey',
        p('ca.key'),
        '-set_serial',
        String(1000 + serial),
        '-days',
        '365',
        '-sha256',
        '-extfile',
        p(`${n}.ext`),
        '-out',
        p(`${n}.crt`),
      ]);
      return { caPem, certPem: await readFile(p(`${n}.crt`)), keyPem: await readFile(p(`${n}.key`)) };
    },
    remove: dir.remove,
  };
}
