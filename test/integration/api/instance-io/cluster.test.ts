// Instance I/O end to end on a real 2-member ShoalCluster (real shoald processes, real LXC busybox
// containers, gRPC to the node agents): a websocket exec with stdin, stdout, stderr and the exit
// code; an interactive pty with resize; record-output; file push/pull round trips with owner and
// mode; symlink and ".." escapes refused; and exec/files through the follower for an instance that
// lives on the follower (follower → leader API → follower's agent; websockets bridged).
// Containers are created through the agents and recorded in the database directly until
// /1.0/instances exists (cluster-support.ts).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShoalCluster, type ShoalMember } from '../../../support/shoald-cluster.js';
import { instanceName, launch, operationSocket, rawRequest, readUntilBarrier } from './cluster-support.js';

interface Op {
  id: string;
  class: string;
  status: string;
  err: string;
  metadata: { fds?: Record<string, string>; return?: number; output?: Record<string, string> } | null;
}

async function postExec(m: ShoalMember, name: string, body: Record<string, unknown>): Promise<Op> {
  const res = await rawRequest(m, 'POST', `/1.0/instances/${name}/exec`, JSON.stringify(body), { 'content-type': 'application/json' });
  assert.equal(res.status, 202, res.body.toString());
  return res.json<{ metadata: Op }>().metadata;
}

async function waitOp(m: ShoalMember, id: string): Promise<Op> {
  const res = await rawRequest(m, 'GET', `/1.0/operations/${id}/wait?timeout=60`);
  assert.equal(res.status, 200, res.body.toString());
  return res.json<{ metadata: Op }>().metadata;
}

/** Runs `command` non-interactively through `via`; returns stdout, stderr and the exit code. */
async function exec(via: ShoalMember, name: string, command: string[], stdin = ''): Promise<{ stdout: string; stderr: string; code: number }> {
  const op = await postExec(via, name, { command, 'wait-for-websocket': true, interactive: false, environment: {} });
  const fds = op.metadata!.fds!;
  const [s0, s1, s2] = await Promise.all(['0', '1', '2'].map((fd) => operationSocket(via, op.id, fds[fd]!)));
  const out = readUntilBarrier(s1!);
  const err = readUntilBarrier(s2!);
  if (stdin) s0!.send(Buffer.from(stdin), { binary: true });
  s0!.send('', { binary: false });
  const [stdout, stderr] = await Promise.all([out, err]);
  const done = await waitOp(via, op.id);
  assert.equal(done.status, 'Success', done.err);
  return { stdout, stderr, code: done.metadata!.return! };
}

