// FakeInstanceDriver: an in-memory InstanceDriver for unit tests of the service's orchestration
// (it passes the shared InstanceDriver contract, see test/unit/node-agent/fakes-contract.test.ts).
// Instances are records in a map; start/stop flip a status; stops can be emitted by hand.
import type {
  AutostartResult, AutostartStarter,
  CreateOptions,
  ExecRequest,
  ExecSession,
  InstanceDriver,
  InstanceStopEvent,
} from '../../../src/node-agent/drivers/instance-driver.js';
import type { InstanceFiles } from '../../../src/node-agent/files/instance-files.js';
import type { InstanceRuntime, InstanceSpec, InstanceState, InstanceStatus } from '../../../src/node-agent/types.js';
import { parseByteSize } from '../../../src/shared/units.js';
import { ErrorCode, ShoalError, canonicalJsonForTests, errors, toDisposable, type Disposable } from './fake-deps.js';
import { FakeFailures } from './fake-failures.js';

interface FakeInstance {
  runtime: InstanceRuntime;
  status: InstanceStatus;
  lastPower: 'RUNNING' | 'STOPPED';
}

function cancelled(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new ShoalError(ErrorCode.Cancelled, `${what} cancelled`);
}

export class FakeInstanceDriver implements InstanceDriver {
  readonly type = 'container' as const;
  readonly failures = new FakeFailures();
  readonly instances = new Map<string, FakeInstance>();
  private readonly listeners = new Set<(e: InstanceStopEvent) => void>();

  validate(spec: InstanceSpec): void {
    const mem = spec.config['limits.memory'];
    if (mem !== undefined) {
      try {
        parseByteSize(mem, 'limits.memory');
      } catch {
        throw errors.invalid(`Invalid instance "${spec.name}": invalid limits.memory "${mem}"`);
      }
    }
    for (const [name, dev] of Object.entries(spec.devices)) {
      if (dev['type'] === 'fake-broken') throw errors.invalid(`Invalid instance "${spec.name}": device "${name}" is broken`);
    }
  }

  async create(runtime: InstanceRuntime, signal: AbortSignal, options: CreateOptions = {}): Promise<void> {
    this.validate(runtime.spec);
    cancelled(signal, `Creating instance "${runtime.hostName}"`);
    this.failures.hit('create', runtime.hostName);
    await options.rootfsReady;
    const existing = this.instances.get(runtime.hostName);
    if (existing) {
      if (canonicalJsonForTests(existing.runtime) !== canonicalJsonForTests(runtime)) {
        throw errors.exists(`Instance "${runtime.hostName}" already exists with a different definition`);
      }
      return;
    }
    this.instances.set(runtime.hostName, { runtime, status: 'Stopped', lastPower: 'STOPPED' });
  }

  async update(runtime: InstanceRuntime, _signal: AbortSignal): Promise<void> {
    this.failures.hit('update', runtime.hostName);
    this.require(runtime.hostName).runtime = runtime;
  }

  async start(hostName: string, signal: AbortSignal): Promise<void> {
    const i = this.require(hostName);
    cancelled(signal, `Starting instance "${hostName}"`);
    this.failures.hit('start', hostName);
    i.status = i.status === 'Stopped' ? 'Running' : i.status;
    i.lastPower = 'RUNNING';
  }

  async stop(hostName: string, _options: { force: boolean; timeoutMs: number }, _signal: AbortSignal): Promise<void> {
    const i = this.require(hostName);
    this.failures.hit('stop', hostName);
    i.status = 'Stopped';
    i.lastPower = 'STOPPED';
  }

  async freeze(hostName: string, _signal: AbortSignal): Promise<void> {
    const i = this.require(hostName);
    if (i.status === 'Stopped') throw errors.precondition(`Instance "${hostName}" is not running`);
    i.status = 'Frozen';
  }

  async unfreeze(hostName: string, _signal: AbortSignal): Promise<void> {
    const i = this.require(hostName);
    if (i.status === 'Stopped') throw errors.precondition(`Instance "${hostName}" is not running`);
    i.status = 'Running';
  }

  async delete(hostName: string, _signal: AbortSignal): Promise<void> {
    this.failures.hit('delete', hostName);
    const i = this.instances.get(hostName);
    if (i && i.status !== 'Stopped') throw errors.precondition(`Instance "${hostName}" is running`);
    this.instances.delete(hostName);
  }

  async state(hostName: string, _signal: AbortSignal): Promise<InstanceState> {
    const i = this.require(hostName);
    const up = i.status !== 'Stopped';
    return {
      status: i.status,
      pid: up ? 4242 : 0,
      processes: up ? 1 : 0,
      cpu: { usageNs: 0 },
      memory: { usageBytes: 0, peakBytes: 0, limitBytes: 0 },
      network: {},
      disk: {},
    };
  }

  async list(_signal: AbortSignal): Promise<readonly string[]> {
    return [...this.instances.keys()].sort();
  }

  async exec(hostName: string, _request: ExecRequest, _signal: AbortSignal): Promise<ExecSession> {
    this.require(hostName);
    throw errors.precondition('FakeInstanceDriver does not run commands');
  }

  async consoleLog(hostName: string, _signal: AbortSignal): Promise<string> {
    this.require(hostName);
    return `console of ${hostName}\n`;
  }

  async files(hostName: string, _signal: AbortSignal): Promise<InstanceFiles> {
    this.require(hostName);
    throw errors.precondition('FakeInstanceDriver has no files');
  }

  watchStops(listener: (event: InstanceStopEvent) => void): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => this.listeners.delete(listener));
  }

  /** Simulates an instance stopping by itself (`poweroff` inside). */
  stopBehindTheBack(hostName: string): void {
    const i = this.require(hostName);
    i.status = 'Stopped';
    i.lastPower = 'STOPPED';
    for (const l of this.listeners) l({ hostName, ephemeral: i.runtime.spec.ephemeral });
  }

  /** Simulates a host crash: everything stops, the last power state is kept. */
  crash(): void {
    for (const i of this.instances.values()) i.status = 'Stopped';
  }

  async autostart(signal: AbortSignal, startOne?: AutostartStarter): Promise<readonly AutostartResult[]> {
    const out: AutostartResult[] = [];
    for (const [hostName, i] of [...this.instances.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const flag = i.runtime.spec.config['boot.autostart'];
      const want = flag === undefined ? i.lastPower === 'RUNNING' : flag === 'true';
      if (i.status !== 'Stopped' || !want) continue;
      await (startOne ? startOne(hostName, signal) : this.start(hostName, signal));
      out.push({ hostName, started: true });
    }
    return out;
  }

  private require(hostName: string): FakeInstance {
    const i = this.instances.get(hostName);
    if (!i) throw errors.notFound(`Instance "${hostName}" not found`);
    return i;
  }
}
