// shoald as one real member process (test/support/shoald-cluster.ts): `init --auto` bootstraps a
// cluster of one (CA, own certificate, Raft, defaults, storage pool `default`), the REST API
// answers on the unix socket and over HTTPS, a restart resumes from disk, and bad `init` input is
// refused with one line while changing nothing. One cluster for the file, closed in `after`.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, statSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { ShoalCluster } from '../../support/shoald-cluster.js';

function httpsGet(address: string, path: string): Promise<{ status: number; body: { metadata: Record<string, unknown> } }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    https
      .get({ host, port: Number(port), path, rejectUnauthorized: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata: Record<string, unknown> } }));
      })
      .on('error', reject);
  });
}

describe('src/daemon/shoald', () => {
  let c: ShoalCluster;
  before(async function () {
    this.timeout(180_000);
    c = await ShoalCluster.start({ members: 1 });
  });
  after(async function () {
    this.timeout(60_000);
    await c?.close();
  });

  describe('init --auto', () => {
    it('bootstraps a member whose REST API answers on the unix socket and over HTTPS', async () => {
      const m = c.member(0);
      const local = await c.request(m, 'GET', '/1.0');
      assert.equal(local.status, 200);
      const md = local.body.metadata as { auth: string; environment: { server_name: string; server_clustered: boolean; addresses: string[] } };
      assert.equal(md.auth, 'trusted');
      assert.deepEqual([md.environment.server_name, md.environment.server_clustered, md.environment.addresses], [m.name, true, [m.apiAddress]]);
      const remote = await httpsGet(m.apiAddress, '/1.0');
      assert.equal(remote.status, 200);
      assert.equal(remote.body.metadata['auth'], 'untrusted');
    });

    it('keeps the state dir at mode 0711 with the certificates, database and pool inside', () => {
      const m = c.member(0);
      assert.equal(statSync(m.dir).mode & 0o777, 0o711);
      assert.deepEqual(readdirSync(join(m.dir, 'certs')).sort(), ['cluster-ca.crt', 'cluster-ca.key', 'server.crt', 'server.key']);
      assert.equal(statSync(join(m.dir, 'certs', 'server.key')).mode & 0o777, 0o600);
      assert.ok(existsSync(join(m.dir, 'storage-pools', 'default')));
    });

    it('records the member, the default project and profile, and the pool in the database', async () => {
      const m = c.member(0);
      const dump = JSON.parse((await c.shoald(m, ['db', 'dump'], { check: true })).stdout) as Array<{ key: string; value: { record: Record<string, unknown> } }>;
      const rec = (key: string): Record<string, unknown> | undefined => dump.find((d) => d.key === key)?.value.record;
      assert.equal(rec(`members/${m.name}`)?.['state'], 'Created');
      assert.deepEqual(rec(`members/${m.name}`)?.['roles'], ['database', 'database-leader']);
      assert.equal(rec('projects/default')?.['name'], 'default');
      assert.deepEqual((rec('profiles/default/default')?.['devices'] as Record<string, unknown>)['root'], { type: 'disk', path: '/', pool: 'default' });
      assert.equal(rec('storage-pools/default')?.['driver'], 'dir');
    });

    it('refuses a second init with one line and exit code 1', async () => {
      const m = c.member(0);
      const res = await c.shoald(m, ['init', '--auto', '--name', m.name, '--address', m.address]);
      assert.deepEqual([res.code, res.stderr], [1, 'Error: This member is already initialized\n']);
    });
  });

  describe('bad input', () => {
    it('refuses a malformed name, address or backend with one line and leaves the dir uninitialized', async function () {
      this.timeout(120_000);
      const fresh = await c.spawnMember();
      const cases: Array<[string[], string]> = [
        [['--name', 'bad_name', '--address', '127.0.0.1:1'], 'Error: Invalid --name "bad_name": a member name is a host name label (letters, digits and -)\n'],
        [['--name', 'ok', '--address', 'nowhere'], 'Error: Invalid --address "nowhere": expected HOST:PORT\n'],
        [['--name', 'ok', '--address', '127.0.0.1:1', '--storage-backend', 'zfs'], 'Error: Invalid --storage-backend "zfs": expected dir or btrfs\n'],
      ];
      for (const [args, stderr] of cases) {
        const res = await c.shoald(fresh, ['init', '--auto', ...args]);
        assert.deepEqual([res.code, res.stderr], [1, stderr]);
      }
      assert.equal(existsSync(join(fresh.dir, 'member.json')), false);
      assert.deepEqual(readdirSync(join(fresh.dir, 'certs')), []);
      await c.kill(fresh, 'SIGTERM');
    });
  });

  describe('restart', () => {
    it('resumes the member from disk after SIGTERM and after kill -9', async function () {
      this.timeout(120_000);
      const m = c.member(0);
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        await c.kill(m, signal);
        await c.restart(m);
        const res = await c.request(m, 'GET', '/1.0');
        assert.equal(res.status, 200);
        const got = JSON.parse((await c.shoald(m, ['db', 'get', `members/${m.name}`], { check: true })).stdout) as { value: { record: { raft_id: number; state: string } } };
        assert.deepEqual([got.value.record.raft_id, got.value.record.state], [1, 'Created']);
      }
    });
  });
});
