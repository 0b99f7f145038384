/**
 * LxcInstanceDriver: system containers through Debian's lxc 5.0 tools, with the agent's own LXC
 * path (AgentPaths.containers, `-P`). Definitions are rendered by the pure `renderLxcConfig`;
 * everything per instance lives in `<containers>/<hostName>/` (see instance-store.ts). Stops are
 * observed through a post-stop hook and an inotify watcher (stop-watcher.ts); exec through
 * lxc-attach (exec-session.ts); files through the safe rootfs API (files/instance-files.ts).
 *
 * The start path is one `lxc-start -d` (which itself waits for RUNNING) plus a few small file
 * writes; no lxc-info polling and no attach.
 */
import { access, chmod, mkdir, readFile, rename, stat } from 'node:fs/promises';
import { ErrorCode, Reverter, ShoalError, errors, isShoalError, sleep, systemClock, toDisposable, type Clock, type Disposable, type Logger } from '../../../shared/index.js';
import { InstanceFiles } from '../../files/instance-files.js';
import type { AgentPaths, InstanceRuntime, InstanceSpec, InstanceState, InstanceStatus } from '../../types.js';
import type { AutostartResult, AutostartStarter, CreateOptions, ExecRequest, ExecSession, InstanceDriver, InstanceStopEvent, StopOptions } from '../instance-driver.js';
import { planAutostart, type AutostartCandidate } from './autostart.js';
import { cgroupLimitSettings } from './cgroup-limits.js';
import { readCgroupUsage } from './cgroup-stats.js';
import { cloudInitSeed, writeCloudInitSeed } from './cloud-init.js';
import { startExecSession } from './exec-session.js';
import { probeHostFeatures, type HostFeatures } from './host-features.js';
import { checkVolumeParents, ensureUnixDeviceNodes, ensureVolumeTraversable, statDiskSources } from './host-devices.js';
import { checkHostName, InstanceStore, stageFileAtomic, writeFileAtomic } from './instance-store.js';
import { instanceFiles, renderLxcConfig } from './lxc-config.js';
import { logTail, LxcTools, toolError, type LxcState } from './lxc-tools.js';
import { readNetworkState } from './net-state.js';
import { clearStopMarker, installStopHook, readStopMarker, StopWatcher } from './stop-watcher.js';
import { validateConfig } from './validate-config.js';
import { nicCount, validateDevices } from './validate-devices.js';

/** Options of {@link LxcInstanceDriver}. */
export interface LxcDriverOptions {
  readonly paths: AgentPaths;
  readonly log: Logger;
  /** Host features; probed once on first use when absent (tests may pin them). */
  readonly features?: HostFeatures;
  readonly clock?: Clock;
}

/** How long a stopped instance's LXC monitor may take to tear down before callers give up. */
const MONITOR_EXIT_MS = 15_000;

