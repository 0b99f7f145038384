// The shoal CLI's instance verbs end to end through its real client and transport, against
// FakeLxdServer on a real unix socket: launch/list/info/config/stop/delete, waiting on async
// operations, image upload with progress, the exec websocket protocol with exit codes, and the
// errors users meet (missing instance, unknown key, unknown member), each one stderr line.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { parseCsv } from '../../../src/cli/format/table.js';
import { main } from '../../../src/cli/main.js';
import { FakeLxdServer } from '../../support/fakes/fake-lxd-server.js';

describe('src/cli/main (instance verbs over a unix socket)', () => {
  let dir: string;
  let server: FakeLxdServer;
  let env: Record<string, string>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-cli-unit-'));
    server = await FakeLxdServer.start(join(dir, 'unix.socket'));
    env = { SHOAL_DIR: dir, SHOAL_CONF: join(dir, 'conf') };
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function shoal(args: string[], stdin: Readable = Readable.from([])): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(args, { streams: { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, stdin }, env });
    return { code, out, err };
  }

  it('launches on a target member, lists it with lxc columns and shows its info', async () => {
    const launched = await shoal(['launch', 'busybox', 'web1', '--target', 'm2', '-c', 'user.role=web']);
    assert.deepEqual(launched, { code: 0, out: 'Creating web1\nStarting web1\n', err: '' });
    const table = await shoal(['list']);
    assert.equal(
      table.out,
      [
        '+------+---------+-----------------+------+-----------+-----------+----------+',
        '| NAME |  STATE  |      IPV4       | IPV6 |   TYPE    | SNAPSHOTS | LOCATION |',
        '+------+---------+-----------------+------+-----------+-----------+----------+',
        '| web1 | RUNNING | 10.1.0.5 (eth0) |      | CONTAINER | 0         | m2       |',
        '+------+---------+-----------------+------+-----------+-----------+----------+',
        '',
      ].join('\n'),
    );
    assert.deepEqual(parseCsv((await shoal(['list', '--format', 'csv', '-c', 'nsL'])).out), [['web1', 'RUNNING', 'm2']]);
    const json = JSON.parse((await shoal(['list', '--format', 'json'])).out) as { name: string; config: Record<string, string> }[];
    assert.deepEqual(json.map((i) => [i.name, i.config['user.role']]), [['web1', 'web']]);
    const yaml = parseYaml((await shoal(['list', '--format', 'yaml'])).out) as { name: string }[];
    assert.deepEqual(yaml.map((i) => i.name), ['web1']);
    const info = (await shoal(['info', 'web1'])).out;
    assert.match(info, /^Name: web1\nStatus: RUNNING\nType: container\nArchitecture: x86_64\nLocation: m2\nPID: 1234\n/);
    assert.match(info, /inet: {2}10\.1\.0\.5\/24 \(global\)/);
  });

  it('lets the server name the instance and reports the name', async () => {
    assert.deepEqual(await shoal(['init', 'busybox']), { code: 0, out: 'Creating the instance\nInstance name is: happy-fish\n', err: '' });
  });

  it('sets, gets, unsets and edits instance config and devices', async () => {
    await shoal(['init', 'busybox', 'c1']);
    assert.equal((await shoal(['config', 'set', 'c1', 'limits.cpu=2', 'user.a=b'])).code, 0);
    assert.equal((await shoal(['config', 'get', 'c1', 'limits.cpu'])).out, '2\n');
    assert.equal((await shoal(['config', 'unset', 'c1', 'user.a'])).code, 0);
    assert.equal((await shoal(['config', 'device', 'add', 'c1', 'data', 'disk', 'source=/srv', 'path=/data'])).code, 0);
    assert.deepEqual(server.instances.get('c1')!.devices, { data: { type: 'disk', source: '/srv', path: '/data' } });
    const shown = parseYaml((await shoal(['config', 'show', 'c1'])).out) as { config: Record<string, string> };
    shown.config['user.edited'] = 'yes';
    const { stringify } = await import('yaml');
    process.stdin.isTTY = false;
    // config edit reads stdin when it is not a terminal; the real process's stdin is swapped for the YAML.
    const stdin = Readable.from([stringify(shown)]);
    const original = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    Object.defineProperty(process, 'stdin', { value: stdin, configurable: true });
    try {
      assert.deepEqual(await shoal(['config', 'edit', 'c1']), { code: 0, out: '', err: '' });
    } finally {
      Object.defineProperty(process, 'stdin', original);
    }
    assert.deepEqual(server.instances.get('c1')!.config, { 'limits.cpu': '2', 'user.edited': 'yes' });
    assert.equal((await shoal(['config', 'device', 'remove', 'c1', 'data'])).code, 0);
  });

  it('reports the errors users meet on one line with exit code 1', async () => {
    await shoal(['init', 'busybox', 'c1']);
    assert.deepEqual(await shoal(['info', 'nope']), { code: 1, out: '', err: 'Error: Instance "nope" not found\n' });
    assert.deepEqual(await shoal(['config', 'set', 'c1', 'bogus.key=1']), { code: 1, out: '', err: 'Error: Invalid config: Unknown configuration key: bogus.key\n' });
    assert.deepEqual(await shoal(['launch', 'busybox', 'c2', '--target', 'm9', '-q']), { code: 1, out: '', err: 'Error: Cluster member "m9" not found\n' });
    assert.deepEqual(await shoal(['launch', 'debian', 'c3', '-q']), { code: 1, out: '', err: 'Error: Image "debian" not found\n' });
    assert.deepEqual(await shoal(['start', 'c1']), { code: 0, out: '', err: '' });
    assert.deepEqual(await shoal(['start', 'c1']), { code: 1, out: '', err: 'Error: The instance is already running\n' });
    assert.deepEqual(await shoal(['config', 'unset', 'c1', 'user.never']), { code: 1, out: '', err: 'Error: Can\'t unset key "user.never", it\'s not currently set\n' });
  });

  it('stops, refuses to delete a running instance without --force, and deletes', async () => {
    await shoal(['launch', 'busybox', 'c1', '-q']);
    assert.deepEqual(await shoal(['delete', 'c1']), { code: 1, out: '', err: 'Error: The instance is currently running, stop it first or use --force\n' });
    assert.equal((await shoal(['delete', '-f', 'c1'])).code, 0);
    assert.equal(server.instances.size, 0);
    await shoal(['launch', 'busybox', 'c2', '-q']);
    assert.equal((await shoal(['stop', 'c2'])).code, 0);
    assert.equal(server.instances.get('c2')!.status, 'Stopped');
    assert.equal((await shoal(['pause', 'c2'])).code, 0);
    assert.equal(server.instances.get('c2')!.status, 'Frozen');
  });

  it('runs exec through the websocket protocol and exits with the command\'s code', async () => {
    await shoal(['launch', 'busybox', 'c1', '-q']);
    assert.deepEqual(await shoal(['exec', 'c1', '-T', '--', 'echo', 'hello']), { code: 0, out: 'echo hello\n', err: '' });
    assert.deepEqual(await shoal(['exec', 'c1', '-T', '--', 'fail', '7']), { code: 7, out: '', err: 'failing\n' });
    assert.deepEqual(await shoal(['exec', 'c1', '-T', '--', 'cat'], Readable.from([Buffer.from('piped input\n')])), { code: 0, out: 'piped input\n', err: '' });
    assert.deepEqual(await shoal(['exec', 'nope', '--', 'true']), { code: 1, out: '', err: 'Error: Instance "nope" not found\n' });
  });

  it('uploads an image with progress and adds its alias', async () => {
    const file = join(dir, 'busybox.tar.gz');
    await writeFile(file, Buffer.alloc(3 * 1024 * 1024, 7));
    const r = await shoal(['image', 'import', file, '--alias', 'bb']);
    assert.equal(r.code, 0);
    assert.deepEqual(server.uploads, [3 * 1024 * 1024]);
    assert.match(r.err, /^Transferring image: \d+% /);
    assert.ok(r.err.split('\n').length <= 12, r.err);
    assert.match(r.err, /Transferring image: 100% \([\d.]+[KMG]?i?B\/s\)\n$/);
    assert.equal(r.out, `Image imported with fingerprint: ${'f'.repeat(64)}\n`);
  });
});
