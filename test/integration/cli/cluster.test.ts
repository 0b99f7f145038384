// The shoal CLI against ONE real 3-member ShoalCluster (shoald processes, Raft, LXC busybox
// containers on dir pools): image build/list/import with progress, launch pinned and placed,
// list in json/yaml/csv parsed back, exec with exit codes, file push/pull, snapshot/restore,
// stop/start, config set/edit, storage/network/cluster lists, and the errors users meet (unknown
// key, running instance, missing instance, missing member), each one stderr line and exit ≠ 0.
import { strict as assert } from 'node:assert';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { parseCsv } from '../../../src/cli/format/table.js';
import { ShoalCluster, type RestResponse, type ShoalMember } from '../../support/shoald-cluster.js';
import { rawRequest } from '../api/instance-io/cluster-support.js';
import { runShoal, shoalOk } from './run-shoal.js';

interface ListedInstance {
  name: string;
  status: string;
  location: string;
  config: Record<string, string>;
}

describe('src/cli (3-member cluster, real containers)', function () {
  this.timeout(300_000);
  let c: ShoalCluster;
  let m1: ShoalMember;
  let conf: string;
  let work: string;
  let env: Record<string, string>;
  let fingerprint = '';

  const req = async (method: string, path: string, body?: unknown): Promise<RestResponse> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await c.request(m1, method, path, body, 120_000);
      if (res.status !== 503 || Date.now() > deadline) return res;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const listJson = async (): Promise<ListedInstance[]> => JSON.parse(await shoalOk(['list', '--format', 'json'], env)) as ListedInstance[];
  const one = async (name: string): Promise<ListedInstance> => {
    const found = (await listJson()).find((i) => i.name === name);
    assert.ok(found, `${name} not listed`);
    return found;
  };
  /** A failing command: exit ≠ 0 and exactly one `Error: …` line on stderr matching `re`. */
  const fails = async (args: string[], re: RegExp, stdin = ''): Promise<void> => {
    const r = await runShoal(args, env, stdin);
    assert.notEqual(r.code, 0, `shoal ${args.join(' ')} succeeded: ${r.stdout}`);
    assert.match(r.stderr, /^Error: [^\n]+\n$/, r.stderr);
    assert.match(r.stderr, re);
  };

  before(async () => {
    c = await ShoalCluster.start({ members: 3, tag: 'cc', storageBackend: 'none', config: { 'cluster.offline_threshold': '10' } });
    m1 = c.member(0);
    // Unprivileged containers must traverse the cluster's temp root (mkdtemp makes it 0700).
    await chmod(c.root, 0o711);
    // Pool "local" (dir) on every member, the LXD two-phase way, and the default profile's root disk on it.
    for (const m of c.members) {
      const r = await req('POST', `/1.0/storage-pools?target=${m.name}`, { name: 'local', driver: 'dir' });
      assert.ok(r.status < 300, r.body.error);
    }
    const pool = await req('POST', '/1.0/storage-pools', { name: 'local', driver: 'dir' });
    assert.ok(pool.status < 300, pool.body.error);
    if (pool.status === 202) await req('GET', `${pool.body.operation}/wait?timeout=120`);
    const prof = await req('PATCH', '/1.0/profiles/default', { devices: { root: { type: 'disk', path: '/', pool: 'local' } } });
    assert.equal(prof.status, 200, prof.body.error);
    conf = await mkdtemp(join(tmpdir(), 'shoal-cc-conf-'));
    work = await mkdtemp(join(tmpdir(), 'shoal-cc-work-'));
    env = { SHOAL_DIR: m1.dir, SHOAL_CONF: conf };
    // Wait for a heartbeat to record the new pool's size on every member (the scheduler's input).
    await new Promise((r) => setTimeout(r, 6_000));
  });
  after(async function () {
    if (c && this.test?.parent?.tests.some((t) => t.state === 'failed')) {
      await rm('/tmp/shoal-cc-failed-logs', { recursive: true, force: true });
      await mkdir('/tmp/shoal-cc-failed-logs', { recursive: true });
      for (const m of c.members) await cp(m.logFile, join('/tmp/shoal-cc-failed-logs', `${m.name}.log`)).catch(() => undefined); // a member that never started has no log
    }
    await c?.close();
    if (conf) await rm(conf, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('builds the busybox image and lists it as json', async () => {
    const out = await shoalOk(['image', 'build', 'busybox'], env);
    fingerprint = /fingerprint: ([0-9a-f]{64})/.exec(out)?.[1] ?? '';
    assert.match(fingerprint, /^[0-9a-f]{64}$/, out);
    const images = JSON.parse(await shoalOk(['image', 'list', '--format', 'json'], env)) as Array<{ fingerprint: string; aliases: Array<{ name: string }> }>;
    const img = images.find((i) => i.fingerprint === fingerprint);
    assert.ok(img, 'built image not listed');
    assert.deepEqual(img.aliases.map((a) => a.name), ['busybox']);
  });

  it('launches on a named member and where the scheduler places it; list parses back as json, yaml and csv', async () => {
    const m2 = c.member(1).name;
    await shoalOk(['launch', 'busybox', 'c1', '--target', m2], env);
    await shoalOk(['launch', 'busybox', 'c2'], env);
    const c1 = await one('c1');
    assert.deepEqual([c1.status, c1.location], ['Running', m2]);
    const c2 = await one('c2');
    assert.equal(c2.status, 'Running');
    assert.ok(c.members.some((m) => m.name === c2.location), c2.location);
    const yaml = parseYaml(await shoalOk(['list', '--format', 'yaml'], env)) as ListedInstance[];
    assert.deepEqual(yaml.map((i) => i.name).sort(), ['c1', 'c2']);
    const rows = parseCsv(await shoalOk(['list', '--format', 'csv', '-c', 'nsL'], env));
    assert.deepEqual(rows.find((r) => r[0] === 'c1'), ['c1', 'RUNNING', m2]);
  });

  it('passes exec output and exit codes through', async () => {
    const hi = await runShoal(['exec', 'c1', '--', 'echo', 'hi'], env);
    assert.deepEqual([hi.code, hi.stdout], [0, 'hi\n'], hi.stderr);
    const three = await runShoal(['exec', 'c1', '--', 'sh', '-c', 'exit 3'], env);
    assert.equal(three.code, 3, three.stderr);
  });

  it('pushes a file and pulls it back', async () => {
    const local = join(work, 'motd');
    await writeFile(local, 'hello from shoal\n');
    await shoalOk(['file', 'push', local, 'c1/tmp/motd'], env);
    assert.equal(await shoalOk(['file', 'pull', 'c1/tmp/motd', '-'], env), 'hello from shoal\n');
    const back = join(work, 'motd.back');
    await shoalOk(['file', 'pull', 'c1/tmp/motd', back], env);
    assert.equal(await readFile(back, 'utf8'), 'hello from shoal\n');
  });

  it('snapshots and restores; stops and starts', async () => {
    await shoalOk(['snapshot', 'c2', 's0'], env);
    await shoalOk(['config', 'set', 'c2', 'user.after=1'], env);
    assert.equal(await shoalOk(['config', 'get', 'c2', 'user.after'], env), '1\n');
    await shoalOk(['restore', 'c2', 's0'], env);
    assert.equal(await shoalOk(['config', 'get', 'c2', 'user.after'], env), '\n');
    await shoalOk(['stop', 'c2', '--force'], env);
    assert.equal((await one('c2')).status, 'Stopped');
    await shoalOk(['start', 'c2'], env);
    assert.equal((await one('c2')).status, 'Running');
  });

  it('edits an instance config round trip through stdin YAML; an unknown key is one error line', async () => {
    const doc = parseYaml(await shoalOk(['config', 'show', 'c1'], env)) as { config: Record<string, string> };
    doc.config['user.edited'] = 'yes';
    await shoalOk(['config', 'edit', 'c1'], env, toYaml(doc));
    assert.equal(await shoalOk(['config', 'get', 'c1', 'user.edited'], env), 'yes\n');
    await fails(['config', 'set', 'c1', 'bogus.key=1'], /bogus\.key/);
  });

  it('refuses what users get wrong: a running delete, a missing instance, a missing member', async () => {
    await fails(['delete', 'c1'], /running/);
    await fails(['info', 'nosuch'], /not found/i);
    await fails(['launch', 'busybox', 'c3', '--target', 'nosuch'], /nosuch|not found/i);
    assert.ok(!(await listJson()).some((i) => i.name === 'c3'));
  });

  it('shows where --dry-run would place an instance, and why nothing fits, creating nothing', async () => {
    const target = c.member(2).name;
    const out = await shoalOk(['launch', 'busybox', 'd1', '--target', target, '--dry-run'], env);
    assert.match(out, new RegExp(`^d1 would be placed on ${target}: `, 'm'));
    const r = await runShoal(['launch', 'busybox', 'd2', '-c', 'limits.memory=100000GiB', '--dry-run'], env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: [^\n]+\n$/);
    for (const m of c.members) assert.match(r.stdout, new RegExp(`not ${m.name}: .*memory`, 'i'));
    assert.ok(!(await listJson()).some((i) => i.name === 'd1' || i.name === 'd2'));
  });

  it('lists storage pools, networks and cluster members', async () => {
    const pools = JSON.parse(await shoalOk(['storage', 'list', '--format', 'json'], env)) as Array<{ name: string }>;
    assert.ok(pools.some((p) => p.name === 'local'));
    assert.ok(Array.isArray(JSON.parse(await shoalOk(['network', 'list', '--format', 'json'], env))));
    const members = JSON.parse(await shoalOk(['cluster', 'list', '--format', 'json'], env)) as Array<{ server_name: string; status: string }>;
    assert.deepEqual(members.map((m) => [m.server_name, m.status]).sort(), c.members.map((m) => [m.name, 'Online']).sort());
  });

  it('imports an exported image tarball with progress output', async () => {
    const exported = await rawRequest(m1, 'GET', `/1.0/images/${fingerprint}/export`);
    assert.equal(exported.status, 200, exported.body.toString().slice(0, 200));
    const tarball = join(work, 'busybox.tar.gz');
    await writeFile(tarball, exported.body);
    await shoalOk(['delete', '--force', 'c1', 'c2'], env);
    await shoalOk(['image', 'delete', fingerprint], env);
    const r = await runShoal(['image', 'import', tarball, '--alias', 'bb2'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Transferring image: 100%/);
    assert.match(r.stdout, new RegExp(`fingerprint: ${fingerprint}`));
    const images = JSON.parse(await shoalOk(['image', 'list', '--format', 'json'], env)) as Array<{ fingerprint: string; aliases: Array<{ name: string }> }>;
    assert.deepEqual(images.find((i) => i.fingerprint === fingerprint)?.aliases.map((a) => a.name), ['bb2']);
  });
});
