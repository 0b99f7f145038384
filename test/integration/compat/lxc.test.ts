// The stock lxc 5.0.2 client against a real 3-member Shoal cluster: remote add with a trust token
// (single use), info (also --target), trust list, config, profiles and projects end to end, an
// untrusted client refused, bad requests (names, config keys, JSON, unknown fields, missing
// member) answered with LXD's errors while nothing changes, image import/list/alias/delete, and an
// instance's life: launch --target, list, exec, file push/pull, snapshot, stop, delete.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildBusyboxImage } from '../../../src/node-agent/images/busybox.js';
import { LxcClient } from '../../support/lxd/lxc-client.js';
import { CompatEnv, TAG } from './support.js';

interface ServerInfo {
  auth: string;
  api_extensions: string[];
  environment?: { server_clustered: boolean; server_name: string; addresses: string[]; certificate_fingerprint: string };
}

describe('compat: lxc 5.0.2 client', () => {
  let env: CompatEnv;
  const others: LxcClient[] = [];
  before(async () => {
    env = await CompatEnv.start(3);
  });
  after(async () => {
    for (const c of others) await c.close();
    await env?.close();
  });
  const newClient = async (): Promise<LxcClient> => {
    const c = await LxcClient.create(TAG);
    others.push(c);
    return c;
  };
  const profiles = async (): Promise<string[]> =>
    (JSON.parse(await env.lxc.ok(['profile', 'list', 'shoal:', '--format', 'json'])) as Array<{ name: string }>).map((p) => p.name).sort();

  describe('remote add and info', () => {
    it('trusts the client of `lxc remote add <token>` and shows the server as trusted and clustered', async () => {
      const info = parse(await env.lxc.ok(['info', 'shoal:'])) as ServerInfo;
      assert.equal(info.auth, 'trusted');
      assert.equal(info.environment?.server_clustered, true);
      assert.equal(info.environment?.server_name, env.via.name);
      assert.deepEqual(info.environment?.addresses, [env.via.apiAddress]);
      const trust = JSON.parse(await env.lxc.ok(['config', 'trust', 'list', 'shoal:', '--format', 'json'])) as Array<{ name: string; type: string }>;
      assert.ok(trust.some((c) => c.name === 'compat' && c.type === 'client'), JSON.stringify(trust));
    });

    it('refuses a trust token the second time (single use) and adds no remote', async () => {
      const token = await env.trustToken('once');
      const a = await newClient();
      await a.ok(['remote', 'add', 'shoal', token]);
      const b = await newClient();
      assert.match(await b.fails(['remote', 'add', 'shoal', token]), /No matching certificate add operation found/);
      assert.doesNotMatch(await b.ok(['remote', 'list', '--format', 'csv']), /^shoal,/m);
    });

    it('refuses a wrong password on remote add', async () => {
      const c = await newClient();
      assert.match(await c.fails(['remote', 'add', 'x', `https://${env.via.apiAddress}`, '--accept-certificate', '--password', 'wrong']), /not authorized/);
    });

    it('answers `lxc info --target` from the named member and refuses a missing member', async () => {
      const other = env.cluster.members[2]!;
      const info = parse(await env.lxc.ok(['info', 'shoal:', '--target', other.name])) as ServerInfo;
      assert.equal(info.environment?.server_name, other.name);
      assert.match(await env.lxc.fails(['info', 'shoal:', '--target', 'nosuch']), /Cluster member "nosuch" not found/);
    });
  });

  describe('untrusted client', () => {
    it('sees only the untrusted server fields and is refused everything else', async () => {
      const u = await newClient();
      // Generates u's own certificate (refused), then points u at the same server without trust.
      await u.fails(['remote', 'add', 'x', `https://${env.via.apiAddress}`, '--accept-certificate', '--password', 'wrong']);
      await u.copyRemote(env.lxc, 'shoal');
      const info = parse(await u.ok(['info', 'shoal:'])) as ServerInfo;
      assert.equal(info.auth, 'untrusted');
      // lxc prints its zero-valued environment struct: the server sent none.
      assert.equal(info.environment?.server_name, '');
      assert.deepEqual(info.environment?.addresses, []);
      for (const args of [['profile', 'list', 'shoal:'], ['project', 'list', 'shoal:'], ['config', 'trust', 'list', 'shoal:'], ['profile', 'create', 'shoal:evil']]) {
        assert.match(await u.fails(args), /not authorized/, args.join(' '));
      }
      assert.ok(!(await profiles()).includes('evil'));
    });
  });

  describe('profiles', () => {
    it('creates, sets, edits, shows, renames and deletes a profile', async () => {
      await env.lxc.ok(['profile', 'create', 'shoal:p1']);
      await env.lxc.ok(['profile', 'set', 'shoal:p1', 'limits.cpu=2']);
      assert.equal((await env.lxc.ok(['profile', 'get', 'shoal:p1', 'limits.cpu'])).trim(), '2');
      await env.lxc.ok(['profile', 'edit', 'shoal:p1'], { input: 'description: edited\nconfig:\n  limits.memory: 64MiB\ndevices: {}\n' });
      assert.deepEqual(parse(await env.lxc.ok(['profile', 'show', 'shoal:p1'])), {
        name: 'p1',
        description: 'edited',
        config: { 'limits.memory': '64MiB' },
        devices: {},
        used_by: [],
      });
      // Any member answers with the same data (followers forward to the leader).
      const viaOther = await env.raw('GET', '/1.0/profiles/p1', undefined, env.cluster.members[1]!);
      assert.equal(viaOther.status, 200);
      assert.equal((viaOther.body.metadata as { description: string }).description, 'edited');
      await env.lxc.ok(['profile', 'rename', 'shoal:p1', 'p2']);
      assert.deepEqual(await profiles(), ['default', 'p2']);
      await env.lxc.ok(['profile', 'delete', 'shoal:p2']);
      assert.match(await env.lxc.fails(['profile', 'delete', 'shoal:p2']), /Profile "p2" in project "default" not found/);
      assert.deepEqual(await profiles(), ['default']);
    });

    it('refuses bad names and unknown config keys and changes nothing', async () => {
      await env.lxc.ok(['profile', 'create', 'shoal:keep']);
      const before = await env.lxc.ok(['profile', 'show', 'shoal:keep']);
      assert.match(await env.lxc.fails(['profile', 'create', 'shoal:bad/name']), /Invalid profile name "bad\/name"/);
      assert.match(await env.lxc.fails(['profile', 'create', `shoal:${'x'.repeat(70)}`]), /Invalid profile name/);
      assert.match(await env.lxc.fails(['profile', 'set', 'shoal:keep', 'limits.bogus=2']), /Unknown configuration key "limits.bogus"/);
      assert.equal(await env.lxc.ok(['profile', 'show', 'shoal:keep']), before);
      assert.deepEqual(await profiles(), ['default', 'keep']);
      await env.lxc.ok(['profile', 'delete', 'shoal:keep']);
    });
  });

  describe('projects', () => {
    it('creates a project with config, lists it (with its own default profile) and deletes it', async () => {
      await env.lxc.ok(['project', 'create', 'shoal:proj1', '-c', 'features.images=false']);
      const list = JSON.parse(await env.lxc.ok(['project', 'list', 'shoal:', '--format', 'json'])) as Array<{ name: string; config: Record<string, string> }>;
      assert.deepEqual(list.map((p) => p.name).sort(), ['default', 'proj1']);
      assert.equal(list.find((p) => p.name === 'proj1')?.config['features.images'], 'false');
      const inProject = JSON.parse(await env.lxc.ok(['profile', 'list', 'shoal:', '--project', 'proj1', '--format', 'json'])) as Array<{ name: string }>;
      assert.deepEqual(inProject.map((p) => p.name), ['default']);
      await env.lxc.ok(['project', 'delete', 'shoal:proj1']);
      assert.doesNotMatch(await env.lxc.ok(['project', 'list', 'shoal:', '--format', 'csv']), /^proj1/m);
    });

    it('refuses a bad project name and changes nothing', async () => {
      const before = await env.lxc.ok(['project', 'list', 'shoal:', '--format', 'csv']);
      assert.match(await env.lxc.fails(['project', 'create', 'shoal:bad name']), /Invalid project name "bad name"/);
      assert.equal(await env.lxc.ok(['project', 'list', 'shoal:', '--format', 'csv']), before);
    });
  });

  describe('server config', () => {
    it('refuses an unknown server key and keeps the config', async () => {
      const before = await env.lxc.ok(['config', 'show', 'shoal:']);
      assert.match(await env.lxc.fails(['config', 'set', 'shoal:', 'core.bogus', 'x']), /Unknown configuration key "core.bogus"/);
      assert.equal(await env.lxc.ok(['config', 'show', 'shoal:']), before);
    });
  });

  describe('images', () => {
    it('imports a unified busybox tarball with an alias, lists, shows, aliases and deletes it', async () => {
      const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
      const file = join(env.lxc.dir, 'busybox.tar.xz');
      await writeFile(file, image.tarball);
      const fingerprint = createHash('sha256').update(image.tarball).digest('hex');
      assert.match(await env.lxc.ok(['image', 'import', file, 'shoal:', '--alias', 'bb']), new RegExp(`Image imported with fingerprint: ${fingerprint}`));
      const list = JSON.parse(await env.lxc.ok(['image', 'list', 'shoal:', '--format', 'json'])) as Array<{ fingerprint: string; aliases: Array<{ name: string }>; architecture: string; type: string }>;
      assert.deepEqual(
        list.map((i) => ({ fingerprint: i.fingerprint, aliases: i.aliases.map((a) => a.name), type: i.type })),
        [{ fingerprint, aliases: ['bb'], type: 'container' }],
      );
      const shown = parse(await env.lxc.ok(['image', 'show', 'shoal:bb'])) as { public: boolean; properties: Record<string, string> };
      assert.equal(shown.public, false);
      assert.match(shown.properties['description'] ?? '', /Busybox/);
      assert.match(await env.lxc.ok(['image', 'info', 'shoal:bb']), new RegExp(`Fingerprint: ${fingerprint}`));
      await env.lxc.ok(['image', 'alias', 'create', 'shoal:bb2', fingerprint]);
      assert.match(await env.lxc.ok(['image', 'alias', 'list', 'shoal:', '--format', 'csv']), /^bb2,/m);
      assert.match(await env.lxc.fails(['image', 'alias', 'create', 'shoal:bb2', fingerprint]), /already exists/);
      await env.lxc.ok(['image', 'delete', 'shoal:bb']);
      assert.deepEqual(JSON.parse(await env.lxc.ok(['image', 'list', 'shoal:', '--format', 'json'])), []);
    });
  });

  describe('instances', () => {
    // A joined member: it created the cluster's storage pool when it joined.
    const target = (): string => env.cluster.members[1]!.name;
    before(async () => {
      const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
      const file = join(env.lxc.dir, 'inst.tar.xz');
      await writeFile(file, image.tarball);
      await env.lxc.ok(['image', 'import', file, 'shoal:', '--alias', 'inst']);
    });
    after(async () => {
      await env?.lxc.run(['delete', '--force', 'shoal:c1']);
      await env?.lxc.run(['image', 'delete', 'shoal:inst']);
    });

    it('launches on the --target member, lists it, runs exec, pushes and pulls a file, snapshots, stops and deletes', async () => {
      await env.lxc.ok(['launch', 'shoal:inst', 'shoal:c1', '--target', target()]);
      assert.equal((await env.lxc.ok(['list', 'shoal:', '--format', 'csv', '-c', 'nsL'])).trim(), `c1,RUNNING,${target()}`);
      const info = await env.lxc.ok(['info', 'shoal:c1']);
      assert.match(info, /^Name: c1$/m);
      assert.match(info, /^Status: RUNNING$/m);
      const exec = await env.lxc.run(['exec', 'shoal:c1', '--', 'sh', '-c', 'echo hi; echo err >&2; exit 3']);
      assert.deepEqual({ code: exec.code, stdout: exec.stdout, stderr: exec.stderr }, { code: 3, stdout: 'hi\n', stderr: 'err\n' });
      const src = join(env.lxc.dir, 'hello.txt');
      const back = join(env.lxc.dir, 'back.txt');
      await writeFile(src, 'hello shoal\n');
      await env.lxc.ok(['file', 'push', src, 'shoal:c1/tmp/hello.txt']);
      assert.equal((await env.lxc.ok(['exec', 'shoal:c1', '--', 'cat', '/tmp/hello.txt'])), 'hello shoal\n');
      await env.lxc.ok(['file', 'pull', 'shoal:c1/tmp/hello.txt', back]);
      assert.equal(await readFile(back, 'utf8'), 'hello shoal\n');
      await env.lxc.ok(['snapshot', 'shoal:c1', 's1']);
      assert.deepEqual(JSON.parse(await env.lxc.ok(['query', 'shoal:/1.0/instances/c1/snapshots'])), ['/1.0/instances/c1/snapshots/s1']);
      await env.lxc.ok(['stop', 'shoal:c1', '--force']);
      assert.equal((await env.lxc.ok(['list', 'shoal:', '--format', 'csv', '-c', 'ns'])).trim(), 'c1,STOPPED');
      await env.lxc.ok(['delete', 'shoal:c1']);
      assert.equal((await env.lxc.ok(['list', 'shoal:', '--format', 'csv'])).trim(), '');
    });

    it('refuses a missing --target member, an existing name and a bad name, creating nothing', async () => {
      assert.match(await env.lxc.fails(['init', 'shoal:inst', 'shoal:c2', '--target', 'nosuch']), /nosuch/);
      assert.match(await env.lxc.fails(['init', 'shoal:inst', 'shoal:bad_name!', '--target', target()]), /Invalid instance name|name/i);
      await env.lxc.ok(['init', 'shoal:inst', 'shoal:c3', '--target', target()]);
      assert.match(await env.lxc.fails(['init', 'shoal:inst', 'shoal:c3', '--target', target()]), /already exists/);
      assert.equal((await env.lxc.ok(['list', 'shoal:', '--format', 'csv', '-c', 'ns'])).trim(), 'c3,STOPPED');
      await env.lxc.ok(['delete', 'shoal:c3']);
    });
  });

  describe('cluster', () => {
    it('lists the members with `lxc cluster list`, all online', async () => {
      const rows = JSON.parse(await env.lxc.ok(['cluster', 'list', 'shoal:', '--format', 'json'])) as Array<{ server_name: string; status: string }>;
      assert.deepEqual(rows.map((r) => r.server_name).sort(), env.cluster.members.map((m) => m.name).sort());
      assert.ok(rows.every((r) => r.status === 'Online'), JSON.stringify(rows));
    });
  });

  describe('storage and networks', () => {
    it('lists the storage pool and the host interfaces', async () => {
      assert.match(await env.lxc.ok(['storage', 'list', 'shoal:', '--format', 'csv']), /^default,dir,/m);
      const nets = JSON.parse(await env.lxc.ok(['network', 'list', 'shoal:', '--format', 'json'])) as Array<{ name: string; managed: boolean }>;
      assert.ok(nets.length > 0 && nets.every((n) => typeof n.name === 'string'), JSON.stringify(nets));
    });
  });

  describe('requests lxc never sends (raw HTTPS with the trusted client certificate)', () => {
    it('answers bad JSON and unknown fields with a 400 error envelope and creates nothing', async () => {
      for (const body of ['{"name": "x",', '{"name": "x", "bogus": 1}', '[1, 2]']) {
        const res = await env.raw('POST', '/1.0/profiles', body);
        assert.equal(res.status, 400, `${body} → ${JSON.stringify(res.body)}`);
        assert.equal(res.body.type, 'error');
        assert.equal(res.body.error_code, 400);
      }
      assert.deepEqual(await profiles(), ['default']);
    });
  });
});
