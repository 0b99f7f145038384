/**
 * Our side of the API benchmark: a real 3-member ShoalCluster (shoald processes on loopback, tag
 * from the run), the benchmark's client certificate trusted through `POST /1.0/certificates`, and,
 * when the instances API exists, the busybox image (same tarball as LXD's) and N stopped instances
 * created with `POST /1.0/instances`, spread by the scheduler.
 */
import { createHash } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { request } from 'node:http';
import { ShoalCluster, type ShoalMember } from '../../test/support/shoald-cluster.js';
import { onCleanup } from '../agent/cleanup.js';
import { say } from '../agent/stats.js';
import { inBatches } from './batches.js';
import type { ClientCert } from '../../test/support/lxd/client-cert.js';

/** The cluster, ready to be measured. */
export interface ShoalApiSide {
  readonly cluster: ShoalCluster;
  /** HTTPS addresses: the leader first, then the followers. */
  readonly addresses: readonly string[];
  readonly leader: ShoalMember;
  /** Whether `GET /1.0/instances` exists (it holds `instances` instances when true). */
  readonly hasInstances: boolean;
}

interface Envelope {
  readonly type: string;
  readonly error?: string;
  readonly error_code?: number;
  readonly operation?: string;
  readonly metadata?: unknown;
}

/** Starts and fills the cluster; cleanup is registered. */
export async function setupShoal(tag: string, cert: ClientCert, tarball: Buffer, instances: number): Promise<ShoalApiSide> {
  const cluster = await ShoalCluster.start({ members: 3, tag });
  onCleanup('Shoal cluster', () => cluster.close());
  // Unprivileged containers need every directory above their rootfs traversable (mkdtemp makes 0700).
  await chmod(cluster.root, 0o711);
  const leader = await cluster.leader(cluster.members[0]!);
  const followers = cluster.members.filter((m) => m !== leader);
  await sync(leader, 'POST', '/1.0/certificates', { type: 'client', name: 'bench', certificate: cert.derBase64 });
  const probe = await call(leader, 'GET', '/1.0/instances');
  const hasInstances = probe.type === 'sync';
  if (hasInstances) {
    await asyncOp(leader, 'POST', '/1.0/images', tarball);
    say(`Shoal: creating ${instances} stopped instances`);
    const fingerprint = createHash('sha256').update(tarball).digest('hex');
    const names = Array.from({ length: instances }, (_, i) => `${tag}-i${i}`);
    await inBatches(names, 4, (name) =>
      asyncOp(leader, 'POST', '/1.0/instances', { name, type: 'container', source: { type: 'image', fingerprint }, profiles: ['default'] }),
    );
    const listed = (await sync(leader, 'GET', '/1.0/instances')) as string[];
    if (listed.length !== instances) throw new Error(`Shoal lists ${listed.length} instances, expected ${instances}`);
  } else {
    say(`Shoal: GET /1.0/instances answered "${probe.error ?? probe.type}": no instances API yet, measuring GET /1.0 only`);
  }
  return { cluster, addresses: [leader, ...followers].map((m) => m.apiAddress), leader, hasInstances };
}

async function sync(m: ShoalMember, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await call(m, method, path, body);
  if (r.type === 'error') throw new Error(`Shoal ${method} ${path}: ${r.error ?? 'error'}`);
  return r.metadata;
}

async function asyncOp(m: ShoalMember, method: string, path: string, body?: unknown): Promise<unknown> {
  let r = await call(m, method, path, body);
  // 503 (no leader, leader changed mid-request; nothing was done): retry as a client would.
  for (let attempt = 1; r.type === 'error' && r.error_code === 503 && attempt <= 10; attempt++) {
    await new Promise((res) => setTimeout(res, 500 * attempt));
    r = await call(m, method, path, body);
  }
  if (r.type === 'error') throw new Error(`Shoal ${method} ${path}: ${r.error ?? 'error'}`);
  if (r.type !== 'async' || !r.operation) return r.metadata;
  const op = await call(m, 'GET', `${r.operation}/wait?timeout=600`);
  const md = op.metadata as { status_code?: number; err?: string } | undefined;
  if (op.type === 'error' || md?.status_code !== 200) throw new Error(`Shoal ${method} ${path}: ${md?.err ?? op.error ?? 'failed'}`);
  return md;
}

/** One call on the member's unix socket; a Buffer body goes as application/octet-stream (image upload). */
function call(m: ShoalMember, method: string, path: string, body?: unknown): Promise<Envelope> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: m.unixSocket,
        path,
        method,
        headers: {
          ...(payload ? { 'content-length': payload.length } : {}),
          'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
