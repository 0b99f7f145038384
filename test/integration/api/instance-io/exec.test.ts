// POST /1.0/instances/<n>/exec against the real API stack (one-member database, operations,
// websockets over loopback) with a FakeIoAgent as the holder's node agent: refusals before any
// operation, the LXD websocket protocol (fds, barriers, control, return code), record-output.
import { strict as assert } from 'node:assert';
import { StateOperationStore } from '../../../../src/api/adapters/operation-store.js';
import { DEFAULT_EXEC_PATH } from '../../../../src/api/instance-io/exec-env.js';
import type { Operation } from '../../../../src/api/types/index.js';
import { closed, ioApp, readStream, type IoApp } from './support.js';

const post = (t: IoApp, body: unknown, name = 'c1') => t.inject({ method: 'POST', url: `/1.0/instances/${name}/exec`, payload: body as object });

function opOf(res: { json(): unknown }): Operation {
  return (res.json() as { metadata: Operation }).metadata;
}

describe('src/api/routes/instance-io/exec.ts', function () {
  this.timeout(20_000);
  let t: IoApp;
  before(async () => {
    t = await ioApp();
    await t.withInstance('c1');
    await t.withInstance('off', 'Stopped');
    await t.withInstance('ice', 'Frozen');
    await t.withInstance('envy', 'Running', { config: { 'environment.FOO': 'from-config', 'environment.BAR': 'config' } });
  });
  after(async () => {
    await t?.close();
  });

  describe('refusals', () => {
    it('answers 404 for an unknown instance and 400 for stopped or frozen ones, creating no operation', async () => {
      const before = t.deps.operations.list({ project: 'default', allProjects: true }).length;
      const missing = await post(t, { command: ['true'] }, 'nope');
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(missing.json(), {
        type: 'error', status: '', status_code: 0, operation: '', error_code: 404,
        error: 'Instance "nope" in project "default" not found', metadata: null,
      });
      const off = await post(t, { command: ['true'] }, 'off');
      assert.deepEqual([off.statusCode, (off.json() as { error: string }).error], [400, 'Instance is not running']);
      const ice = await post(t, { command: ['true'] }, 'ice');
      assert.deepEqual([ice.statusCode, (ice.json() as { error: string }).error], [400, 'Instance is frozen']);
      assert.equal(t.deps.operations.list({ project: 'default', allProjects: true }).length, before);
    });

    it('refuses record-output with wait-for-websocket or interactive, and a body without a command', async () => {
      const a = await post(t, { command: ['true'], 'record-output': true, 'wait-for-websocket': true });
      assert.deepEqual([a.statusCode, (a.json() as { error: string }).error], [400, 'Cannot use "record-output" in combination with "wait-for-websocket"']);
      const b = await post(t, { command: ['true'], 'record-output': true, interactive: true });
      assert.deepEqual([b.statusCode, (b.json() as { error: string }).error], [400, 'Cannot use "interactive" in combination with "record-output"']);
      assert.equal((await post(t, { environment: {} })).statusCode, 400);
      assert.equal((await post(t, { command: [] })).statusCode, 400);
    });
  });

  describe('wait-for-websocket', () => {
    it('streams stdin, stdout and stderr over the fds sockets and ends with the return code', async () => {
      const execsBefore = t.agent.execs.length;
      t.agent.script = async (_s, io) => {
        const input = await io.stdinUntilClosed();
        io.stdout(`out:${input.toString()}`);
        io.stderr('err!');
        return 3;
      };
      const res = await post(t, { command: ['sh', '-c', 'x'], 'wait-for-websocket': true, interactive: false, environment: { FOO: 'req' }, cwd: '/tmp', user: 1000, group: 1001 }, 'envy');
      assert.equal(res.statusCode, 202);
      const op = opOf(res);
      assert.equal(res.headers['location'], `/1.0/operations/${op.id}`);
      assert.deepEqual([op.class, op.description, op.status_code, op.resources], ['websocket', 'Executing command', 103, { instances: ['/1.0/instances/envy'], containers: ['/1.0/instances/envy'] }]);
      const md = op.metadata as { fds: Record<string, string>; command: string[]; environment: Record<string, string>; interactive: boolean };
      assert.deepEqual(Object.keys(md.fds).sort(), ['0', '1', '2', 'control']);
      assert.deepEqual(md.command, ['sh', '-c', 'x']);
      // Request beats config, config fills the rest, then LXD's defaults (no HOME/USER for uid 1000).
      assert.deepEqual(md.environment, { FOO: 'req', BAR: 'config', PATH: DEFAULT_EXEC_PATH, LANG: 'C.UTF-8' });
      assert.equal(md.interactive, false);
      // The secrets are never written to the operation store.
      const stored = (await new StateOperationStore(t.db.store).list()).find((r) => r.id === op.id);
      assert.deepEqual(stored?.metadata, { command: ['sh', '-c', 'x'], environment: md.environment, interactive: false });

      const [s0, s1, s2] = await Promise.all([t.connect(op.id, md.fds['0']!), t.connect(op.id, md.fds['1']!), t.connect(op.id, md.fds['2']!)]);
      const out = readStream(s1);
      const err = readStream(s2);
      s0.send(Buffer.from('hel'), { binary: true });
      s0.send(Buffer.from('lo'), { binary: true });
      s0.send('', { binary: false }); // barrier: end of stdin
      assert.deepEqual(await out, { data: 'out:hello', barrier: true });
      assert.deepEqual(await err, { data: 'err!', barrier: true });
      const done = await t.deps.operations.wait(op.id, 5000);
      assert.deepEqual([done.op.status, done.op.err, (done.op.metadata as { return: number }).return], ['Success', '', 3]);
      await Promise.all([closed(s0), closed(s1), closed(s2)]);

      const rec = t.agent.execs[execsBefore]!;
      assert.deepEqual(
        { op: rec.operationId, cmd: rec.start.command, cwd: rec.start.cwd, uid: rec.start.uid, gid: rec.start.gid, pty: rec.start.pty, timeout: rec.timeoutMs },
        { op: op.id, cmd: ['sh', '-c', 'x'], cwd: '/tmp', uid: 1000, gid: 1001, pty: false, timeout: 0 },
      );
    });

    it('delivers a long stdin in order (the socket pauses while writes to the agent are in flight)', async () => {
      t.agent.script = async (_s, io) => {
        const input = await io.stdinUntilClosed();
        io.stdout(`${input.length}:${input.subarray(0, 12).toString()}`);
        return 0;
      };
      const op = opOf(await post(t, { command: ['wc'], 'wait-for-websocket': true }));
      const fds = (op.metadata as { fds: Record<string, string> }).fds;
      const [s0, s1] = await Promise.all([t.connect(op.id, fds['0']!), t.connect(op.id, fds['1']!), t.connect(op.id, fds['2']!)]);
      const out = readStream(s1!);
      for (let i = 0; i < 500; i++) s0!.send(Buffer.from(String(i % 10).repeat(1000)), { binary: true });
      s0!.send('', { binary: false });
      assert.deepEqual(await out, { data: '500000:000000000000', barrier: true });
      const rec = t.agent.execs.at(-1)!;
      assert.equal(Buffer.concat(rec.stdin).toString(), Array.from({ length: 500 }, (_, i) => String(i % 10).repeat(1000)).join(''));
      assert.equal((await t.deps.operations.wait(op.id, 5000)).op.status, 'Success');
    });

    it('gives an interactive exec one pty socket plus control, applies resizes and signals', async () => {
      t.agent.script = async (_s, io) => {
        const sig = await io.nextSignal();
        io.stdout(`got ${sig}\r\n`);
        return 128 + sig;
      };
      const res = await post(t, { command: ['bash'], 'wait-for-websocket': true, interactive: true, width: 80, height: 24, environment: { TERM: 'xterm' } });
      const op = opOf(res);
      const md = op.metadata as { fds: Record<string, string>; environment: Record<string, string> };
      assert.deepEqual(Object.keys(md.fds).sort(), ['0', 'control']);
      assert.deepEqual(md.environment, { TERM: 'xterm', PATH: DEFAULT_EXEC_PATH, HOME: '/root', USER: 'root', LANG: 'C.UTF-8' });
      const control = await t.connect(op.id, md.fds['control']!);
      control.send(JSON.stringify({ command: 'window-resize', args: { width: '132', height: '50' } }));
      const pty = await t.connect(op.id, md.fds['0']!);
      const out = readStream(pty);
      control.send(JSON.stringify({ command: 'signal', signal: 15 }));
      assert.deepEqual(await out, { data: 'got 15\r\n', barrier: true });
      const done = await t.deps.operations.wait(op.id, 5000);
      assert.equal((done.op.metadata as { return: number }).return, 143);
      const rec = t.agent.execs.at(-1)!;
      assert.deepEqual([rec.start.pty, rec.start.width, rec.start.height, rec.resizes, rec.signals], [true, 80, 24, [[132, 50]], [15]]);
    });

    it('kills the command when the control socket goes away', async () => {
      t.agent.script = async (_s, io) => 128 + (await io.nextSignal());
      const op = opOf(await post(t, { command: ['sleep', '100'], 'wait-for-websocket': true, interactive: true }));
      const fds = (op.metadata as { fds: Record<string, string> }).fds;
      const control = await t.connect(op.id, fds['control']!);
      await t.connect(op.id, fds['0']!);
      control.close();
      const done = await t.deps.operations.wait(op.id, 5000);
      assert.deepEqual([done.op.status, (done.op.metadata as { return: number }).return, t.agent.execs.at(-1)!.signals], ['Success', 137, [9]]);
    });

    it('refuses a wrong secret and a second connection for the same fd with 403', async () => {
      t.agent.script = async (_s, io) => {
        await io.stdinUntilClosed();
        return 0;
      };
      const op = opOf(await post(t, { command: ['cat'], 'wait-for-websocket': true }));
      const fds = (op.metadata as { fds: Record<string, string> }).fds;
      await assert.rejects(t.connect(op.id, 'f'.repeat(64)), /HTTP 403/);
      const s0 = await t.connect(op.id, fds['0']!);
      await assert.rejects(t.connect(op.id, fds['0']!), /HTTP 403/);
      await t.connect(op.id, fds['1']!);
      await t.connect(op.id, fds['2']!);
      s0.close(); // closing stdin's socket ends stdin
      const done = await t.deps.operations.wait(op.id, 5000);
      assert.equal(done.op.status, 'Success');
    });

    it('fails the operation when the sockets do not connect within 5 s', async () => {
      const op = opOf(await post(t, { command: ['true'], 'wait-for-websocket': true }));
      const fds = (op.metadata as { fds: Record<string, string> }).fds;
      await t.connect(op.id, fds['0']!);
      const done = await t.deps.operations.wait(op.id, 10_000);
      assert.deepEqual([done.op.status, done.op.err], ['Failure', 'Timed out waiting for websockets to connect']);
    });
  });

  describe('without websockets', () => {
    it('runs as a task and returns the exit code; record-output keeps stdout and stderr as exec-output logs', async () => {
      t.agent.script = async (_s, io) => {
        io.stdout('recorded out\n');
        io.stderr('recorded err\n');
        return 5;
      };
      const plain = opOf(await post(t, { command: ['x'] }));
      assert.equal(plain.class, 'task');
      const p = await t.deps.operations.wait(plain.id, 5000);
      assert.deepEqual(p.op.metadata, { return: 5 });
      assert.equal(t.agent.execs.at(-1)!.stdinClosed, true);

      const rec = opOf(await post(t, { command: ['x'], 'record-output': true }));
      const r = await t.deps.operations.wait(rec.id, 5000);
      const out = `/1.0/instances/c1/logs/exec-output/exec_${rec.id}.stdout`;
      const err = `/1.0/instances/c1/logs/exec-output/exec_${rec.id}.stderr`;
      assert.deepEqual(r.op.metadata, { return: 5, output: { '1': out, '2': err } });

      const list = await t.inject({ method: 'GET', url: '/1.0/instances/c1/logs/exec-output' });
      assert.deepEqual((list.json() as { metadata: string[] }).metadata, [err, out]);
      const got = await t.inject({ method: 'GET', url: out });
      assert.deepEqual([got.statusCode, got.headers['content-type'], got.body], [200, 'application/octet-stream', 'recorded out\n']);
      assert.equal((await t.inject({ method: 'DELETE', url: out })).statusCode, 200);
      assert.equal((await t.inject({ method: 'GET', url: out })).statusCode, 404);
      assert.equal((await t.inject({ method: 'DELETE', url: out })).statusCode, 404);
      assert.equal((await t.inject({ method: 'GET', url: '/1.0/instances/c1/logs/exec-output/passwd' })).statusCode, 400);
    });
  });
});
