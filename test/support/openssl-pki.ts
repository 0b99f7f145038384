/**
 * A throw-away test PKI made with openssl: one CA and leaf certificates for loopback servers and
 * clients (SAN DNS:localhost, IP:127.0.0.1; serverAuth and clientAuth, as etcd's peers need).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM file paths of one identity. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** The CA and one leaf per requested name, all under `dir`. */
export interface TestPki {
  readonly ca: string;
  readonly leaves: Readonly<Record<string, CertFiles>>;
  /** The DNS name in every certificate (dial 127.0.0.1 with this as the TLS server name). */
  readonly serverName: string;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates a CA and leaves `names` in `dir` (which must exist). Takes ~50 ms per leaf. */
export function createTestPki(dir: string, names: readonly string[]): TestPki {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7', '-subj', '/CN=shoal-test-ca'], dir);
  writeFileSync(
    join(dir, 'leaf.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n',
  );
  const leaves: Record<string, CertFiles> = {};
  for (const name of names) {
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '7', '-extfile', 'leaf.ext'],
      dir,
    );
    leaves[name] = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  }
  return { ca: join(dir, 'ca.crt'), leaves, serverName: 'localhost' };
}
