// Covers stop detection and boot.autostart on real LXC: an ephemeral instance that powers itself
// off is reported and removed by the (service-side) handler; stops that happen while no agent
// watches are reported when watching starts; a reboot is not a stop; after an "agent restart"
// (a new driver over the same paths) autostart starts what should run, in priority order, and
// leaves running instances alone with their state readable.
import { strict as assert } from 'node:assert';
import { access, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceStopEvent } from '../../../src/node-agent/drivers/instance-driver.js';
import type { LxcInstanceDriver } from '../../../src/node-agent/drivers/lxc/lxc-driver.js';
import { run } from '../../../src/node-agent/exec.js';
import { execCollect } from '../../support/exec-helpers.js';
import { LxcFixture, sig } from '../../support/lxc-fixture.js';

/** Resolves with the first event matching `pred`, or rejects after `ms`. */
function nextEvent(events: InstanceStopEvent[], pred: (e: InstanceStopEvent) => boolean, ms = 30_000): Promise<InstanceStopEvent> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      const e = events.find(pred);
      if (e) return resolve(e);
      if (Date.now() - t0 > ms) return reject(new Error(`no stop event within ${ms} ms: ${JSON.stringify(events)}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

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

  describe('stop detection', () => {
    it('reports an ephemeral instance that powers itself off, and the handler removes it', async () => {
      const events: InstanceStopEvent[] = [];
      const removed: string[] = [];
      const rt = await fx.runtime(fx.name('eph'), { ephemeral: true });
      const watch = d.watchStops((e) => {
        events.push(e);
        if (!e.ephemeral) return;
        // What the service does: delete the definition, then the volume.
        void d.delete(e.hostName, sig()).then(async () => {
          await rm(rt.volumePath, { recursive: true, force: true });
          removed.push(e.hostName);
        });
      });
      try {
        await d.create(rt, sig());
        await d.start(rt.hostName, sig());
        await execCollect(d, rt.hostName, ['poweroff']);
        assert.deepEqual(await nextEvent(events, (e) => e.hostName === rt.hostName), { hostName: rt.hostName, ephemeral: true });
        await nextEvent(events, () => removed.includes(rt.hostName));
        assert.ok(!(await d.list(sig())).includes(rt.hostName));
        assert.equal(await exists(rt.volumePath), false);
      } finally {
        watch.dispose();
      }
    });

    it('reports stops that happened while no agent was watching, once watching starts', async () => {
      const rt = await fx.runtime(fx.name('off'), { ephemeral: true });
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      await run('lxc-stop', ['-P', fx.paths.containers, '-n', rt.hostName, '-k']);
      const events: InstanceStopEvent[] = [];
      const restarted = fx.driver();
      const watch = restarted.watchStops((e) => events.push(e));
      try {
        assert.deepEqual(await nextEvent(events, (e) => e.hostName === rt.hostName), { hostName: rt.hostName, ephemeral: true });
      } finally {
        watch.dispose();
      }
    });

    it('does not report the stop of a failed start, so an ephemeral instance survives it', async () => {
      const rt = await fx.runtime(fx.name('fail'), {
        ephemeral: true,
        config: { 'raw.lxc': 'lxc.mount.entry = /nonexistent-slx-src mnt none bind 0 0' },
      });
      const events: InstanceStopEvent[] = [];
      const watch = d.watchStops((e) => events.push(e));
      try {
        await d.create(rt, sig());
        await assert.rejects(d.start(rt.hostName, sig()));
        for (let i = 0; i < 40 && !(await exists(join(fx.paths.containers, '.shoal/stops', rt.hostName))); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 1000));
        assert.deepEqual(events, []);
        assert.ok((await d.list(sig())).includes(rt.hostName));
      } finally {
        watch.dispose();
      }
    });

    it('does not report a reboot as a stop', async () => {
      const rt = await fx.runtime(fx.name('rb'));
      const events: InstanceStopEvent[] = [];
      const watch = d.watchStops((e) => events.push(e));
      try {
        await d.create(rt, sig());
        await d.start(rt.hostName, sig());
        const before = (await d.state(rt.hostName, sig())).pid;
        await execCollect(d, rt.hostName, ['reboot']);
        let after = before;
        for (let i = 0; i < 200 && (after === before || after === 0); i++) {
          await new Promise((r) => setTimeout(r, 100));
          after = (await d.state(rt.hostName, sig())).pid;
        }
        assert.notEqual(after, before);
        assert.equal((await d.state(rt.hostName, sig())).status, 'Running');
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(events, []);
        await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
        assert.deepEqual(await nextEvent(events, (e) => e.hostName === rt.hostName), { hostName: rt.hostName, ephemeral: false });
      } finally {
        watch.dispose();
      }
    });
  });

  describe('autostart', () => {
    it('starts what should run after an agent restart, in priority order, and keeps running ones', async () => {
      const mk = async (word: string, config: Record<string, string>): Promise<string> => {
        const rt = await fx.runtime(fx.name(word), { config });
        await d.create(rt, sig());
        return rt.hostName;
      };
      const flagged = await mk('on', { 'boot.autostart': 'true', 'boot.autostart.priority': '10' });
      const flaggedLow = await mk('low', { 'boot.autostart': 'true', 'boot.autostart.delay': '1' });
      const wasRunning = await mk('was', {});
      const never = await mk('never', { 'boot.autostart': 'false' });
      const stopped = await mk('stp', {});
      const running = await mk('run', { 'boot.autostart': 'true' });
      // A host crash: `wasRunning` and `never` die without the stop hook being recorded.
      for (const n of [wasRunning, never]) {
        await d.start(n, sig());
        await run('lxc-stop', ['-P', fx.paths.containers, '-n', n, '-k']);
        await unlink(join(fx.paths.containers, '.shoal', 'stops', n)).catch(() => undefined);
      }
      await d.start(running, sig());
      const runningPid = (await d.state(running, sig())).pid;

      const agent = fx.driver();
      const watch = agent.watchStops(() => undefined);
      try {
        const t0 = performance.now();
        const results = await agent.autostart(sig());
        assert.deepEqual(
          results.map((r) => [r.hostName, r.started]),
          [
            [flagged, true],
            [flaggedLow, true],
            [wasRunning, true],
          ].sort((a, b) => (a[0] === flagged ? -1 : b[0] === flagged ? 1 : String(a[0]).localeCompare(String(b[0])))),
        );
        assert.ok(performance.now() - t0 >= 1000, 'boot.autostart.delay is honoured');
        for (const n of [flagged, flaggedLow, wasRunning, running]) assert.equal((await agent.state(n, sig())).status, 'Running', n);
        for (const n of [never, stopped]) assert.equal((await agent.state(n, sig())).status, 'Stopped', n);
        const st = await agent.state(running, sig());
        assert.equal(st.pid, runningPid);
        assert.ok(st.processes >= 1 && st.memory.usageBytes > 0 && st.network['lo'] !== undefined);
        assert.deepEqual(await agent.autostart(sig()), []);
      } finally {
        watch.dispose();
      }
    });
  });
});