/** Runs the stock `lxc` client (Debian lxd-client 5.0.2) against a member's unix socket; stdin is /dev/null. */
function lxc(m: ShoalMember, conf: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('lxc', args, { env: { ...process.env, LXD_DIR: m.dir, LXD_CONF: conf }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('src/api/routes/instance-io (integration: real cluster, real containers)', function () {
  this.timeout(300_000);
  let c: ShoalCluster;
  let m1: ShoalMember;
  let m2: ShoalMember;
  const onLeader = instanceName('lead');
  const onFollower = instanceName('foll');

  before(async () => {
    c = await ShoalCluster.start({ members: 2, tag: 'ax' });
    // Unprivileged containers must traverse the cluster's temp root (mkdtemp makes it 0700).
    await chmod(c.root, 0o711);
    m1 = await c.leader(c.member(0));
    m2 = c.members.find((m) => m !== m1)!;
    await launch(m1, m1, onLeader);
    await launch(m2, m1, onFollower);
  });
  after(async () => {
    await c?.close();
  });

  it('runs a command over websockets with stdin, stdout, stderr and its exit code', async () => {
    const r = await exec(m1, onLeader, ['sh', '-c', 'read x; echo "got $x"; echo oops >&2; exit 3'], 'hello\n');
    assert.deepEqual(r, { stdout: 'got hello\n', stderr: 'oops\n', code: 3 });
    const env = await exec(m1, onLeader, ['sh', '-c', 'echo $HOME $USER $LANG; pwd']);
    assert.deepEqual(env, { stdout: '/root root C.UTF-8\n/root\n', stderr: '', code: 0 });
  });

  it('gives an interactive exec a pty that follows window-resize', async () => {
    const op = await postExec(m1, onLeader, { command: ['sh', '-c', 'stty size; read go; stty size; exit 7'], 'wait-for-websocket': true, interactive: true, width: 80, height: 24, environment: { TERM: 'xterm' } });
    const fds = op.metadata!.fds!;
    assert.deepEqual(Object.keys(fds).sort(), ['0', 'control']);
    const control = await operationSocket(m1, op.id, fds['control']!);
    const pty = await operationSocket(m1, op.id, fds['0']!);
    let seen = '';
    const all = new Promise<string>((resolve) => {
      pty.on('message', (d: Buffer, isBinary: boolean) => {
        if (isBinary) seen += d.toString();
        else resolve(seen);
      });
    });
    while (!/24 80/.test(seen)) await new Promise((r) => setTimeout(r, 50));
    control.send(JSON.stringify({ command: 'window-resize', args: { width: '132', height: '50' } }));
    await new Promise((r) => setTimeout(r, 200));
    pty.send(Buffer.from('go\n'), { binary: true });
    const out = await all;
    assert.match(out, /50 132/);
    const done = await waitOp(m1, op.id);
    assert.equal(done.metadata!.return, 7);
  });

  it('records output without websockets and serves it under logs/exec-output', async () => {
    const op = await postExec(m1, onLeader, { command: ['sh', '-c', 'echo recorded; echo bad >&2; exit 2'], 'record-output': true, 'wait-for-websocket': false });
    assert.equal(op.class, 'task');
    const done = await waitOp(m1, op.id);
    assert.equal(done.metadata!.return, 2);
    const stdout = await rawRequest(m1, 'GET', done.metadata!.output!['1']!);
    const stderr = await rawRequest(m1, 'GET', done.metadata!.output!['2']!);
    assert.deepEqual([stdout.body.toString(), stderr.body.toString()], ['recorded\n', 'bad\n']);
  });

  it('pushes and pulls files with owner and mode, creates directories and symlinks, deletes', async () => {
    const content = Buffer.alloc(200_000, 'q');
    const base = `/1.0/instances/${onLeader}/files?path=`;
    const put = await rawRequest(m1, 'POST', `${base}/root/blob`, content, { 'x-lxd-uid': '1000', 'x-lxd-gid': '1001', 'x-lxd-mode': '0640', 'content-type': 'application/octet-stream' });
    assert.equal(put.status, 200, put.body.toString());
    const got = await rawRequest(m1, 'GET', `${base}/root/blob`);
    assert.deepEqual([got.status, got.headers['x-lxd-uid'], got.headers['x-lxd-gid'], got.headers['x-lxd-mode'], got.headers['x-lxd-type']], [200, '1000', '1001', '0640', 'file']);
    assert.ok(got.body.equals(content));
    assert.deepEqual(await exec(m1, onLeader, ['stat', '-c', '%u %g %a %s', '/root/blob']), { stdout: `1000 1001 640 ${content.length}\n`, stderr: '', code: 0 });

    assert.equal((await rawRequest(m1, 'POST', `${base}/root/blob`, '!', { 'x-lxd-write': 'append' })).status, 200);
    assert.equal((await rawRequest(m1, 'GET', `${base}/root/blob`)).body.length, content.length + 1);
    assert.equal((await rawRequest(m1, 'POST', `${base}/root/d`, undefined, { 'x-lxd-type': 'directory', 'x-lxd-mode': '0750' })).status, 200);
    assert.equal((await rawRequest(m1, 'POST', `${base}/root/d/link`, '../blob', { 'x-lxd-type': 'symlink' })).status, 200);
    const dir = await rawRequest(m1, 'GET', `${base}/root/d`);
    assert.deepEqual([dir.headers['x-lxd-type'], dir.headers['x-lxd-mode'], dir.json().metadata], ['directory', '0750', ['link']]);
    const link = await rawRequest(m1, 'GET', `${base}/root/d/link`);
    assert.deepEqual([link.headers['x-lxd-type'], link.body.toString()], ['symlink', '/root/blob']);
    for (const p of ['/root/d/link', '/root/d', '/root/blob']) assert.equal((await rawRequest(m1, 'DELETE', `${base}${p}`)).status, 200);
    assert.equal((await rawRequest(m1, 'GET', `${base}/root/blob`)).status, 404);
  });

  it('refuses symlink and ".." escapes out of the instance root', async () => {
    const plant = await exec(m1, onLeader, ['sh', '-c', 'ln -sfn ../../../../../../etc /root/up && ln -sfn /etc /root/abs']);
    assert.equal(plant.code, 0);
    const base = `/1.0/instances/${onLeader}/files?path=`;
    const up = await rawRequest(m1, 'GET', `${base}/root/up/passwd`);
    assert.equal(up.status, 403, up.body.toString());
    assert.equal((await rawRequest(m1, 'GET', `${base}/../../etc/passwd`)).status, 400);
    assert.equal((await rawRequest(m1, 'POST', `${base}/root/up/evil`, 'x')).status, 403);
    // An absolute symlink resolves inside the instance (chroot semantics): the instance's own /etc/passwd.
    const abs = await rawRequest(m1, 'GET', `${base}/root/abs/passwd`);
    assert.equal(abs.status, 200);
    assert.match(abs.body.toString(), /^root:x:0:0:/);
  });

  it('serves exec and files through the follower for an instance on the follower', async () => {
    const r = await exec(m2, onFollower, ['sh', '-c', 'cat; hostname; exit 4'], 'via follower\n');
    assert.deepEqual(r, { stdout: `via follower\n${onFollower}\n`, stderr: '', code: 4 });
    const base = `/1.0/instances/${onFollower}/files?path=`;
    assert.equal((await rawRequest(m2, 'POST', `${base}/tmp/f`, 'follower file', { 'x-lxd-mode': '0600' })).status, 200);
    const got = await rawRequest(m2, 'GET', `${base}/tmp/f`);
    assert.deepEqual([got.status, got.headers['x-lxd-mode'], got.body.toString()], [200, '0600', 'follower file']);
  });

  // Through the leader: lxc waits for the operation on its /1.0/events socket, served by the member
  // it talks to, and members do not relay events to each other yet (no EventRelay in the daemon).
  it('works with the stock lxc client (lxc exec, lxc file push and pull) for an instance on another member', async () => {
    const conf = await mkdtemp(join(tmpdir(), 'shoal-ax-lxc-'));
    try {
      const ex = await lxc(m1, conf, ['exec', onFollower, '--', 'sh', '-c', 'echo $((6*7)); echo to-stderr >&2; exit 5']);
      // lxc prints a first-run banner on stderr before anything else.
      assert.deepEqual([ex.code, ex.stdout, ex.stderr.endsWith('\nto-stderr\n')], [5, '42\n', true], ex.stderr);
      const local = join(conf, 'payload.bin');
      const payload = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
      await writeFile(local, payload);
      const push = await lxc(m1, conf, ['file', 'push', local, `${onFollower}/root/pushed.bin`, '--uid', '1000', '--gid', '1002', '--mode', '0604']);
      assert.equal(push.code, 0, push.stderr);
      assert.deepEqual(await exec(m2, onFollower, ['stat', '-c', '%u %g %a %s', '/root/pushed.bin']), { stdout: `1000 1002 604 ${payload.length}\n`, stderr: '', code: 0 });
      const back = join(conf, 'pulled.bin');
      const pull = await lxc(m1, conf, ['file', 'pull', `${onFollower}/root/pushed.bin`, back]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.ok((await readFile(back)).equals(payload));
    } finally {
      await rm(conf, { recursive: true, force: true });
    }
  });

  it('refuses exec in a missing instance (404) before creating an operation', async () => {
    const res = await rawRequest(m2, 'POST', '/1.0/instances/ax-missing/exec', JSON.stringify({ command: ['true'], 'wait-for-websocket': true }), { 'content-type': 'application/json' });
    assert.deepEqual([res.status, res.json().error], [404, 'Instance "ax-missing" in project "default" not found']);
  });
});
