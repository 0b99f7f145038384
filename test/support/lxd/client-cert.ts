/** A self-signed client certificate (ECDSA P-384, as lxc generates), made with the openssl CLI (benchmarks, pylxd tests). */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM material plus the base64 DER that `POST /1.0/certificates {certificate}` takes. */
export interface ClientCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly derBase64: string;
}

/** Generates the certificate in a temp dir and removes the dir again. */
export async function makeClientCert(tag: string, cn = 'shoal-bench-api'): Promise<ClientCert> {
  const dir = await mkdtemp(join(tmpdir(), `shoal-${tag}-cert-`));
  try {
    const key = join(dir, 'client.key');
    const crt = join(dir, 'client.crt');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1', '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-subj', `/CN=${cn}`]);
    const certPem = await readFile(crt, 'utf8');
    const keyPem = await readFile(key, 'utf8');
    return { certPem, keyPem, derBase64: new X509Certificate(certPem).raw.toString('base64') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
