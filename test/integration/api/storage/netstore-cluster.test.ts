// Storage pools, networks, warnings, metrics and resources against REAL shoald processes: a
// 3-member ShoalCluster (pool pending on every member then created on all of them, a member whose
// `source` does not exist makes the create fail, the others revert, the pool is Errored and a
// warning names the member; metrics scraped from each member and through ?target=; resources
// through ?target=; a network create that cannot succeed on one shared host reverts everywhere)
// and a 1-member cluster (a bridge network handing out a real DHCP lease from dnsmasq to a
// network namespace). Host objects are named with tag `an` and addresses stay in 10.64.0.0/16;
// everything is removed even on failure (bridges, nft tables, dnsmasq by PID, namespaces).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { ShoalCluster, type ShoalMember } from '../../../support/shoald-cluster.js';
import { NetnsHosts, leftovers, randomSuffix } from '../../../support/network-hosts.js';

const TAG = 'an';

function sh(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => execFile(cmd, args, (err, stdout) => resolve({ code: err ? 1 : 0, stdout })));
}

/** GET over the member's unix socket, body as text (metrics are not JSON). */
function getText(m: ShoalMember, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: m.unixSocket, method: 'GET', path, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** dnsmasq drops root and reads its files as nobody: the state dirs must be traversable (as LXD's). */
async function traversable(c: ShoalCluster): Promise<void> {
  await chmod(c.root, 0o711);
  for (const m of c.members) await chmod(m.dir, 0o711);
}

/** Removes a bridge, its nft table and any dnsmasq serving it (by PID from /proc), if present. */
async function removeNetworkLeftovers(name: string): Promise<void> {
  const ps = await sh('sh', ['-c', `for p in /proc/[0-9]*; do if tr "\\0" " " < $p/cmdline 2>/dev/null | grep -q "dnsmasq.*/networks/${name}/"; then echo \${p#/proc/}; fi; done`]);
  for (const pid of ps.stdout.split('\n').map(Number).filter((n) => Number.isSafeInteger(n) && n > 1)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await sh('nft', ['delete', 'table', 'inet', `${name}-shoal`]);
  await sh('ip', ['link', 'del', name]);
}

describe('src/api/routes (storage, networks, warnings, metrics, resources) on a real cluster', function () {
  this.timeout(600_000);

  describe('3 members', () => {
    let c: ShoalCluster;
    const bridge = `${TAG}b${randomSuffix(4)}`;
    before(async () => {
      c = await ShoalCluster.start({ members: 3, tag: TAG, storageBackend: 'none', logLevel: 'warn' });
      await traversable(c);
    });
    after(async () => {
      await c?.close();
      await removeNetworkLeftovers(bridge);
    });

    it('creates a pool pending on every member on all of them, shows each member part, deletes it everywhere', async () => {
      const [m1, m2, m3] = c.members as [ShoalMember, ShoalMember, ShoalMember];
      for (const m of c.members) {
        const res = await c.request(m2, 'POST', `/1.0/storage-pools?target=${m.name}`, { name: 'anp1', driver: 'dir', config: {} });
        assert.equal(res.status, 201, res.body.error);
      }
      const pending = await c.request(m3, 'GET', '/1.0/storage-pools/anp1');
      assert.equal((pending.body.metadata as { status: string }).status, 'Pending');
      const res = await c.request(m3, 'POST', '/1.0/storage-pools', { name: 'anp1', driver: 'dir', config: { 'user.tier': 'test' } });
      assert.equal(res.status, 201, res.body.error);
      for (const m of c.members) assert.ok(existsSync(join(m.dir, 'storage-pools', 'anp1')), `pool dir on ${m.name}`);
      const pool = (await c.request(m1, 'GET', '/1.0/storage-pools/anp1')).body.metadata as { status: string; locations: string[]; config: Record<string, string> };
      assert.equal(pool.status, 'Created');
      assert.deepEqual(pool.locations, c.members.map((m) => m.name).sort());
      assert.deepEqual(pool.config, { 'user.tier': 'test' });
      const onM2 = (await c.request(m1, 'GET', `/1.0/storage-pools/anp1?target=${m2.name}`)).body.metadata as { config: Record<string, string>; status: string };
      assert.equal(onM2.status, 'Created');
      const res2 = await c.request(m1, 'GET', `/1.0/storage-pools/anp1/resources?target=${m2.name}`);
      assert.equal(res2.status, 200, res2.body.error);
      assert.ok((res2.body.metadata as { space: { total: number } }).space.total > 0);
      const del = await c.request(m2, 'DELETE', '/1.0/storage-pools/anp1');
      assert.equal(del.status, 200, del.body.error);
      for (const m of c.members) assert.equal(existsSync(join(m.dir, 'storage-pools', 'anp1')), false, `pool dir gone on ${m.name}`);
    });

    it('reverts on every member when one fails, marks the pool Errored and raises a warning there', async () => {
      const [m1, , m3] = c.members as [ShoalMember, ShoalMember, ShoalMember];
      for (const m of c.members) {
        const config = m === m3 ? { source: `/nonexistent-${TAG}-${randomSuffix(6)}` } : {};
        assert.equal((await c.request(m1, 'POST', `/1.0/storage-pools?target=${m.name}`, { name: 'anp2', driver: 'dir', config })).status, 201);
      }
      const res = await c.request(m1, 'POST', '/1.0/storage-pools', { name: 'anp2', driver: 'dir' });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.error, new RegExp(`^Failed creating storage pool "anp2" on member "${m3.name}": .*not an existing directory`));
      for (const m of c.members) assert.equal(existsSync(join(m.dir, 'storage-pools', 'anp2')), false, `reverted on ${m.name}`);
      const pool = (await c.request(m1, 'GET', '/1.0/storage-pools/anp2')).body.metadata as { status: string; locations: string[] };
      assert.deepEqual([pool.status, pool.locations], ['Errored', []]);

      // Warnings lifecycle: raised for m3, acknowledged, resolved by deleting the pool, deleted.
      const list = (await c.request(m1, 'GET', '/1.0/warnings?recursion=1')).body.metadata as Array<{ uuid: string; type: string; location: string; entity_url: string; status: string }>;
      const w = list.find((x) => x.entity_url === '/1.0/storage-pools/anp2');
      assert.ok(w, JSON.stringify(list));
      assert.deepEqual([w.type, w.location, w.status], ['Storage pool creation failed', m3.name, 'new']);
      assert.equal((await c.request(m3, 'PUT', `/1.0/warnings/${w.uuid}`, { status: 'acknowledged' })).status, 200);
      assert.equal(((await c.request(m1, 'GET', `/1.0/warnings/${w.uuid}`)).body.metadata as { status: string }).status, 'acknowledged');
      assert.equal((await c.request(m1, 'DELETE', '/1.0/storage-pools/anp2')).status, 200);
      assert.equal(((await c.request(m1, 'GET', `/1.0/warnings/${w.uuid}`)).body.metadata as { status: string }).status, 'resolved');
      assert.equal((await c.request(m1, 'DELETE', `/1.0/warnings/${w.uuid}`)).status, 200);
      assert.equal((await c.request(m1, 'GET', `/1.0/warnings/${w.uuid}`)).status, 404);
    });

    it('serves metrics from each member, and from another one through ?target=', async () => {
      const [m1, m2] = c.members as [ShoalMember, ShoalMember];
      for (const [via, path] of [[m1, '/1.0/metrics'], [m2, '/1.0/metrics'], [m1, `/1.0/metrics?target=${m2.name}`]] as const) {
        const res = await getText(via, path);
        assert.equal(res.status, 200, res.body);
        assert.match(res.type, /^text\/plain/);
        assert.match(res.body, /^# HELP lxd_warnings_total /m);
        assert.match(res.body, /^lxd_uptime_seconds \d+$/m);
      }
      assert.equal((await getText(m1, '/1.0/metrics?target=nope')).status, 404);
    });

    it('scrapes per-instance metrics of a running container on another member through ?target=', async () => {
      // The busybox image is built on the serving member (the leader) and the instance is placed
      // there; the scrape goes through another member with ?target=.
      const m2 = await c.leader(c.members[0]!);
      const m1 = c.members.find((m) => m !== m2)!;
      const wait = async (res: { status: number; body: { operation: string; error: string } }): Promise<Record<string, unknown>> => {
        assert.equal(res.status, 202, res.body.error);
        const done = await c.request(m1, 'GET', `${res.body.operation}/wait?timeout=240`, undefined, 250_000);
        const op = done.body.metadata as { status: string; err: string; metadata: Record<string, unknown> | null };
        assert.equal(op.status, 'Success', op.err);
        return op.metadata ?? {};
      };
      for (const m of c.members) assert.equal((await c.request(m1, 'POST', `/1.0/storage-pools?target=${m.name}`, { name: 'anpm', driver: 'dir' })).status, 201);
      assert.equal((await c.request(m1, 'POST', '/1.0/storage-pools', { name: 'anpm', driver: 'dir' })).status, 201);
      const built = await wait(await c.request(m1, 'POST', '/1.0/images', { source: { type: 'busybox' } }, 250_000));
      const fingerprint = built['fingerprint'] as string;
      const name = `anm${randomSuffix(4)}`;
      await wait(await c.request(m1, 'POST', `/1.0/instances?target=${m2.name}`, { name, source: { type: 'image', fingerprint }, devices: { root: { type: 'disk', path: '/', pool: 'anpm' } } }, 250_000));
      await wait(await c.request(m1, 'PUT', `/1.0/instances/${name}/state`, { action: 'start', timeout: 30, force: false, stateful: false }, 120_000));
      try {
        const there = await getText(m1, `/1.0/metrics?target=${m2.name}`);
        assert.equal(there.status, 200, there.body);
        const base = `name="${name}",project="default",type="container"`;
        assert.match(there.body, new RegExp(`^lxd_cpu_seconds_total\\{${base},cpu="total",mode="total"\\} [\\d.e+-]+$`, 'm'));
        assert.match(there.body, new RegExp(`^lxd_memory_MemTotal_bytes\\{${base}\\} [1-9]\\d*$`, 'm'));
        assert.match(there.body, new RegExp(`^lxd_procs_total\\{${base}\\} [1-9]\\d*$`, 'm'));
        assert.match(there.body, /^lxd_instances\{project="default",type="container"\} 1$/m);
        const here = await getText(m1, '/1.0/metrics');
        assert.equal(here.body.includes(name), false, 'metrics are per member');
      } finally {
        await wait(await c.request(m1, 'PUT', `/1.0/instances/${name}/state`, { action: 'stop', timeout: 10, force: true, stateful: false }, 120_000));
        await wait(await c.request(m1, 'DELETE', `/1.0/instances/${name}`, undefined, 120_000));
      }
      const inUse = (await c.request(m1, 'GET', '/1.0/storage-pools/anpm')).body.metadata as { used_by: string[] };
      assert.deepEqual(inUse.used_by, []);
      assert.equal((await c.request(m1, 'DELETE', '/1.0/storage-pools/anpm')).status, 200);
    });

    it('serves resources of another member through ?target=', async () => {
      const [m1, , m3] = c.members as [ShoalMember, ShoalMember, ShoalMember];
      const res = await c.request(m1, 'GET', `/1.0/resources?target=${m3.name}`);
      assert.equal(res.status, 200, res.body.error);
      const r = res.body.metadata as { cpu: { total: number; architecture: string }; memory: { total: number } };
      assert.ok(r.cpu.total >= 1 && r.memory.total > 0);
      assert.equal(r.cpu.architecture, process.arch === 'x64' ? 'x86_64' : r.cpu.architecture);
      assert.equal((await c.request(m1, 'GET', '/1.0/resources?target=nope')).status, 404);
    });

    it('reverts a network everywhere when a member cannot create its bridge (one shared host)', async () => {
      const [m1] = c.members as [ShoalMember];
      for (const m of c.members) assert.equal((await c.request(m1, 'POST', `/1.0/networks?target=${m.name}`, { name: bridge })).status, 201);
      const subnet = `10.64.${100 + Math.floor(Math.random() * 100)}`;
      // Every member shares this host's network namespace: the second bridge of the same name and
      // its dnsmasq on the same gateway cannot both exist, so the create must fail and revert.
      const res = await c.request(m1, 'POST', '/1.0/networks', { name: bridge, config: { 'ipv4.address': `${subnet}.1/24`, 'ipv4.nat': 'false' } }, 120_000);
      assert.ok(res.status >= 400, JSON.stringify(res.body));
      assert.match(res.body.error, new RegExp(`^Failed creating network "${bridge}" on member`));
      assert.doesNotMatch(res.body.error, /traversable/);
      const net = (await c.request(m1, 'GET', `/1.0/networks/${bridge}`)).body.metadata as { status: string; managed: boolean };
      assert.deepEqual([net.status, net.managed], ['Errored', true]);
      assert.equal((await c.request(m1, 'DELETE', `/1.0/networks/${bridge}`)).status, 200);
      assert.equal((await sh('ip', ['link', 'show', bridge])).code, 1, 'no bridge left');
      assert.deepEqual((await leftovers(bridge)).filter((x) => x.startsWith('process')), []);
    });
  });

  describe('1 member', () => {
    let c: ShoalCluster;
    const hosts = new NetnsHosts(`${TAG}${randomSuffix(3)}`);
    const bridge = `${TAG}l${randomSuffix(4)}`;
    before(async () => {
      c = await ShoalCluster.start({ members: 1, tag: TAG, storageBackend: 'none', logLevel: 'warn' });
      await traversable(c);
    });
    after(async () => {
      await hosts.cleanup();
      await c?.close();
      await removeNetworkLeftovers(bridge);
    });

    it('creates a bridge whose dnsmasq hands out a lease that /leases reports', async () => {
      const m = c.members[0]!;
      const subnet = `10.64.${100 + Math.floor(Math.random() * 100)}`;
      const res = await c.request(m, 'POST', '/1.0/networks', { name: bridge, config: { 'ipv4.address': `${subnet}.1/24`, 'ipv4.nat': 'false', 'ipv4.dhcp.ranges': `${subnet}.50-${subnet}.60` } }, 120_000);
      assert.equal(res.status, 201, res.body.error);
      const net = (await c.request(m, 'GET', `/1.0/networks/${bridge}`)).body.metadata as { status: string; config: Record<string, string>; locations: string[] };
      assert.deepEqual([net.status, net.config['ipv4.address'], net.locations], ['Created', `${subnet}.1/24`, [m.name]]);
      const host = await hosts.addHost('h1', bridge);
      const lease = await hosts.dhcp(host, 'anclient');
      assert.match(lease.ip, new RegExp(`^${subnet.replace(/\./g, '\\.')}\\.(5\\d|60)$`));
      const leases = (await c.request(m, 'GET', `/1.0/networks/${bridge}/leases`)).body.metadata as Array<{ hostname: string; hwaddr: string; address: string; type: string; location: string }>;
      assert.deepEqual(leases.find((l) => l.hwaddr === host.hwaddr), { hostname: 'anclient', hwaddr: host.hwaddr, address: lease.ip, type: 'dynamic', location: m.name });
      const state = (await c.request(m, 'GET', `/1.0/networks/${bridge}/state`)).body.metadata as { state: string; addresses: Array<{ address: string }> };
      assert.equal(state.state, 'up');
      assert.ok(state.addresses.some((a) => a.address === `${subnet}.1`));
      await hosts.cleanup();
      assert.equal((await c.request(m, 'DELETE', `/1.0/networks/${bridge}`)).status, 200);
      assert.equal((await sh('ip', ['link', 'show', bridge])).code, 1, 'bridge deleted');
    });
  });
});
