// /1.0/images against a real two-member ShoalCluster (shoald processes, Raft, mTLS agents):
// the server-side busybox build, unified uploads through the follower (forwarded, streamed),
// a mismatched fingerprint that leaves nothing, a split upload, the alias/list/export round trip
// (exported bytes hash to the fingerprint), replication to the other member, delete everywhere.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { imageMembers } from '../../../../src/state/index.js';
import { ShoalCluster, type ShoalMember } from '../../../support/shoald-cluster.js';
import { multipartBody, splitImage, unifiedImage } from './harness.js';

interface Raw {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

function raw(m: ShoalMember, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: m.unixSocket, method, path, timeout: 60_000, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('src/api/routes/images (real cluster)', function () {
  this.timeout(240_000);
  let c: ShoalCluster;
  let leader: ShoalMember;
  let follower: ShoalMember;
  before(async () => {
    c = await ShoalCluster.start({ members: 2, tag: 'amc', storageBackend: 'none', config: { 'cluster.images_minimal_replica': '1' } });
    leader = await c.leader(c.member(0));
    follower = c.members.find((m) => m.name !== leader.name)!;
  });
  after(async () => {
    await c?.close();
  });

  const wait = async (via: ShoalMember, operation: string) => {
    const r = await c.request(via, 'GET', `${operation}/wait?timeout=120`, undefined, 130_000);
    return r.body.metadata as { status: string; err: string; metadata: Record<string, unknown> | null };
  };
  const holders = async (fp: string): Promise<string[]> => {
    const out = await c.shoald(leader, ['db', 'dump', `${imageMembers.prefix}${fp}/`], { check: true });
    return (JSON.parse(out.stdout) as Array<{ key: string }>).map((e) => e.key.split('/').pop()!).sort();
  };
  const upload = (via: ShoalMember, tarball: Buffer, headers: Record<string, string> = {}) =>
    raw(via, 'POST', '/1.0/images', { 'content-type': 'application/octet-stream', ...headers }, tarball);

  it('builds the busybox image on the serving member', async () => {
    const r = await c.request(follower, 'POST', '/1.0/images', { source: { type: 'busybox' }, aliases: [{ name: 'busybox' }] });
    assert.equal(r.status, 202, r.body.error);
    const op = await wait(follower, r.body.operation);
    assert.equal(op.status, 'Success', op.err);
    const fp = op.metadata?.['fingerprint'] as string;
    assert.match(fp, /^[0-9a-f]{64}$/);
    assert.deepEqual(await holders(fp), [leader.name]);
    const a = await c.request(leader, 'GET', '/1.0/images/aliases/busybox');
    assert.equal((a.body.metadata as { target: string }).target, fp);
  });

  it('takes a unified upload through the follower, and a mismatch leaves nothing', async () => {
    const img = unifiedImage('c1');
    const r = await upload(follower, img.tarball, { 'x-lxd-fingerprint': img.fingerprint, 'x-lxd-aliases': 'alias=c1' });
    assert.equal(r.status, 202, r.body.toString());
    const op = await wait(follower, JSON.parse(r.body.toString()).operation);
    assert.deepEqual(op.metadata, { fingerprint: img.fingerprint, size: img.tarball.length });
    // Already stored: the server answers before reading the body, and the reply still arrives.
    const dup = await upload(follower, img.tarball, { 'x-lxd-fingerprint': img.fingerprint });
    assert.equal(dup.status, 409);
    const bad = unifiedImage('c2');
    const m = await upload(follower, bad.tarball, { 'x-lxd-fingerprint': img.fingerprint.replace(/^./, img.fingerprint[0] === 'a' ? 'b' : 'a') });
    assert.equal(m.status, 400);
    const list = (await c.request(leader, 'GET', '/1.0/images')).body.metadata as string[];
    assert.equal(list.some((u) => u.includes(bad.fingerprint)), false);
    assert.deepEqual(await holders(bad.fingerprint), []);
  });

  it('round-trips list, alias and export (unified and split), bytes hashing to the fingerprint', async () => {
    const u = unifiedImage('c3');
    assert.equal((await wait(leader, JSON.parse((await upload(leader, u.tarball)).body.toString()).operation)).status, 'Success');
    const s = splitImage('c4');
    const { body, contentType } = multipartBody(s.meta, s.rootfs);
    const sr = await raw(follower, 'POST', '/1.0/images', { 'content-type': contentType }, body);
    assert.equal(sr.status, 202, sr.body.toString());
    assert.equal((await wait(follower, JSON.parse(sr.body.toString()).operation)).metadata?.['fingerprint'], s.fingerprint);
    assert.equal((await c.request(follower, 'POST', '/1.0/images/aliases', { name: 'c3', target: u.fingerprint })).status, 201);
    const listed = (await c.request(follower, 'GET', '/1.0/images?recursion=1')).body.metadata as Array<{ fingerprint: string; aliases: Array<{ name: string }> }>;
    assert.deepEqual(listed.find((i) => i.fingerprint === u.fingerprint)?.aliases, [{ name: 'c3', description: '' }]);
    const ex = await raw(follower, 'GET', `/1.0/images/${u.fingerprint}/export`);
    assert.equal(ex.status, 200);
    assert.equal(sha256(ex.body), u.fingerprint);
    const exs = await raw(follower, 'GET', `/1.0/images/${s.fingerprint}/export`);
    assert.equal(exs.status, 200);
    assert.match(String(exs.headers['content-type']), /^multipart\/form-data; boundary=/);
    const text = exs.body.includes(s.meta) && exs.body.includes(s.rootfs);
    assert.ok(text, 'the multipart export carries both parts');
  });

  it('replicates to the other member (cluster.images_minimal_replica=-1) and deletes everywhere', async () => {
    assert.equal((await c.request(leader, 'PATCH', '/1.0', { config: { 'cluster.images_minimal_replica': '-1' } })).status, 200);
    const img = unifiedImage('c5');
    const op = await wait(follower, JSON.parse((await upload(follower, img.tarball)).body.toString()).operation);
    assert.equal(op.status, 'Success', op.err);
    assert.deepEqual(await holders(img.fingerprint), [leader.name, follower.name].sort());
    const d = await c.request(follower, 'DELETE', `/1.0/images/${img.fingerprint}`);
    assert.equal(d.status, 202);
    assert.equal((await wait(follower, d.body.operation)).status, 'Success');
    assert.deepEqual(await holders(img.fingerprint), []);
    assert.equal((await c.request(leader, 'GET', `/1.0/images/${img.fingerprint}`)).status, 404);
  });
});
