// Exec, files and snapshots through the node agent's gRPC API on real LXC instances: exit codes,
// stdin, a pty with resize, file push/pull with ownership and modes, symlink escape attempts
// refused, and snapshot restore bringing content back. One agent and one running instance for the
// file (restored between tests where a test changes it).
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import * as pb from '../../../proto/gen/shoal/agent/v1/agent.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { AgentFixture, op } from '../../support/agent-fixture.js';
import { HOST_TAG } from '../../support/host-plan.js';

const code = (c: ErrorCode, includes?: string) => (err: unknown) =>
  isShoalError(err, c) && (includes === undefined || err.message.includes(includes));

describe('src/node-agent/service.ts (integration: exec, files, snapshots over gRPC)', function () {
  this.timeout(120_000);
  let fx: AgentFixture;
  let name: string;
  before(async () => {
    fx = await AgentFixture.start();
    name = fx.name('exec');
    await fx.create(name);
    await fx.client.unary('startInstance', { operationId: op(), project: 'default', name });
  });
  after(async () => {
    await fx?.close();
  });

  describe('exec', () => {
    it('returns exit codes and separates stdout from stderr', async () => {
      assert.deepEqual(await fx.exec(name, ['sh', '-c', 'echo out; echo err >&2; exit 3']), { stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
      assert.equal((await fx.exec(name, ['true'])).exitCode, 0);
      const missing = await fx.exec(name, ['/no/such/command']);
      assert.notEqual(missing.exitCode, 0);
    });

    it('passes stdin through and ends it on close', async () => {
      const big = 'x'.repeat(300_000) + '\n';
      const r = await fx.exec(name, ['sh', '-c', 'wc -c'], big);
      assert.deepEqual([r.exitCode, r.stdout.trim()], [0, String(big.length)]);
      const up = await fx.exec(name, ['tr', 'a-z', 'A-Z'], 'hello\n');
      assert.equal(up.stdout, 'HELLO\n');
    });

    it('runs with env, cwd and uid', async () => {
      const h = fx.client.exec(op(), { project: 'default', name, command: ['sh', '-c', 'echo $FOO $(pwd) $(id -u)'], env: { FOO: 'bar' }, cwd: '/tmp', uid: 65534, gid: 65534 });
      await h.closeStdin();
      const r = await h.collect();
      assert.deepEqual([r.exitCode, r.stdout.toString()], [0, 'bar /tmp 65534\n']);
    });

    it('gives a pty that can be resized, and delivers signals', async () => {
      // Not an interactive shell: busybox ash's line editor asks the terminal for the cursor
      // position and would eat typed-ahead input.
      const script = 'stty size; tty; read go; stty size; echo oops >&2; exit 7';
      const h = fx.client.exec(op(), { project: 'default', name, command: ['sh', '-c', script], pty: true, width: 80, height: 24 });
      const out1 = h.output[Symbol.asyncIterator]();
      let seen = '';
      while (!/\/dev\/pts\/\d+/.test(seen)) seen += (await out1.next()).value?.data.toString() ?? '';
      assert.match(seen, /24 80/);
      await h.resize(132, 50);
      await h.write('go\n');
      const r = await h.collect();
      const out = r.stdout.toString();
      assert.equal(r.exitCode, 7);
      assert.match(out, /50 132/);
      assert.match(out, /oops/, 'stderr is merged into the pty output');
      assert.equal(r.stderr.length, 0);

      // A signal sent right after the exec starts (before lxc-attach has even spawned the command)
      // is held until the command runs, then delivered (agent-findings F3).
      for (const delayMs of [0, 10]) {
        const t0 = performance.now();
        const s = fx.client.exec(op(), { project: 'default', name, command: ['sleep', '60'] });
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        await s.signal(9);
        assert.equal((await s.collect()).exitCode, 128 + 9);
        assert.ok(performance.now() - t0 < 20_000, `signal after ${delayMs} ms was delivered`);
      }
    });

    it('refuses exec in a stopped or missing instance', async () => {
      await assert.rejects(fx.exec(fx.name('nope'), ['true']), code(ErrorCode.NotFound));
    });
  });

  describe('files', () => {
    it('pushes and pulls a file with owner and mode, lists a directory and reads a symlink', async () => {
      const content = Buffer.alloc(700_000, 7);
      await fx.client.pushFile(op(), { project: 'default', name, path: '/root/blob', type: pb.FileType.FILE_TYPE_FILE, uid: 1000, gid: 1001, mode: 0o640 }, content);
      const got = await fx.client.pullFile({ project: 'default', name, path: '/root/blob' });
      assert.deepEqual([got.header.type, got.header.uid, got.header.gid, got.header.mode, got.header.size], [pb.FileType.FILE_TYPE_FILE, 1000, 1001, 0o640, content.length]);
      assert.ok(got.content.equals(content));
      assert.equal((await fx.exec(name, ['stat', '-c', '%u %g %a %s', '/root/blob'])).stdout, `1000 1001 640 ${content.length}\n`);
      await fx.client.pushFile(op(), { project: 'default', name, path: '/root/blob', type: pb.FileType.FILE_TYPE_FILE, writeMode: pb.FileWriteMode.FILE_WRITE_MODE_APPEND }, Buffer.from('!'));
      assert.equal((await fx.client.pullFile({ project: 'default', name, path: '/root/blob' })).header.size, content.length + 1);

      await fx.client.pushFile(op(), { project: 'default', name, path: '/root/dir', type: pb.FileType.FILE_TYPE_DIRECTORY, mode: 0o750 });
      await fx.client.pushFile(op(), { project: 'default', name, path: '/root/dir/link', type: pb.FileType.FILE_TYPE_SYMLINK, target: '../blob' });
      const dir = await fx.client.pullFile({ project: 'default', name, path: '/root/dir' });
      assert.deepEqual([dir.header.type, dir.header.mode, dir.header.entries], [pb.FileType.FILE_TYPE_DIRECTORY, 0o750, ['link']]);
      const link = await fx.client.pullFile({ project: 'default', name, path: '/root/dir/link' });
      assert.deepEqual([link.header.type, link.header.target], [pb.FileType.FILE_TYPE_SYMLINK, '../blob']);

      await fx.client.unary('deleteFile', { operationId: op(), project: 'default', name, path: '/root/dir/link' });
      await fx.client.unary('deleteFile', { operationId: op(), project: 'default', name, path: '/root/dir' });
      await fx.client.unary('deleteFile', { operationId: op(), project: 'default', name, path: '/root/blob' });
      await assert.rejects(fx.client.pullFile({ project: 'default', name, path: '/root/blob' }), code(ErrorCode.NotFound, '/root/blob'));
    });

    it('refuses paths that escape the instance root, whatever the instance planted', async () => {
      const hostPasswd = await readFile('/etc/passwd', 'utf8');
      // The instance plants symlinks pointing out of its root, relative and absolute.
      const plant = await fx.exec(name, ['sh', '-c', 'ln -sfn ../../../../../../../../etc /root/up && ln -sfn /etc /root/abs && ln -sfn ../../../../../../tmp /root/tmpup']);
      assert.equal(plant.exitCode, 0);
      await assert.rejects(fx.client.pullFile({ project: 'default', name, path: '/root/up/passwd' }), code(ErrorCode.PermissionDenied));
      await assert.rejects(
        fx.client.pullFile({ project: 'default', name, path: '/../../../etc/passwd' }),
        (err: unknown) => isShoalError(err, ErrorCode.PermissionDenied) || isShoalError(err, ErrorCode.InvalidArgument),
      );
      await assert.rejects(
        fx.client.pushFile(op(), { project: 'default', name, path: `/root/tmpup/shoal-${HOST_TAG}-escape`, type: pb.FileType.FILE_TYPE_FILE }, Buffer.from('pwned')),
        code(ErrorCode.PermissionDenied),
      );
      await assert.rejects(readFile(`/tmp/shoal-${HOST_TAG}-escape`), /ENOENT/);
      // An absolute symlink resolves inside the instance (chroot semantics), never to the host.
      const viaAbs = await fx.client.pullFile({ project: 'default', name, path: '/root/abs/passwd' });
      const own = await fx.exec(name, ['cat', '/etc/passwd']);
      assert.equal(viaAbs.content.toString(), own.stdout);
      assert.notEqual(viaAbs.content.toString(), hostPasswd);
      // Pushing onto a planted symlink is refused.
      await assert.rejects(
        fx.client.pushFile(op(), { project: 'default', name, path: '/root/abs', type: pb.FileType.FILE_TYPE_FILE }, Buffer.from('x')),
        code(ErrorCode.PermissionDenied),
      );
      await fx.exec(name, ['rm', '-f', '/root/up', '/root/abs', '/root/tmpup']);
    });
  });

  describe('snapshots', () => {
    it('restores content and config from a snapshot of a running instance', async () => {
      const ref = { project: 'default', name };
      await fx.client.pushFile(op(), { ...ref, path: '/root/state', type: pb.FileType.FILE_TYPE_FILE }, Buffer.from('v1\n'));
      const snap = await fx.client.unary('createInstanceSnapshot', { operationId: op(), ...ref, snapshot: 'snap0' });
      assert.equal(snap.snapshot?.name, 'snap0');
      await fx.client.pushFile(op(), { ...ref, path: '/root/state', type: pb.FileType.FILE_TYPE_FILE }, Buffer.from('v2\n'));
      await fx.client.pushFile(op(), { ...ref, path: '/root/new', type: pb.FileType.FILE_TYPE_FILE }, Buffer.from('later\n'));
      const cur = (await fx.client.unary('getInstance', ref)).instance!.spec!;
      await fx.client.unary('updateInstance', { operationId: op(), spec: { ...cur, config: { ...cur.config, 'user.note': 'after' } } });

      const restored = await fx.client.unary('restoreInstanceSnapshot', { operationId: op(), ...ref, snapshot: 'snap0' });
      assert.equal(restored.instance?.status?.status, 'Running');
      assert.equal(restored.instance?.spec?.config['user.note'], undefined);
      assert.equal((await fx.client.pullFile({ ...ref, path: '/root/state' })).content.toString(), 'v1\n');
      await assert.rejects(fx.client.pullFile({ ...ref, path: '/root/new' }), code(ErrorCode.NotFound));
      assert.deepEqual((await fx.client.unary('listInstanceSnapshots', ref)).snapshots.map((s) => s.name), ['snap0']);
      await fx.client.unary('renameInstanceSnapshot', { operationId: op(), ...ref, snapshot: 'snap0', newName: 'snap1' });
      await fx.client.unary('deleteInstanceSnapshot', { operationId: op(), ...ref, snapshot: 'snap1' });
      assert.deepEqual((await fx.client.unary('listInstanceSnapshots', ref)).snapshots, []);
    });
  });
});