/** LXD's default exec environment. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function statusOf(state: LxcState): InstanceStatus {
  switch (state) {
    case 'STOPPED':
      return 'Stopped';
    case 'FROZEN':
    case 'FREEZING':
      return 'Frozen';
    case 'ABORTING':
      return 'Error';
    case 'STARTING':
    case 'RUNNING':
    case 'STOPPING':
    case 'THAWED':
      return 'Running';
  }
}

/** JSON with object keys sorted, so equal runtimes compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new ShoalError(ErrorCode.Cancelled, `${what} cancelled`);
}

export class LxcInstanceDriver implements InstanceDriver, Disposable {
  readonly type = 'container' as const;
  private readonly store: InstanceStore;
  private readonly tools: LxcTools;
  private readonly log: Logger;
  private readonly clock: Clock;
  private featuresP: Promise<HostFeatures> | undefined;
  private hookP: Promise<string> | undefined;
  private watcher: StopWatcher | undefined;
  private readonly listeners = new Set<(event: InstanceStopEvent) => void>();

  constructor(options: LxcDriverOptions) {
    this.store = new InstanceStore(options.paths.containers);
    this.tools = new LxcTools(options.paths.containers);
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    if (options.features) this.featuresP = Promise.resolve(options.features);
  }

  /** The host features the configs are rendered for. */
  features(): Promise<HostFeatures> {
    this.featuresP ??= probeHostFeatures();
    return this.featuresP;
  }

  private hook(): Promise<string> {
    this.hookP ??= this.store.ensureLxcPath().then(() => installStopHook(this.store.lxcpath));
    return this.hookP;
  }

  validate(spec: InstanceSpec): void {
    const why = validateConfig(spec.config, nicCount(spec.devices)) ?? validateDevices(spec.devices);
    if (why !== undefined) throw errors.invalid(`Invalid instance "${spec.name}": ${why}`);
  }

  private checkRuntime(runtime: InstanceRuntime): void {
    this.validate(runtime.spec);
    checkHostName(runtime.hostName);
    const bad = (why: string): ShoalError => errors.invalid(`Invalid instance "${runtime.spec.name}": ${why}`);
    if (!runtime.volumePath.startsWith('/')) throw bad(`volume path "${runtime.volumePath}" is not absolute`);
    for (const n of runtime.nics) {
      if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(n.ifname)) throw bad(`device "${n.device}": invalid interface name "${n.ifname}"`);
      if (n.hostName !== undefined && !/^[a-zA-Z0-9_.-]{1,15}$/.test(n.hostName)) throw bad(`device "${n.device}": invalid host interface name "${n.hostName}"`);
      if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(n.parent)) throw bad(`device "${n.device}": invalid parent "${n.parent}"`);
    }
    for (const d of runtime.disks) {
      if (!d.path.startsWith('/') || !d.source.startsWith('/')) throw bad(`device "${d.device}": source and path must be absolute`);
    }
    for (const u of runtime.unixDevices) {
      if (!u.path.startsWith('/')) throw bad(`device "${u.device}": path must be absolute`);
    }
  }

  private async render(runtime: InstanceRuntime): Promise<string> {
    const [features, hook, diskKinds] = await Promise.all([this.features(), this.hook(), statDiskSources(runtime)]);
    return renderLxcConfig(runtime, { features, instanceDir: this.store.dir(runtime.hostName), stopHook: hook, diskKinds });
  }

  private async requireRuntime(hostName: string): Promise<InstanceRuntime> {
    const [runtime, config] = await Promise.all([this.store.readRuntime(hostName), this.store.hasConfig(hostName)]);
    if (runtime === null || !config) throw errors.notFound(`Instance "${hostName}" not found`);
    return runtime;
  }

  async create(runtime: InstanceRuntime, signal: AbortSignal, options: CreateOptions = {}): Promise<void> {
    this.checkRuntime(runtime);
    const name = runtime.hostName;
    throwIfAborted(signal, `Creating instance "${name}"`);
    // What needs no rootfs (rendering, the parents' modes, the instance directory, the runtime
    // file, the config under a temporary name) is done while the caller may still be copying
    // it; the config, which makes the instance defined (lxc-* and hasConfig look for it), takes
    // its name last, once the rootfs checks passed.
    const parentsChecked = checkVolumeParents(runtime);
    const rootfsReady = async (): Promise<string> => {
      await parentsChecked;
      await options.rootfsReady;
      const rootfs = `${runtime.volumePath}/rootfs`;
      if (!(await stat(rootfs).then((s) => s.isDirectory(), () => false))) {
        throw errors.precondition(`Root filesystem of instance "${runtime.spec.name}" not found at "${rootfs}"`);
      }
      await ensureVolumeTraversable(runtime, { parents: false });
      return rootfs;
    };
    parentsChecked.catch(() => undefined); // awaited by rootfsReady on every path
    const text = await this.render(runtime);
    const dir = this.store.dir(name);
    const existing = await this.store.readConfig(name);
    if (existing !== null) {
      // Same runtime → same definition (re-rendered, in case the host changed); else refused.
      const stored = await this.store.readRuntime(name);
      if (stored === null || canonicalJson(stored) !== canonicalJson(runtime)) {
        throw errors.exists(`Instance "${name}" already exists with a different definition`);
      }
      await rootfsReady();
      await ensureUnixDeviceNodes(runtime, dir);
      if (existing !== text) await writeFileAtomic(this.store.configPath(name), text, 0o640);
      return;
    }
    const r = new Reverter();
    try {
      await this.store.remove(name); // leftovers of a create that crashed before writing the config
      await mkdir(dir, { mode: 0o711 });
      r.add(`instance directory "${dir}"`, () => this.store.remove(name));
      await chmod(dir, 0o711);
      // No power file yet: none reads as STOPPED (autostart), which a new instance is.
      const [, , commitConfig] = await Promise.all([
        ensureUnixDeviceNodes(runtime, dir),
        this.store.writeRuntime(name, runtime),
        stageFileAtomic(this.store.configPath(name), text, 0o640),
      ]);
      const rootfs = await rootfsReady();
      const files = new InstanceFiles(rootfs, runtime.spec.name);
      const seeded = await writeCloudInitSeed(files, runtime.spec);
      r.add(`cloud-init seed of "${name}"`, async () => {
        for (const p of seeded) await files.delete(p);
      });
      throwIfAborted(signal, `Creating instance "${name}"`);
      await commitConfig();
      r.success();
      this.log.info({ instance: name }, 'instance defined');
    } finally {
      await r.fail();
    }
  }

  async update(runtime: InstanceRuntime, signal: AbortSignal): Promise<void> {
    this.checkRuntime(runtime);
    const name = runtime.hostName;
    const old = await this.requireRuntime(name);
    const text = await this.render(runtime);
    const dir = this.store.dir(name);
    await ensureUnixDeviceNodes(runtime, dir);
    await this.store.writeRuntime(name, runtime);
    await writeFileAtomic(this.store.configPath(name), text, 0o640);
    const info = await this.tools.info(name, signal);
    if (info.state === 'STOPPED') return;
    const features = await this.features();
    const before = new Map(cgroupLimitSettings(old, features).map((s) => [s.file, s.value]));
    for (const s of cgroupLimitSettings(runtime, features)) {
      if (before.get(s.file) === s.value) continue;
      try {
        await this.tools.setCgroup(name, s.file, s.value, signal);
      } catch (err) {
        throw toolError(err, `Failed applying "${s.file}" to instance "${name}"`);
      }
    }
    this.log.info({ instance: name }, 'instance updated');
  }

  async start(hostName: string, signal: AbortSignal): Promise<void> {
    const runtime = await this.requireRuntime(hostName);
    const dir = this.store.dir(hostName);
    const files = instanceFiles(dir);
    // Independent preparations, concurrently: the start path is what launches are measured on.
    await Promise.all([
      // A monitor still tearing down a stop that just happened holds the command socket the new
      // monitor needs and has yet to run its post-stop hook: let it finish before clearing the
      // stop marker (a running instance is left to lxc-start, which then does nothing).
      this.settleTeardown(hostName, signal).then(() => clearStopMarker(this.store.lxcpath, hostName)),
      cloudInitSeed(runtime.spec) === null
        ? undefined
        : writeCloudInitSeed(new InstanceFiles(`${runtime.volumePath}/rootfs`, runtime.spec.name), runtime.spec),
      runtime.unixDevices.length > 0 ? ensureUnixDeviceNodes(runtime, dir) : undefined,
      ensureVolumeTraversable(runtime, { parents: false }),
      rename(files.log, `${files.log}.old`).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      }),
      this.store.writePower(hostName, 'RUNNING'),
      this.store.writeStartPhase(hostName, 'starting'),
    ]);
    try {
      await this.tools.start(hostName, signal);
    } catch (err) {
      // The monitor of the failed start is still undoing it (veths, mounts, cgroups): report the
      // failure once it is done, so that the caller finds the host as it was.
      if (!(await this.tools.waitMonitorGone(hostName, MONITOR_EXIT_MS))) {
        this.log.warn({ instance: hostName }, 'the monitor of a failed start is still tearing down');
      }
      await Promise.all([this.store.writePower(hostName, 'STOPPED'), this.store.writeStartPhase(hostName, 'failed')]);
      throw toolError(err, `Failed starting instance "${hostName}"`, await logTail(files.log));
    }
    await this.store.writeStartPhase(hostName, null);
    this.log.info({ instance: hostName }, 'instance started');
  }

  async stop(hostName: string, options: StopOptions, signal: AbortSignal): Promise<void> {
    await this.requireRuntime(hostName);
    await this.store.writePower(hostName, 'STOPPED');
    // No monitor: nothing runs and nothing is being torn down; no process to spawn (F4).
    if (!(await this.tools.monitorAlive(hostName))) return;
    try {
      if (options.force && options.timeoutMs <= 0) {
        // One process: lxc-stop -k kills a frozen instance too and exits 2 when nothing runs.
        await this.tools.stop(hostName, { kill: true }, signal);
      } else {
        const info = await this.tools.info(hostName, signal);
        if (info.state === 'FROZEN' || info.state === 'FREEZING') await this.tools.unfreeze(hostName, signal);
        const timeoutS = options.timeoutMs <= 0 ? -1 : Math.max(1, Math.ceil(options.timeoutMs / 1000));
        if (info.state !== 'STOPPED') await this.tools.stop(hostName, { kill: false, timeoutS, killAfter: options.force }, signal);
      }
    } catch (err) {
      if (isShoalError(err, ErrorCode.Cancelled)) throw toolError(err, `Stopping instance "${hostName}"`);
      const after = await this.tools.info(hostName);
      if (after.state !== 'STOPPED' && options.force && options.timeoutMs <= 0) throw toolError(err, `Failed stopping instance "${hostName}"`);
      if (after.state !== 'STOPPED') {
        throw new ShoalError(ErrorCode.DeadlineExceeded, `Failed stopping instance "${hostName}": it did not shut down within ${options.timeoutMs} ms`, { cause: err });
      }
    }
    // lxc-stop returns once the monitor says STOPPED; the monitor then still runs the post-stop
    // hook and tears down (cgroups, console and log files in the instance directory). Wait for it,
    // so that a stopped instance can be started or deleted at once (F7: ENOTEMPTY on delete).
    await this.waitTornDown(hostName, signal);
    this.log.info({ instance: hostName, force: options.force }, 'instance stopped');
  }

  /** If `hostName` has a monitor and is STOPPED, waits for the monitor to finish tearing down. */
  private async settleTeardown(hostName: string, signal: AbortSignal): Promise<void> {
    if (!(await this.tools.monitorAlive(hostName))) return;
    if ((await this.tools.info(hostName, signal)).state === 'STOPPED') await this.waitTornDown(hostName, signal);
  }

  /** Waits for the monitor of a STOPPED instance to exit (bounded: a stuck monitor is UNAVAILABLE). */
  private async waitTornDown(hostName: string, signal: AbortSignal): Promise<void> {
    if (await this.tools.waitMonitorGone(hostName, MONITOR_EXIT_MS, signal)) return;
    throw new ShoalError(ErrorCode.Unavailable, `Instance "${hostName}" is still stopping: its LXC monitor did not exit within ${MONITOR_EXIT_MS} ms`, {
      retryable: true,
    });
  }

  async freeze(hostName: string, signal: AbortSignal): Promise<void> {
    await this.requireRuntime(hostName);
    const info = await this.tools.info(hostName, signal);
    if (info.state === 'FROZEN') return;
    if (info.state === 'STOPPED') throw errors.precondition(`Instance "${hostName}" is not running`);
    await this.tools.freeze(hostName, signal).catch((err: unknown) => Promise.reject(toolError(err, `Failed freezing instance "${hostName}"`)));
  }

  async unfreeze(hostName: string, signal: AbortSignal): Promise<void> {
    await this.requireRuntime(hostName);
    const info = await this.tools.info(hostName, signal);
    if (info.state === 'RUNNING') return;
    if (info.state === 'STOPPED') throw errors.precondition(`Instance "${hostName}" is not running`);
    await this.tools.unfreeze(hostName, signal).catch((err: unknown) => Promise.reject(toolError(err, `Failed unfreezing instance "${hostName}"`)));
  }

  async delete(hostName: string, signal: AbortSignal): Promise<void> {
    checkHostName(hostName);
    // No monitor: stopped for sure, without spawning lxc-info (F4). A monitor: ask it, and if the
    // instance is STOPPED let the monitor finish its teardown in the directory first (F7).
    if ((await this.store.readConfig(hostName)) !== null && (await this.tools.monitorAlive(hostName))) {
      const info = await this.tools.info(hostName, signal);
      if (info.state !== 'STOPPED') throw errors.precondition(`Instance "${hostName}" is running`);
      await this.waitTornDown(hostName, signal);
    }
    await this.store.remove(hostName);
    await clearStopMarker(this.store.lxcpath, hostName);
    this.log.info({ instance: hostName }, 'instance definition removed');
  }

  async state(hostName: string, signal: AbortSignal): Promise<InstanceState> {
    // The init process can exit between lxc-info and reading its /proc entries (a reboot or a stop
    // in progress): ask again, a few times, rather than fail a read-only call.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.stateOnce(hostName, signal);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (attempt >= 5 || (code !== 'ENOENT' && code !== 'ESRCH')) throw err;
      }
    }
  }

  private async stateOnce(hostName: string, signal: AbortSignal): Promise<InstanceState> {
    const runtime = await this.requireRuntime(hostName);
    // Without a monitor the instance is stopped: no lxc-info spawn (F4).
    const info = (await this.tools.monitorAlive(hostName)) ? await this.tools.info(hostName, signal) : ({ state: 'STOPPED', pid: 0 } as const);
    const status = statusOf(info.state);
    if (info.pid === 0 || status === 'Stopped') {
      return {
        status,
        pid: 0,
        processes: 0,
        cpu: { usageNs: 0 },
        memory: { usageBytes: 0, peakBytes: 0, limitBytes: 0 },
        network: {},
        disk: {},
      };
    }
    const features = await this.features();
    let usage: Awaited<ReturnType<typeof readCgroupUsage>>;
    let network: Awaited<ReturnType<typeof readNetworkState>>;
    try {
      [usage, network] = await Promise.all([readCgroupUsage(info.pid, features), readNetworkState(info.pid, runtime.nics, signal)]);
    } catch (err) {
      // nsenter into a vanished init fails with an exit status, not ENOENT: tell the two apart here.
      if (!(await pathExists(`/proc/${info.pid}`))) throw Object.assign(new Error(`init ${info.pid} of "${hostName}" exited`), { code: 'ESRCH' });
      throw err;
    }
    return {
      status,
      pid: info.pid,
      processes: usage.processes,
      cpu: { usageNs: usage.cpuNs },
      memory: { usageBytes: usage.memoryBytes, peakBytes: usage.memoryPeakBytes, limitBytes: usage.memoryLimitBytes },
      network,
      disk: {},
    };
  }

  list(_signal: AbortSignal): Promise<readonly string[]> {
    return this.store.list();
  }

  async exec(hostName: string, request: ExecRequest, signal: AbortSignal): Promise<ExecSession> {
    const runtime = await this.requireRuntime(hostName);
    const info = await this.tools.info(hostName, signal);
    if (info.state === 'FROZEN' || info.state === 'FREEZING') throw errors.precondition(`Instance "${hostName}" is frozen`);
    if (info.state !== 'RUNNING') throw errors.precondition(`Instance "${hostName}" is not running`);
    if (request.command.length === 0) throw errors.invalid(`Invalid exec request for instance "${hostName}": empty command`);
    if (request.cwd !== undefined && request.cwd !== '/') {
      const r = await new InstanceFiles(`${runtime.volumePath}/rootfs`, runtime.spec.name).pull(request.cwd);
      if (r.type === 'file') r.content.destroy();
      if (r.type !== 'directory') throw errors.invalid(`Invalid exec request for instance "${hostName}": cwd "${request.cwd}" is not a directory`);
    }
    const env: Record<string, string> = { PATH: DEFAULT_PATH, LANG: 'C.UTF-8' };
    if ((request.uid ?? 0) === 0) Object.assign(env, { HOME: '/root', USER: 'root' });
    if (request.pty) env['TERM'] = 'xterm';
    for (const [k, v] of Object.entries(runtime.spec.config)) if (k.startsWith('environment.')) env[k.slice('environment.'.length)] = v;
    Object.assign(env, request.env);
    return startExecSession({ lxcpath: this.store.lxcpath, hostName, env, log: this.log }, request, signal);
  }

  async consoleLog(hostName: string, _signal: AbortSignal): Promise<string> {
    await this.requireRuntime(hostName);
    const { consoleLog } = instanceFiles(this.store.dir(hostName));
    const read = (p: string): Promise<string> =>
      readFile(p, 'utf8').catch((err: unknown) => {
        if ((err as { code?: unknown }).code === 'ENOENT') return '';
        throw err;
      });
    return (await read(`${consoleLog}.1`)) + (await read(consoleLog));
  }

  async files(hostName: string, _signal: AbortSignal): Promise<InstanceFiles> {
    const runtime = await this.requireRuntime(hostName);
    return new InstanceFiles(`${runtime.volumePath}/rootfs`, runtime.spec.name);
  }

  watchStops(listener: (event: InstanceStopEvent) => void): Disposable {
    this.listeners.add(listener);
    this.watcher ??= new StopWatcher(this.store.lxcpath, () => this.hook(), this.store, this.tools, this.log, this.clock, (e) => {
      for (const l of [...this.listeners]) l(e);
    });
    return toDisposable(() => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.watcher?.dispose();
        this.watcher = undefined;
      }
    });
  }

  async autostart(signal: AbortSignal, startOne?: AutostartStarter): Promise<readonly AutostartResult[]> {
    if (this.watcher) await this.watcher.ready;
    const candidates: AutostartCandidate[] = [];
    for (const hostName of await this.store.list()) {
      const runtime = await this.store.readRuntime(hostName);
      if (runtime === null) continue;
      const running = (await this.tools.monitorAlive(hostName)) && (await this.tools.info(hostName, signal)).state !== 'STOPPED';
      const marker = await readStopMarker(this.store.lxcpath, hostName);
      const lastPower = marker === 'stop' ? 'STOPPED' : await this.store.readPower(hostName);
      candidates.push({ hostName, config: runtime.spec.config, lastPower, running });
    }
    const results: AutostartResult[] = [];
    for (const step of planAutostart(candidates)) {
      try {
        await (startOne ? startOne(step.hostName, signal) : this.start(step.hostName, signal));
        results.push({ hostName: step.hostName, started: true });
      } catch (err) {
        if (isShoalError(err, ErrorCode.Cancelled)) throw err;
        this.log.error({ err, instance: step.hostName }, 'autostart failed');
        results.push({ hostName: step.hostName, started: false, error: err instanceof Error ? err : new Error(String(err)) });
        continue;
      }
      if (step.delayAfterMs > 0) await sleep(this.clock, step.delayAfterMs, signal);
    }
    return results;
  }

  dispose(): void {
    this.listeners.clear();
    this.watcher?.dispose();
    this.watcher = undefined;
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
