// Covers src/node-agent/files (InstanceFiles): push/pull/list/delete with ownership and modes, and
// every escape attempt — `..` in the request, absolute symlinks (resolved inside the root, never on
// the host), relative symlink chains climbing out, symlinks in intermediate directories, symlinked
// final components for pull/push/delete, special files, symlink loops, and a directory swapped
// for an escaping symlink concurrently (a real race against a shell loop). Plain temp dirs, plus
// one check through a running LXC instance that ids are seen unshifted inside.
import { strict as assert } from 'node:assert';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { spawnChild, run } from '../../../src/node-agent/exec.js';
import { InstanceFiles, type PullResult } from '../../../src/node-agent/files/instance-files.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { execCollect } from '../../support/exec-helpers.js';
import { LxcFixture, sig } from '../../support/lxc-fixture.js';
import { HOST_TAG } from '../../support/host-plan.js';

const code = (...codes: ErrorCode[]) => (err: unknown) => codes.some((c) => isShoalError(err, c));

async function text(r: PullResult): Promise<string> {
  assert.equal(r.type, 'file');
  if (r.type !== 'file') return '';
  const chunks: Buffer[] = [];
  for await (const c of r.content) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('src/node-agent/files', () => {
  describe('InstanceFiles', () => {
    let base: string;
    let root: string;
    let outside: string;
    let files: InstanceFiles;
    /** Every file under `outside`, to prove nothing was written there. */
    const outsideListing = async (): Promise<string[]> => (await readdir(outside, { recursive: true })).map(String).sort();

    beforeEach(async () => {
      base = await mkdtemp(join(tmpdir(), `shoal-${HOST_TAG}-files-`));
      root = join(base, 'root');
      outside = join(base, 'outside');
      await mkdir(join(root, 'etc'), { recursive: true });
      await mkdir(join(root, 'home/user'), { recursive: true });
      await mkdir(outside);
      await writeFile(join(outside, 'secret'), 'host secret');
      await writeFile(join(root, 'etc/passwd'), 'instance passwd');
      files = new InstanceFiles(root, 'web1');
    });
    afterEach(async () => {
      await rm(base, { recursive: true, force: true });
    });

    it('pushes and pulls a file with owner and mode, overwriting and appending', async () => {
      await files.push('/home/user/notes.txt', { type: 'file', content: 'one\n', uid: 1000, gid: 1001, mode: 0o640 });
      let r = await files.pull('/home/user/notes.txt');
      assert.deepEqual([r.type, r.uid, r.gid, r.mode], ['file', 1000, 1001, 0o640]);
      assert.equal(await text(r), 'one\n');
      await files.push('/home/user/notes.txt', { type: 'file', content: Readable.from([Buffer.from('two\n')]), write: 'append' });
      await files.push('/home/user/notes.txt', { type: 'file', content: 'three\n', write: 'append' });
      r = await files.pull('/home/user/notes.txt');
      assert.equal(await text(r), 'one\ntwo\nthree\n');
      assert.deepEqual([r.uid, r.gid, r.mode], [1000, 1001, 0o640]);
      await files.push('/home/user/notes.txt', { type: 'file', content: 'x' });
      assert.equal(await readFile(join(root, 'home/user/notes.txt'), 'utf8'), 'x');
      await files.push('/etc/new', { type: 'file', content: 'n' });
      const st = await stat(join(root, 'etc/new'));
      assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o644]);
    });

    it('creates directories (with parents on request) and symlinks, and lists directories', async () => {
      await assert.rejects(files.push('/a/b/c', { type: 'directory' }), code(ErrorCode.NotFound));
      await files.push('/a/b/c', { type: 'directory', uid: 5, gid: 6, mode: 0o750 }, { createParents: true });
      const st = await stat(join(root, 'a/b/c'));
      assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [5, 6, 0o750]);
      await files.push('/a/link', { type: 'symlink', target: 'b/c', uid: 7, gid: 8 });
      assert.equal(await readlink(join(root, 'a/link')), 'b/c');
      assert.equal((await lstat(join(root, 'a/link'))).uid, 7);
      assert.deepEqual(await files.list('/a'), ['b', 'link']);
      const r = await files.pull('/');
      assert.equal(r.type, 'directory');
      assert.deepEqual(r.type === 'directory' ? r.entries : [], ['a', 'etc', 'home']);
    });

    it('pulls a symlink as a symlink, without following it', async () => {
      await symlink('/etc/passwd', join(root, 'pw'));
      const r = await files.pull('/pw');
      assert.deepEqual(r.type === 'symlink' ? r.target : undefined, '/etc/passwd');
    });

    it('refuses ".." in request paths', async () => {
      for (const p of ['../../etc/passwd', '/../outside/secret', '/etc/../../outside/secret', '/a/..']) {
        await assert.rejects(files.pull(p), code(ErrorCode.InvalidArgument), p);
        await assert.rejects(files.push(p, { type: 'file', content: 'x' }), code(ErrorCode.InvalidArgument), p);
        await assert.rejects(files.delete(p), code(ErrorCode.InvalidArgument), p);
      }
      assert.deepEqual(await outsideListing(), ['secret']);
    });

    it('resolves absolute symlinks inside the instance root, never on the host', async () => {
      await symlink('/etc', join(root, 'etc-link'));
      await symlink(outside, join(root, 'host-dir'));
      assert.equal(await text(await files.pull('/etc-link/passwd')), 'instance passwd');
      await assert.rejects(files.pull('/host-dir/secret'), code(ErrorCode.NotFound));
      await files.push('/etc-link/written', { type: 'file', content: 'inside' });
      assert.equal(await readFile(join(root, 'etc/written'), 'utf8'), 'inside');
      await files.push('/host-dir/new', { type: 'file', content: 'x' }, { createParents: true });
      assert.equal(await readFile(join(root, outside, 'new'), 'utf8'), 'x');
      assert.deepEqual(await outsideListing(), ['secret']);
      assert.notEqual(await readFile('/etc/passwd', 'utf8'), 'instance passwd');
    });

    it('refuses relative symlink chains that climb out of the root', async () => {
      await mkdir(join(root, 'a/b'), { recursive: true });
      await symlink('../../..', join(root, 'a/b/up'));
      await symlink('l2', join(root, 'l1'));
      await symlink('a/b/up/outside', join(root, 'l2'));
      await symlink('../outside', join(root, 'rel'));
      for (const p of ['/a/b/up/outside/secret', '/l1/secret', '/rel/secret']) {
        await assert.rejects(files.pull(p), code(ErrorCode.PermissionDenied), p);
        await assert.rejects(files.push(p, { type: 'file', content: 'pwned' }), code(ErrorCode.PermissionDenied), p);
        await assert.rejects(files.push(`${p}-new`, { type: 'file', content: 'pwned' }), code(ErrorCode.PermissionDenied), p);
        await assert.rejects(files.delete(p), code(ErrorCode.PermissionDenied), p);
        // The final component of a listing is not followed: the link itself is not a directory.
        await assert.rejects(files.list(p.replace(/\/secret$/, '')), code(ErrorCode.PermissionDenied, ErrorCode.InvalidArgument), p);
      }
      assert.deepEqual(await outsideListing(), ['secret']);
      assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'host secret');
    });

    it('never writes through a symlinked final component and deletes only the link', async () => {
      await symlink(join(outside, 'secret'), join(root, 'etc/shadow'));
      await symlink('../../outside/secret', join(root, 'etc/rel-shadow'));
      for (const p of ['/etc/shadow', '/etc/rel-shadow']) {
        await assert.rejects(files.push(p, { type: 'file', content: 'pwned' }), code(ErrorCode.PermissionDenied), p);
        await assert.rejects(files.push(p, { type: 'file', content: 'pwned', write: 'append' }), code(ErrorCode.PermissionDenied), p);
        await assert.rejects(files.push(p, { type: 'directory' }), code(ErrorCode.PermissionDenied), p);
      }
      await files.delete('/etc/shadow');
      await assert.rejects(lstat(join(root, 'etc/shadow')));
      assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'host secret');
    });

    it('refuses special files and symlink loops without blocking', async () => {
      await run('mkfifo', [join(root, 'fifo')]);
      await run('mknod', [join(root, 'null'), 'c', '1', '3']);
      await symlink('loop2', join(root, 'loop1'));
      await symlink('loop1', join(root, 'loop2'));
      await assert.rejects(files.pull('/fifo'), code(ErrorCode.InvalidArgument));
      await assert.rejects(files.push('/fifo', { type: 'file', content: 'x' }), code(ErrorCode.InvalidArgument));
      await assert.rejects(files.pull('/null'), code(ErrorCode.InvalidArgument));
      await assert.rejects(files.pull('/loop1/x'), code(ErrorCode.InvalidArgument));
    });

    it('deletes files and empty directories, refuses non-empty ones, reports missing paths', async () => {
      await files.push('/d/f', { type: 'file', content: 'x' }, { createParents: true });
      await assert.rejects(files.delete('/d'), code(ErrorCode.FailedPrecondition));
      await files.delete('/d/f');
      await files.delete('/d');
      await assert.rejects(files.delete('/d'), code(ErrorCode.NotFound));
      await assert.rejects(files.delete('/'), code(ErrorCode.InvalidArgument));
    });

    it('never escapes while a directory is swapped for an escaping symlink concurrently', async () => {
      await mkdir(join(root, 'dreal'));
      await writeFile(join(root, 'dreal/secret'), 'inside');
      // d alternates between the real directory and a relative symlink to ../outside.
      const swapper = spawnChild(
        'sh',
        ['-c', 'cd "$1" && while :; do mv -T dreal d; mv -T d dreal; ln -s ../outside dl; mv -T dl d; rm -f d; done', 'sh', root],
        { stdio: 'ignore' },
      );
      const stopped = new Promise((r) => swapper.once('close', r));
      try {
        const seen = new Set<string>();
        for (let i = 0; i < 400; i++) {
          try {
            seen.add(await text(await files.pull('/d/secret')));
          } catch (err) {
            assert.ok(code(ErrorCode.NotFound, ErrorCode.PermissionDenied, ErrorCode.Aborted)(err), String(err));
          }
          try {
            await files.push(`/d/new${i}`, { type: 'file', content: 'pwned' });
          } catch (err) {
            assert.ok(code(ErrorCode.NotFound, ErrorCode.PermissionDenied, ErrorCode.Aborted)(err), String(err));
          }
        }
        assert.ok(!seen.has('host secret'));
      } finally {
        swapper.kill('SIGKILL');
        await stopped;
      }
      assert.deepEqual(await outsideListing(), ['secret']);
      assert.equal(await readFile(join(outside, 'secret'), 'utf8'), 'host secret');
    });
  });

  describe('InstanceFiles on a running LXC instance', () => {
    let fx: LxcFixture;
    beforeEach(async () => {
      fx = await LxcFixture.create();
    });
    afterEach(async () => {
      await fx.close();
    });

    it('shows pushed ids and modes unshifted inside, and pulls what the instance wrote', async () => {
      const d = fx.driver();
      const name = fx.name('fs');
      await d.create(await fx.runtime(name), sig());
      await d.start(name, sig());
      const files = await d.files(name, sig());
      await files.push('/tmp/pushed', { type: 'file', content: 'hi', uid: 1000, gid: 1000, mode: 0o640 });
      assert.equal((await execCollect(d, name, ['stat', '-c', '%u %g %a', '/tmp/pushed'])).stdout, '1000 1000 640\n');
      await execCollect(d, name, ['sh', '-c', 'echo made-inside > /tmp/made; chmod 600 /tmp/made'], { uid: 1000, gid: 1000 });
      const r = await files.pull('/tmp/made');
      assert.deepEqual([r.uid, r.gid, r.mode], [1000, 1000, 0o600]);
      assert.equal(await text(r), 'made-inside\n');
      await chmod(fx.base, 0o711);
      await d.stop(name, { force: true, timeoutMs: 0 }, sig());
    });
  });
});
