// Covers exec in real LXC instances (src/node-agent/drivers/lxc/exec-session.ts): exit codes
// (including 128+signal and 127), stdin piping, separate stderr, environment (LXD defaults,
// environment.* config, request env), cwd, uid/gid, pty with window resize, signals delivered to
// the command, abort, and refusal on a stopped instance. One running instance serves the suite.
import { strict as assert } from 'node:assert';
import type { ExecSession } from '../../../src/node-agent/drivers/instance-driver.js';
import type { LxcInstanceDriver } from '../../../src/node-agent/drivers/lxc/lxc-driver.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { execCollect } from '../../support/exec-helpers.js';
import { LxcFixture, sig } from '../../support/lxc-fixture.js';

/** Collects a session's stdout until it contains `pattern`. */
function waitFor(s: ExecSession, pattern: RegExp, buf: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (pattern.test(buf.text)) {
        s.stdout.off('data', onData);
        resolve();
      }
    };
    const onData = (b: Buffer): void => {
      buf.text += b.toString();
      check();
    };
    s.stdout.on('data', onData);
    setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in ${JSON.stringify(buf.text)}`)), 20_000).unref();
    check();
  });
}

describe('src/node-agent/drivers/lxc', () => {
  describe('exec', () => {
    let fx: LxcFixture;
    let d: LxcInstanceDriver;
    let name: string;
    before(async () => {
      fx = await LxcFixture.create();
      d = fx.driver();
      name = fx.name('ex');
      await d.create(await fx.runtime(name, { config: { 'environment.FROM_CONFIG': 'cfg', 'environment.OVERRIDDEN': 'cfg' } }), sig());
      await d.start(name, sig());
    });
    after(async () => {
      await fx.close();
    });

    it('returns the exit code of the command', async () => {
      assert.equal((await execCollect(d, name, ['true'])).code, 0);
      assert.equal((await execCollect(d, name, ['sh', '-c', 'exit 7'])).code, 7);
    });

    it('returns 128+N when the command is killed by signal N, and 127 for a missing command', async () => {
      assert.equal((await execCollect(d, name, ['sh', '-c', 'kill -9 $$'])).code, 137);
      assert.equal((await execCollect(d, name, ['/no/such/command'])).code, 127);
    });

    it('pipes stdin and keeps stderr separate from stdout', async () => {
      const r = await execCollect(d, name, ['sh', '-c', 'tr a-z A-Z; echo oops >&2'], { input: 'hello\nworld\n' });
      assert.deepEqual(r, { code: 0, stdout: 'HELLO\nWORLD\n', stderr: 'oops\n' });
    });

    it('passes LXD default, instance and request environment, and nothing else', async () => {
      const r = await execCollect(d, name, ['env'], { env: { OVERRIDDEN: 'req', EXTRA: 'x y' } });
      const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      assert.deepEqual(env, {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        LANG: 'C.UTF-8',
        HOME: '/root',
        USER: 'root',
        FROM_CONFIG: 'cfg',
        OVERRIDDEN: 'req',
        EXTRA: 'x y',
        container: 'lxc',
      });
    });

    it('runs in the requested cwd as the requested uid and gid', async () => {
      const r = await execCollect(d, name, ['sh', '-c', 'pwd; id -u; id -g'], { cwd: '/tmp', uid: 1000, gid: 1001 });
      assert.equal(r.stdout, '/tmp\n1000\n1001\n');
      assert.equal((await execCollect(d, name, ['pwd'])).stdout, '/\n');
      await assert.rejects(
        d.exec(name, { command: ['pwd'], env: {}, pty: false, cwd: '/etc/passwd' }, sig()),
        (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && /cwd/.test((err as Error).message),
      );
    });

    it('gives the command a pty whose size follows resize', async () => {
      const s = await d.exec(name, { command: ['sh'], env: {}, pty: true, width: 91, height: 33 }, sig());
      assert.equal(s.stderr, null);
      const buf = { text: '' };
      // The terminal echoes input: markers are computed so only the output matches.
      s.stdin.write('tty; stty size; echo MARK$((1+0))\n');
      await waitFor(s, /MARK1/, buf);
      assert.match(buf.text, /\/dev\/pts\/\d+\r\n33 91\r\nMARK1\r\n/);
      s.resize(120, 40);
      await new Promise((r) => setTimeout(r, 200));
      s.stdin.write('stty size; echo MARK$((2+0))\n');
      await waitFor(s, /MARK2/, buf);
      assert.match(buf.text, /\r\n40 120\r\nMARK2\r\n/);
      s.stdin.write('exit 4\n');
      assert.equal(await s.exit, 4);
    });

    it('delivers signals to the command, with and without a pty', async () => {
      for (const pty of [false, true]) {
        const s = await d.exec(name, { command: ['sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 1; done'], env: {}, pty }, sig());
        const buf = { text: '' };
        await waitFor(s, /ready/, buf);
        s.signal(15);
        await waitFor(s, /got-term/, buf);
        assert.equal(await s.exit, 3, `pty=${pty}`);
        const k = await d.exec(name, { command: ['sleep', '60'], env: {}, pty }, sig());
        k.stdout.resume();
        k.stderr?.resume();
        k.signal(9);
        assert.equal(await k.exit, 137, `pty=${pty}`);
      }
      assert.equal((await execCollect(d, name, ['sh', '-c', 'ps | grep -c "[s]leep 60" || true'])).stdout, '0\n');
    });

    it('delivers a signal sent in the first 10 ms once the command runs, in order, with and without a pty', async () => {
      for (const pty of [false, true]) {
        for (const delayMs of [0, 2, 5, 10]) {
          const t0 = performance.now();
          const s = await d.exec(name, { command: ['sleep', '30'], env: {}, pty }, sig());
          s.stdout.resume();
          s.stderr?.resume();
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
          s.signal(15);
          assert.equal(await s.exit, 143, `pty=${pty} after ${delayMs} ms`);
          assert.ok(performance.now() - t0 < 10_000, 'killed, not run to completion');
        }
        // Two signals at once: the first reaches the command's own handler, then the second.
        const h = await d.exec(name, { command: ['sh', '-c', 'trap "echo usr1" USR1; trap "echo term; exit 5" TERM; echo ready; while :; do sleep 1; done'], env: {}, pty }, sig());
        const buf = { text: '' };
        await waitFor(h, /ready/, buf);
        h.signal(10);
        h.signal(15);
        await waitFor(h, /term/, buf);
        assert.match(buf.text, /usr1[\s\S]*term/);
        assert.equal(await h.exit, 5);
      }
      assert.equal((await execCollect(d, name, ['sh', '-c', 'ps | grep -c "[s]leep 30" || true'])).stdout, '0\n');
    });

    it('kills the command when its signal aborts', async () => {
      const ac = new AbortController();
      const s = await d.exec(name, { command: ['sleep', '60'], env: {}, pty: false }, ac.signal);
      s.stdout.resume();
      s.stderr?.resume();
      setTimeout(() => ac.abort(), 300);
      assert.equal(await s.exit, 137);
      assert.equal((await execCollect(d, name, ['sh', '-c', 'ps | grep -c "[s]leep 60" || true'])).stdout, '0\n');
    });

    it('refuses to exec in a stopped instance', async () => {
      const other = fx.name('ex2');
      await d.create(await fx.runtime(other), sig());
      await assert.rejects(
        d.exec(other, { command: ['true'], env: {}, pty: false }, sig()),
        (err: unknown) => isShoalError(err, ErrorCode.FailedPrecondition) && (err as Error).message.includes(other),
      );
    });
  });
});
