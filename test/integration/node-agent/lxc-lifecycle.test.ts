// Covers LxcInstanceDriver lifecycle on real LXC: unprivileged mapping with an idmapped rootfs,
// cgroup limits (memory, processes; live update), clean and forced stops, start failures that
// surface the LXC log, creates that fail halfway leaving nothing behind, privileged and nesting
// instances, console log. Each test has its own temp LXC path, cleaned in afterEach.
import { strict as assert } from 'node:assert';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probeHostFeatures } from '../../../src/node-agent/drivers/lxc/host-features.js';
import type { LxcInstanceDriver } from '../../../src/node-agent/drivers/lxc/lxc-driver.js';
import { commandSocketName } from '../../../src/node-agent/drivers/lxc/lxc-tools.js';
import { run } from '../../../src/node-agent/exec.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { execCollect } from '../../support/exec-helpers.js';
import { LxcFixture, sig } from '../../support/lxc-fixture.js';

const hasCode = (code: ErrorCode, ...parts: string[]) => (err: unknown) =>
  isShoalError(err, code) && parts.every((p) => (err as Error).message.includes(p));

/** The host path of a v1/v2 cgroup file of the instance whose init is `pid`. */
async function cgroupFile(pid: number, controller: string, file: string): Promise<string> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (v1 !== undefined) return `/sys/fs/cgroup/${controller}${v1.split(':')[2]}/${file}`;
  const v2 = lines.find((l) => l.startsWith('0::')) ?? '';
  return `/sys/fs/cgroup${v2.slice(3)}/${file}`;
}

/** Where an instance reads its memory limit: cgroup v1 memory controller, or cgroup2. */
async function memoryLimitFileInside(): Promise<string> {
  return (await probeHostFeatures()).cgroup.memory === 'v1' ? '/sys/fs/cgroup/memory/memory.limit_in_bytes' : '/sys/fs/cgroup/memory.max';
}

