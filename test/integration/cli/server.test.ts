// The shoal CLI against one real shoald member (ShoalCluster, 1 member): server info and
// configuration (get/set/unset/show/edit through stdin YAML), raw queries, operations, events,
// trust tokens and an HTTPS remote added with one, and the errors users meet (unknown key,
// unreachable member, unknown remote, missing resources), each as one stderr line and exit 1.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseCsv } from '../../../src/cli/format/table.js';
import { ShoalCluster } from '../../support/shoald-cluster.js';
import { runShoal, shoalOk } from './run-shoal.js';

describe('src/cli (one real member)', function () {
  this.timeout(120_000);
  let cluster: ShoalCluster;
  let conf: string;
  let env: Record<string, string>;

  before(async () => {
    cluster = await ShoalCluster.start({ members: 1, tag: 'cli', storageBackend: 'none' });
    conf = await mkdtemp(join(tmpdir(), 'shoal-cli-conf-'));
    env = { SHOAL_DIR: cluster.members[0]!.dir, SHOAL_CONF: conf };
  });
  after(async () => {
    await cluster?.close();
    if (conf) await rm(conf, { recursive: true, force: true });
  });

  describe('info', () => {
    it('prints the server as YAML that parses back', async () => {
      const server = parseYaml(await shoalOk(['info'], env)) as { auth: string; environment: { server_name: string } };
      assert.equal(server.auth, 'trusted');
      assert.equal(server.environment.server_name, cluster.members[0]!.name);
    });
  });

  describe('config (server)', () => {
    it('sets, gets, shows and unsets a key', async () => {
      await shoalOk(['config', 'set', 'user.owner=ops'], env);
      assert.equal(await shoalOk(['config', 'get', 'user.owner'], env), 'ops\n');
      await shoalOk(['config', 'set', 'user.team', 'infra'], env);
      const shown = parseYaml(await shoalOk(['config', 'show'], env)) as { config: Record<string, string> };
      assert.equal(shown.config['user.owner'], 'ops');
      assert.equal(shown.config['user.team'], 'infra');
      await shoalOk(['config', 'unset', 'user.owner'], env);
      assert.equal(await shoalOk(['config', 'get', 'user.owner'], env), '\n');
    });

    it('edits the configuration from stdin YAML', async () => {
      const before = await shoalOk(['config', 'show'], env);
      const doc = parseYaml(before) as { config: Record<string, string> };
      doc.config['user.edited'] = 'yes';
      const { stringify } = await import('yaml');
      await shoalOk(['config', 'edit'], env, stringify(doc));
      assert.equal(await shoalOk(['config', 'get', 'user.edited'], env), 'yes\n');
    });

    it('refuses an unknown key with the server message on one line', async () => {
      const r = await runShoal(['config', 'set', 'bogus.key=1'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: .*Unknown configuration key "bogus\.key"\n$/);
    });

    it('refuses broken YAML on edit', async () => {
      const r = await runShoal(['config', 'edit'], env, 'config: [broken\n');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: Failed parsing YAML: [^\n]*\n$/);
    });
  });

  describe('query', () => {
    it('prints the metadata of a raw request as JSON', async () => {
      const meta = JSON.parse(await shoalOk(['query', '/1.0'], env)) as { api_version: string };
      assert.equal(meta.api_version, '1.0');
    });

    it('fails on a path the server does not serve', async () => {
      const r = await runShoal(['query', '/1.0/nothing-here'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: .+\n$/);
    });
  });

  describe('monitor', () => {
    it('prints the lifecycle event of a config change', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../../../src/cli/main.ts'), 'monitor', '--type', 'lifecycle', '--count', '1', '--format', 'json'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
      try {
        const deadline = Date.now() + 30_000;
        while (!err.includes('Waiting for events') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        await shoalOk(['config', 'set', 'user.monitored=1'], env);
        assert.equal(await exited, 0);
        const event = JSON.parse(out.trim()) as { type: string; metadata: { action: string } };
        assert.equal(event.type, 'lifecycle');
        assert.equal(event.metadata.action, 'config-updated');
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });

  describe('operation list', () => {
    it('prints json that parses back', async () => {
      assert.ok(Array.isArray(JSON.parse(await shoalOk(['operation', 'list', '--format', 'json'], env))));
    });
  });

  describe('remote add with a trust token (HTTPS)', () => {
    let clientConf: string;
    before(async () => {
      clientConf = await mkdtemp(join(tmpdir(), 'shoal-cli-conf2-'));
    });
    after(async () => {
      await rm(clientConf, { recursive: true, force: true });
    });

    it('adds the remote, then talks to it over HTTPS with the client certificate', async () => {
      const token = (await shoalOk(['-q', 'config', 'trust', 'add', 'laptop'], env)).trim();
      const remoteEnv = { SHOAL_CONF: clientConf, SHOAL_DIR: '/nonexistent/shoal-cli' };
      assert.equal(await shoalOk(['remote', 'add', 'prod', token], remoteEnv), 'Remote prod added\n');
      const rows = parseCsv(await shoalOk(['remote', 'list', '--format', 'csv'], remoteEnv));
      assert.deepEqual(rows.find((r) => r[0] === 'prod'), ['prod', `https://${cluster.members[0]!.apiAddress}`, 'shoal', 'tls', 'NO', 'NO']);
      const server = parseYaml(await shoalOk(['info', 'prod:'], remoteEnv)) as { auth: string };
      assert.equal(server.auth, 'trusted');
      await shoalOk(['remote', 'switch', 'prod'], remoteEnv);
      await shoalOk(['config', 'set', 'user.via=https'], remoteEnv);
      assert.equal(await shoalOk(['config', 'get', 'user.via'], env), 'https\n');
      const trusted = JSON.parse(await shoalOk(['config', 'trust', 'list', '--format', 'json'], env)) as { name: string }[];
      assert.ok(trusted.some((c) => c.name === 'laptop'));
    });

    it('refuses a token that was already used', async () => {
      const token = (await shoalOk(['-q', 'config', 'trust', 'add', 'once'], env)).trim();
      const a = await mkdtemp(join(tmpdir(), 'shoal-cli-conf3-'));
      const b = await mkdtemp(join(tmpdir(), 'shoal-cli-conf4-'));
      try {
        await shoalOk(['remote', 'add', 'x', token], { SHOAL_CONF: a });
        const r = await runShoal(['remote', 'add', 'x', token], { SHOAL_CONF: b });
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^Error: [^\n]+\n$/);
      } finally {
        await rm(a, { recursive: true, force: true });
        await rm(b, { recursive: true, force: true });
      }
    });
  });

  describe('errors', () => {
    it('reports an unreachable member (no socket) with exit code 1', async () => {
      const r = await runShoal(['list'], { SHOAL_DIR: '/nonexistent/shoal-cli', SHOAL_CONF: conf });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'Error: Failed connecting to unix:/nonexistent/shoal-cli/unix.socket: no server is listening\n');
    });

    it('reports an unknown remote', async () => {
      const r = await runShoal(['info', 'staging:web1'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: /);
    });

    it('reports a missing instance', async () => {
      const r = await runShoal(['info', 'no-such-instance'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: [^\n]*not found\n$/i);
    });
  });
});
