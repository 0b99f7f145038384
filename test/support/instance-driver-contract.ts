/**
 * The InstanceDriver contract, shared by every implementation (the real LXC driver in integration
 * tests; a fake must pass it too): create is idempotent and refuses a different definition,
 * delete of a missing instance is a no-op, start/stop/freeze transitions, deleting a running
 * instance is refused, aborted signals are honoured and leave nothing behind, errors name the
 * instance.
 */
import { strict as assert } from 'node:assert';
import type { InstanceDriver } from '../../src/node-agent/drivers/instance-driver.js';
import type { InstanceRuntime } from '../../src/node-agent/types.js';
import { ErrorCode, isShoalError } from '../../src/shared/index.js';

/** What the contract needs from an implementation. */
export interface ContractHarness {
  readonly driver: InstanceDriver;
  /** A runtime for a new, not yet created instance whose root filesystem exists. */
  newRuntime(): Promise<InstanceRuntime>;
  close(): Promise<void>;
}

const sig = (): AbortSignal => AbortSignal.timeout(60_000);
const aborted = (): AbortSignal => AbortSignal.abort();
const hasCode = (code: ErrorCode, name?: string) => (err: unknown) =>
  isShoalError(err, code) && (name === undefined || err.message.includes(`"${name}"`));

/** Registers the contract suite for the driver `make()` builds. */
export function describeInstanceDriverContract(label: string, make: () => Promise<ContractHarness>): void {
  describe(`InstanceDriver contract (${label})`, () => {
    let h: ContractHarness;
    let d: InstanceDriver;
    beforeEach(async () => {
      h = await make();
      d = h.driver;
    });
    afterEach(async () => {
      await h.close();
    });

    it('creates an instance idempotently', async () => {
      const rt = await h.newRuntime();
      await d.create(rt, sig());
      await d.create(rt, sig());
      assert.deepEqual((await d.list(sig())).filter((n) => n === rt.hostName), [rt.hostName]);
      assert.equal((await d.state(rt.hostName, sig())).status, 'Stopped');
    });

    it('refuses to create over a different definition', async () => {
      const rt = await h.newRuntime();
      await d.create(rt, sig());
      const other = { ...rt, spec: { ...rt.spec, config: { ...rt.spec.config, 'limits.processes': '77' } } };
      await assert.rejects(d.create(other, sig()), hasCode(ErrorCode.AlreadyExists, rt.hostName));
    });

    it('treats deleting a missing instance as done', async () => {
      await d.delete('slx-never-created', sig());
    });

    it('reports NOT_FOUND naming a missing instance', async () => {
      await assert.rejects(d.state('slx-missing', sig()), hasCode(ErrorCode.NotFound, 'slx-missing'));
      await assert.rejects(d.start('slx-missing', sig()), hasCode(ErrorCode.NotFound, 'slx-missing'));
    });

    it('starts, stops and restarts, each step idempotent', async () => {
      const rt = await h.newRuntime();
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      await d.start(rt.hostName, sig());
      const running = await d.state(rt.hostName, sig());
      assert.equal(running.status, 'Running');
      assert.ok(running.pid > 0);
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
      assert.deepEqual(await d.state(rt.hostName, sig()), {
        status: 'Stopped',
        pid: 0,
        processes: 0,
        cpu: { usageNs: 0 },
        memory: { usageBytes: 0, peakBytes: 0, limitBytes: 0 },
        network: {},
        disk: {},
      });
      await d.start(rt.hostName, sig());
      assert.equal((await d.state(rt.hostName, sig())).status, 'Running');
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
    });

    it('freezes and unfreezes a running instance, refuses to freeze a stopped one, force-stops a frozen one', async () => {
      const rt = await h.newRuntime();
      await d.create(rt, sig());
      await assert.rejects(d.freeze(rt.hostName, sig()), hasCode(ErrorCode.FailedPrecondition, rt.hostName));
      await d.start(rt.hostName, sig());
      await d.freeze(rt.hostName, sig());
      await d.freeze(rt.hostName, sig());
      assert.equal((await d.state(rt.hostName, sig())).status, 'Frozen');
      await d.unfreeze(rt.hostName, sig());
      await d.unfreeze(rt.hostName, sig());
      assert.equal((await d.state(rt.hostName, sig())).status, 'Running');
      await d.freeze(rt.hostName, sig());
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
      assert.equal((await d.state(rt.hostName, sig())).status, 'Stopped');
    });

    it('refuses to delete a running instance, then deletes it once stopped', async () => {
      const rt = await h.newRuntime();
      await d.create(rt, sig());
      await d.start(rt.hostName, sig());
      await assert.rejects(d.delete(rt.hostName, sig()), hasCode(ErrorCode.FailedPrecondition, rt.hostName));
      await d.stop(rt.hostName, { force: true, timeoutMs: 0 }, sig());
      await d.delete(rt.hostName, sig());
      assert.ok(!(await d.list(sig())).includes(rt.hostName));
      await assert.rejects(d.state(rt.hostName, sig()), hasCode(ErrorCode.NotFound, rt.hostName));
    });

    it('honours an aborted signal and leaves nothing behind', async () => {
      const rt = await h.newRuntime();
      await assert.rejects(d.create(rt, aborted()), hasCode(ErrorCode.Cancelled));
      assert.ok(!(await d.list(sig())).includes(rt.hostName));
      await d.create(rt, sig());
      await assert.rejects(d.start(rt.hostName, aborted()), hasCode(ErrorCode.Cancelled));
      assert.notEqual((await d.state(rt.hostName, sig())).status, 'Running');
    });

    it('names the instance in validation errors', async () => {
      const rt = await h.newRuntime();
      assert.throws(
        () => d.validate({ ...rt.spec, config: { 'limits.memory': 'lots' } }),
        (err: unknown) => hasCode(ErrorCode.InvalidArgument, rt.spec.name)(err) && (err as Error).message.includes('limits.memory'),
      );
      await assert.rejects(
        d.create({ ...rt, spec: { ...rt.spec, config: { 'limits.memory': 'lots' } } }, sig()),
        hasCode(ErrorCode.InvalidArgument, rt.spec.name),
      );
      assert.ok(!(await d.list(sig())).includes(rt.hostName));
    });
  });
}