describe('src/node-agent/drivers/lxc', () => {
  let fx: LxcFixture;
  let d: LxcInstanceDriver;
  beforeEach(async () => {
    fx = await LxcFixture.create();
    d = fx.driver();
  });
  afterEach(async () => {
    await fx.close();
  });

  describe('unprivileged mapping', () => {
    it('maps uid 0 inside to 100000 outside and keeps on-disk ids unshifted', async () => {
      const rt = await fx.runtime(fx.name('map'));
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      const { pid } = await d.state(rt.hostName, sig());
      assert.equal((await readFile(`/proc/${pid}/uid_map`, 'utf8')).trim().split(/\s+/).join(' '), '0 100000 65536');
      assert.equal((await readFile(`/proc/${pid}/gid_map`, 'utf8')).trim().split(/\s+/).join(' '), '0 100000 65536');
      assert.equal((await stat(`/proc/${pid}`)).uid, 100000);
      const r = await execCollect(d, rt.hostName, ['sh', '-c', 'id -u; stat -c %u:%g /bin/busybox; touch /root/by-root']);
      assert.deepEqual(r, { code: 0, stdout: '0\n0:0\n', stderr: '' });
      const u = await execCollect(d, rt.hostName, ['sh', '-c', 'touch /tmp/by-user && id -u'], { uid: 1000, gid: 1000 });
      assert.equal(u.stdout, '1000\n');
      const rootfs = join(rt.volumePath, 'rootfs');
      assert.deepEqual([(await stat(join(rootfs, 'tmp/by-user'))).uid, (await stat(join(rootfs, 'tmp/by-user'))).gid], [1000, 1000]);
      assert.equal((await stat(join(rootfs, 'root/by-root'))).uid, 0);
      const shifted = await run('find', [rootfs, '-xdev', '(', '-uid', '+65535', '-o', '-gid', '+65535', ')', '-print']);
      assert.equal(shifted.stdout, '');
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
    });

    it('runs a privileged instance without an idmap when security.privileged=true', async () => {
      const rt = await fx.runtime(fx.name('priv'), { config: { 'security.privileged': 'true' } }, { idmap: null });
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      const { pid } = await d.state(rt.hostName, sig());
      assert.equal((await readFile(`/proc/${pid}/uid_map`, 'utf8')).trim().split(/\s+/).join(' '), '0 0 4294967295');
      assert.equal((await stat(`/proc/${pid}`)).uid, 0);
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
    });

    it('starts a nesting instance with the extra proc and sys mounts', async () => {
      const rt = await fx.runtime(fx.name('nest'), { config: { 'security.nesting': 'true' } });
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      const r = await execCollect(d, rt.hostName, ['sh', '-c', 'test -e /dev/.lxc/proc/self && test -d /dev/.lxc/sys/kernel && echo ok']);
      assert.equal(r.stdout, 'ok\n');
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
    });
  });

  describe('limits', () => {
    it('puts limits.memory in the instance cgroup, visible inside and in state', async () => {
      const rt = await fx.runtime(fx.name('mem'), { config: { 'limits.memory': '96MiB' } });
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      const st = await d.state(rt.hostName, sig());
      assert.equal(st.memory.limitBytes, 96 * 2 ** 20);
      assert.ok(st.memory.usageBytes > 0 && st.memory.peakBytes >= st.memory.usageBytes);
      assert.ok(st.processes >= 1 && st.cpu.usageNs > 0);
      assert.equal((await readFile(await cgroupFile(st.pid, 'memory', 'memory.limit_in_bytes'), 'utf8')).trim(), String(96 * 2 ** 20));
      // The instance's own cgroup view, mounted by LXC at /sys/fs/cgroup (v1 or v2 host).
      const inside = await execCollect(d, rt.hostName, ['cat', await memoryLimitFileInside()]);
      assert.deepEqual(inside, { code: 0, stdout: `${96 * 2 ** 20}\n`, stderr: '' });
      const write = await execCollect(d, rt.hostName, ['sh', '-c', `echo 1073741824 > ${await memoryLimitFileInside()}`]);
      assert.notEqual(write.code, 0, 'an unprivileged instance cannot raise its own limit');
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
    });

    it('enforces limits.processes', async () => {
      const rt = await fx.runtime(fx.name('pids'), { config: { 'limits.processes': '12' } });
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      const { pid } = await d.state(rt.hostName, sig());
      assert.equal((await readFile(await cgroupFile(pid, 'pids', 'pids.max'), 'utf8')).trim(), '12');
      const r = await execCollect(d, rt.hostName, ['sh', '-c', 'for i in $(seq 1 30); do sleep 30 >/dev/null 2>&1 & done; echo started']);
      assert.match(r.stderr, /can't fork/);
      const st = await d.state(rt.hostName, sig());
      assert.ok(st.processes <= 12, `processes ${st.processes}`);
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
    });

    it('applies changed limits live on update and resets removed ones', async () => {
      const rt = await fx.runtime(fx.name('upd'), { config: { 'limits.memory': '64MiB' } });
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      const { pid } = await d.state(rt.hostName, sig());
      const memFile = await cgroupFile(pid, 'memory', 'memory.limit_in_bytes');
      await d.update({ ...rt, spec: { ...rt.spec, config: { 'limits.memory': '80MiB', 'limits.processes': '40' } } }, sig());
      assert.equal((await readFile(memFile, 'utf8')).trim(), String(80 * 2 ** 20));
      assert.equal((await readFile(await cgroupFile(pid, 'pids', 'pids.max'), 'utf8')).trim(), '40');
      assert.match(await readFile(fx.paths.containers + `/${rt.hostName}/config`, 'utf8'), /memory.limit_in_bytes = 83886080/);
      await d.update({ ...rt, spec: { ...rt.spec, config: {} } }, sig());
      assert.ok(Number((await readFile(memFile, 'utf8')).trim()) > 2 ** 60);
      assert.equal((await readFile(await cgroupFile(pid, 'pids', 'pids.max'), 'utf8')).trim(), 'max');
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
    });
  });

  describe('stop', () => {
    it('stops busybox init cleanly with SIGPWR within the timeout and logs the console', async () => {
      const rt = await fx.runtime(fx.name('halt'));
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      const t0 = performance.now();
      await d.stop(rt.hostName, { force: false, timeoutMs: 20_000 }, sig());
      assert.ok(performance.now() - t0 < 15_000);
      assert.equal((await d.state(rt.hostName, sig())).status, 'Stopped');
      assert.match(await d.consoleLog(rt.hostName, sig()), /Requesting system halt/);
    });

    it('fails with DEADLINE_EXCEEDED when init ignores the halt signal, and force kills it', async () => {
      const rt = await fx.runtime(fx.name('stuck'), { config: { 'raw.lxc': 'lxc.signal.halt = SIGCONT' } });
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      await assert.rejects(d.stop(rt.hostName, { force: false, timeoutMs: 1000 }, sig()), hasCode(ErrorCode.DeadlineExceeded, rt.hostName));
      assert.equal((await d.state(rt.hostName, sig())).status, 'Running');
      await d.stop(rt.hostName, { force: true, timeoutMs: 1000 }, sig());
      assert.equal((await d.state(rt.hostName, sig())).status, 'Stopped');
    });

    it('returns only once the LXC monitor is gone, so a start or delete can follow at once', async () => {
      // agent-findings F7: the monitor tears down (post-stop hook, logs) after lxc-stop returns.
      const rt = await fx.runtime(fx.name('td'));
      await d.create(rt, sig());
      const socket = ` @${commandSocketName(fx.paths.containers, rt.hostName)}\n`;
      for (let i = 0; i < 3; i++) {
        await d.start(rt.hostName, sig());
        assert.ok((await readFile('/proc/net/unix', 'utf8')).includes(socket), 'the monitor serves its command socket');
        await d.stop(rt.hostName, { force: i % 2 === 0, timeoutMs: i % 2 === 0 ? 0 : 10_000 }, sig());
        assert.ok(!(await readFile('/proc/net/unix', 'utf8')).includes(socket), `stop ${i} left the monitor running`);
      }
      await d.start(rt.hostName, sig());
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
      await d.delete(rt.hostName, sig());
      assert.ok(!(await readdir(fx.paths.containers)).includes(rt.hostName));
    });
  });

  describe('failures', () => {
    it('surfaces the LXC log when a start fails and stays stopped', async () => {
      const rt = await fx.runtime(fx.name('bad'), { config: { 'raw.lxc': 'lxc.mount.entry = /nonexistent-slx-src mnt none bind 0 0' } });
      await d.create(rt, sig());
      await assert.rejects(d.start(rt.hostName, sig()), hasCode(ErrorCode.Internal, `"${rt.hostName}"`, 'nonexistent-slx-src'));
      assert.equal((await d.state(rt.hostName, sig())).status, 'Stopped');
      await d.delete(rt.hostName, sig());
    });

    it('leaves nothing behind when create fails validation, lacks a rootfs, or fails midway', async () => {
      const bad = await fx.runtime(fx.name('inv'), { config: { 'raw.lxc': 'lxc.rootfs.path = dir:/' } });
      await assert.rejects(d.create(bad, sig()), hasCode(ErrorCode.InvalidArgument, bad.spec.name, 'lxc.rootfs.path'));
      const noRoot = await fx.runtime(fx.name('noroot'), {}, { volumePath: join(fx.base, 'volumes', 'absent') });
      await assert.rejects(d.create(noRoot, sig()), hasCode(ErrorCode.FailedPrecondition, noRoot.spec.name));
      // A cloud-init seed that cannot be written (/var/lib is a file) fails after the directory was made.
      const mid = await fx.runtime(fx.name('mid'), { config: { 'cloud-init.user-data': '#cloud-config\n' } });
      await writeFile(join(mid.volumePath, 'rootfs/var/lib'), 'not a directory');
      await assert.rejects(d.create(mid, sig()), hasCode(ErrorCode.InvalidArgument, 'var/lib'));
      assert.deepEqual(await d.list(sig()), []);
      assert.deepEqual((await readdir(fx.paths.containers)).filter((n) => !n.startsWith('.')), []);
    });
  });
});
