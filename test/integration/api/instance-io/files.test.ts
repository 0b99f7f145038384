// GET/POST/DELETE /1.0/instances/<n>/files, GET /console and /logs against the real API stack
// (one-member database) with a FakeIoAgent as the holder's node agent: LXD's headers and bodies,
// header validation before anything reaches the agent, and agent refusals mapped to HTTP codes.
import { strict as assert } from 'node:assert';
import * as pb from '../../../../proto/gen/shoal/agent/v1/agent.js';
import { ErrorCode, ShoalError } from '../../../../src/shared/index.js';
import { ioApp, type IoApp } from './support.js';

const errorOf = (res: { statusCode: number; json(): unknown }) => [res.statusCode, (res.json() as { error: string }).error];

describe('src/api/routes/instance-io/files.ts', function () {
  this.timeout(20_000);
  let t: IoApp;
  before(async () => {
    t = await ioApp();
    await t.withInstance('c1');
    await t.withInstance('off', 'Stopped');
  });
  after(async () => {
    await t?.close();
  });

  describe('GET', () => {
    it('returns a file raw with its owner, mode and type headers', async () => {
      t.agent.files.set('/etc/hostname', { type: pb.FileType.FILE_TYPE_FILE, uid: 0, gid: 42, mode: 0o640, content: Buffer.from('c1\n') });
      const res = await t.inject({ method: 'GET', url: '/1.0/instances/c1/files?path=/etc/hostname' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(
        [res.headers['x-lxd-uid'], res.headers['x-lxd-gid'], res.headers['x-lxd-mode'], res.headers['x-lxd-type'], res.headers['content-type'], res.body],
        ['0', '42', '0640', 'file', 'application/octet-stream', 'c1\n'],
      );
      // A relative path is made absolute, as LXD does; stopped instances are readable too.
      t.agent.files.set('/root/x', { type: pb.FileType.FILE_TYPE_FILE, uid: 0, gid: 0, mode: 0o600, content: Buffer.from('y') });
      assert.equal((await t.inject({ method: 'GET', url: '/1.0/instances/c1/files?path=root/x' })).body, 'y');
    });

    it('lists a directory as a sync response and gives a symlink target as an absolute path', async () => {
      t.agent.files.set('/etc', { type: pb.FileType.FILE_TYPE_DIRECTORY, uid: 0, gid: 0, mode: 0o755, entries: ['hostname', 'passwd'] });
      const dir = await t.inject({ method: 'GET', url: '/1.0/instances/c1/files?path=/etc' });
      assert.deepEqual([dir.headers['x-lxd-type'], dir.headers['x-lxd-mode']], ['directory', '0755']);
      assert.deepEqual(dir.json(), { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata: ['hostname', 'passwd'] });
      t.agent.files.set('/etc/localtime', { type: pb.FileType.FILE_TYPE_SYMLINK, uid: 0, gid: 0, mode: 0o777, target: '../usr/share/zoneinfo/UTC' });
      const link = await t.inject({ method: 'GET', url: '/1.0/instances/c1/files?path=/etc/localtime' });
      assert.deepEqual([link.headers['x-lxd-type'], link.body], ['symlink', '/usr/share/zoneinfo/UTC']);
    });

    it('maps the agent refusals: missing 404, escaping 403, ".." 400; a missing path argument is 400', async () => {
      t.agent.fileErrors.set('/root/up/passwd', new ShoalError(ErrorCode.PermissionDenied, 'Path "/root/up/passwd" escapes the root of instance "c1"'));
      t.agent.fileErrors.set('/../etc/passwd', new ShoalError(ErrorCode.InvalidArgument, 'Invalid path "/../etc/passwd" in instance "c1": must not contain ".." components'));
      assert.deepEqual(errorOf(await t.inject({ method: 'GET', url: '/1.0/instances/c1/files?path=/root/up/passwd' })), [403, 'Path "/root/up/passwd" escapes the root of instance "c1"']);
      assert.equal((await t.inject({ method: 'GET', url: '/1.0/instances/c1/files?path=/../etc/passwd' })).statusCode, 400);
      assert.equal((await t.inject({ method: 'GET', url: '/1.0/instances/c1/files?path=/nope' })).statusCode, 404);
      assert.deepEqual(errorOf(await t.inject({ method: 'GET', url: '/1.0/instances/c1/files' })), [400, 'Missing path argument']);
      assert.equal((await t.inject({ method: 'GET', url: '/1.0/instances/ghost/files?path=/etc' })).statusCode, 404);
    });
  });

  describe('POST', () => {
    it('streams a file to the agent with uid, gid, octal mode and write mode', async () => {
      const n = t.agent.pushes.length;
      const body = Buffer.alloc(300_000, 'z');
      const res = await t.inject({
        method: 'POST',
        url: '/1.0/instances/off/files?path=/root/blob',
        headers: { 'x-lxd-uid': '1000', 'x-lxd-gid': '1001', 'x-lxd-mode': '0640', 'content-type': 'application/octet-stream' },
        payload: body,
      });
      assert.deepEqual([res.statusCode, res.json()], [200, { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata: {} }]);
      const p = t.agent.pushes[n]!;
      assert.deepEqual(
        { path: p.header.path, type: p.header.type, uid: p.header.uid, gid: p.header.gid, mode: p.header.mode, write: p.header.writeMode },
        { path: '/root/blob', type: pb.FileType.FILE_TYPE_FILE, uid: 1000, gid: 1001, mode: 0o640, write: pb.FileWriteMode.FILE_WRITE_MODE_OVERWRITE },
      );
      assert.ok(p.content.equals(body));
      // No Content-Type at all (curl --data-binary sends one, Go's http client may not): still raw.
      const r2 = await t.inject({ method: 'POST', url: '/1.0/instances/c1/files?path=/root/log', headers: { 'x-lxd-write': 'append' }, payload: '{"not":"json-parsed"}' });
      assert.equal(r2.statusCode, 200);
      assert.deepEqual([t.agent.pushes[n + 1]!.content.toString(), t.agent.pushes[n + 1]!.header.writeMode], ['{"not":"json-parsed"}', pb.FileWriteMode.FILE_WRITE_MODE_APPEND]);
    });

    it('creates directories and symlinks (the body is the target)', async () => {
      const n = t.agent.pushes.length;
      assert.equal((await t.inject({ method: 'POST', url: '/1.0/instances/c1/files?path=/srv/d', headers: { 'x-lxd-type': 'directory', 'x-lxd-mode': '0750' } })).statusCode, 200);
      assert.equal((await t.inject({ method: 'POST', url: '/1.0/instances/c1/files?path=/srv/l', headers: { 'x-lxd-type': 'symlink' }, payload: '/srv/d' })).statusCode, 200);
      const [d, l] = [t.agent.pushes[n]!, t.agent.pushes[n + 1]!];
      assert.deepEqual([d.header.type, d.header.mode, l.header.type, l.header.target], [pb.FileType.FILE_TYPE_DIRECTORY, 0o750, pb.FileType.FILE_TYPE_SYMLINK, '/srv/d']);
    });

    it('refuses bad headers and a missing path with 400 before anything reaches the agent', async () => {
      const n = t.agent.pushes.length;
      const cases: Array<[Record<string, string>, string]> = [
        [{ 'x-lxd-uid': 'root' }, 'Invalid UID: "root"'],
        [{ 'x-lxd-gid': '-5' }, 'Invalid GID: "-5"'],
        [{ 'x-lxd-mode': 'rwxr-x---' }, 'Invalid Mode: "rwxr-x---"'],
        [{ 'x-lxd-type': 'fifo' }, 'Bad file type: fifo'],
        [{ 'x-lxd-write': 'truncate' }, 'Bad file write mode: truncate'],
      ];
      for (const [headers, error] of cases) {
        assert.deepEqual(errorOf(await t.inject({ method: 'POST', url: '/1.0/instances/c1/files?path=/x', headers, payload: 'data' })), [400, error]);
      }
      assert.deepEqual(errorOf(await t.inject({ method: 'POST', url: '/1.0/instances/c1/files', payload: 'data' })), [400, 'Missing path argument']);
      assert.equal(t.agent.pushes.length, n);
    });

    it('maps an escape refused by the agent to 403', async () => {
      t.agent.fileErrors.set('/root/abs/evil', new ShoalError(ErrorCode.PermissionDenied, 'Path "/root/abs/evil" escapes the root of instance "c1"'));
      assert.equal((await t.inject({ method: 'POST', url: '/1.0/instances/c1/files?path=/root/abs/evil', payload: 'x' })).statusCode, 403);
    });
  });

  describe('DELETE', () => {
    it('removes a path through the agent; a missing one is 404', async () => {
      t.agent.files.set('/tmp/gone', { type: pb.FileType.FILE_TYPE_FILE, uid: 0, gid: 0, mode: 0o644, content: Buffer.alloc(0) });
      assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/instances/c1/files?path=/tmp/gone' })).statusCode, 200);
      assert.deepEqual(t.agent.deletes.at(-1), '/tmp/gone');
      assert.equal((await t.inject({ method: 'DELETE', url: '/1.0/instances/c1/files?path=/tmp/gone' })).statusCode, 404);
    });
  });
});

describe('src/api/routes/instance-io/console.ts and logs.ts', function () {
  this.timeout(20_000);
  let t: IoApp;
  before(async () => {
    t = await ioApp();
    await t.withInstance('c1', 'Stopped');
  });
  after(async () => {
    await t?.close();
  });

  it('returns the console log raw, for stopped instances too', async () => {
    t.agent.consoleLog = 'init: booted\n';
    const res = await t.inject({ method: 'GET', url: '/1.0/instances/c1/console' });
    assert.deepEqual([res.statusCode, res.headers['content-type'], res.body], [200, 'application/octet-stream', 'init: booted\n']);
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/instances/ghost/console' })).statusCode, 404);
  });

  it('lists no log files, refuses names LXD does not serve and 404s the ones not kept', async () => {
    assert.deepEqual((await t.inject({ method: 'GET', url: '/1.0/instances/c1/logs' })).json(), { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata: [] });
    assert.deepEqual(errorOf(await t.inject({ method: 'GET', url: '/1.0/instances/c1/logs/passwd' })), [400, 'Log file name "passwd" not valid']);
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/instances/c1/logs/lxc.log' })).statusCode, 404);
    assert.equal((await t.inject({ method: 'GET', url: '/1.0/instances/ghost/logs' })).statusCode, 404);
    assert.deepEqual((await t.inject({ method: 'GET', url: '/1.0/instances/c1/logs/exec-output' })).json(), { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata: [] });
  });
});
