/**
 * BridgeNetworkDriver: LXD's managed bridge on this host. Each network is a Linux bridge named as
 * the network carrying the gateway address, one dnsmasq for DHCP and DNS bound to that bridge
 * only, and an nftables table of its own for NAT and accept rules (lxd/network/driver_bridge.go).
 *
 * Every method is idempotent and serialised per network; multi-step work runs under a Reverter, so
 * a create that fails halfway leaves no bridge, table, process or file. Host entries (addHost)
 * live in `dnsmasq.hosts/` and are picked up by dnsmasq without a restart.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  Reverter,
  RevertIncompleteError,
  errors,
  seededRng,
  systemClock,
  type Clock,
  type Disposable,
  type Logger,
  type Rng,
} from '../../../shared/index.js';
import type { AgentPaths, ConfigMap, InterfaceState, NetworkLease, NetworkSpec } from '../../types.js';
import type { NetworkDriver, NetworkHost } from '../network-driver.js';
import { formatIpv4, parseSubnet, type Ipv4Interface } from './addresses.js';
import {
  configureBridge,
  createBridge,
  deleteLink,
  enableIpv4Forwarding,
  interfaceStateOf,
  isShoalBridge,
  setLinkDown,
  showLink,
  stableBridgeMac,
} from './bridge.js';
import { effectiveConfig, networkNameProblem, parseBridgeConfig, type BridgeSettings } from './bridge-config.js';
import { addHostEntry, pinProblem, removeHostEntries } from './bridge-hosts.js';
import { sendDhcpReleases } from './dhcp-release.js';
import { DnsmasqSupervisor, DNSMASQ_BINARY } from './dnsmasq.js';
import { renderDnsmasqConfig, type UpstreamDns } from './dnsmasq-config.js';
import { mergeLeases } from './dnsmasq-files.js';
import { applyRuleset, deleteTable, renderRuleset, tableExists } from './nftables.js';
import { SubnetAllocator } from './subnet-allocator.js';
import {
  makeNetworkDir,
  networkFiles,
  readHostEntries,
  readLeases,
  readNetworkFile,
  readRecord,
  removeNetworkDir,
  writeAtomic,
  writeRecord,
  type NetworkFiles,
  type NetworkRecord,
} from './network-dir.js';

/** Construction options of {@link BridgeNetworkDriver}. */
export interface BridgeNetworkDriverOptions {
  readonly paths: AgentPaths;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Picks `ipv4.address=auto` subnets. Default: seeded from crypto randomness. */
  readonly rng?: Rng;
  /** Where `ipv4.address=auto` picks a free /24 (default `10.0.0.0/8`, as LXD). */
  readonly autoSubnetPool?: string;
  /** Where dnsmasq forwards names it does not know (default `host`, as LXD; `none` for isolation). */
  readonly upstreamDns?: UpstreamDns;
  readonly dnsmasqBinary?: string;
  /** Restart a dnsmasq that dies on its own, with backoff (default true). */
  readonly restartDnsmasq?: boolean;
}

const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30_000;

/** A managed Linux bridge with dnsmasq and nftables. See the module comment for the contract. */
export class BridgeNetworkDriver implements NetworkDriver {
  readonly type = 'bridge' as const;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly upstream: UpstreamDns;
  private readonly supervisor: DnsmasqSupervisor;
  private readonly locks = new Map<string, Promise<void>>();
  private readonly subnets: SubnetAllocator;
  private readonly restarts = new Map<string, { timer: Disposable | null; attempts: number; lastAt: number }>();
  private readonly restartDnsmasq: boolean;
  private closed = false;

  constructor(private readonly options: BridgeNetworkDriverOptions) {
    this.log = options.log.child({ component: 'network', driver: 'bridge' });
    this.clock = options.clock ?? systemClock;
    const pool = parseSubnet(options.autoSubnetPool ?? '10.0.0.0/8');
    if (!pool) throw errors.invalid(`Invalid auto subnet pool "${options.autoSubnetPool}"`);
    this.subnets = new SubnetAllocator(pool, options.rng ?? seededRng(randomInt(2 ** 31)));
    this.upstream = options.upstreamDns ?? 'host';
    this.restartDnsmasq = options.restartDnsmasq ?? true;
    this.supervisor = new DnsmasqSupervisor(
      this.log,
      this.clock,
      (network) => this.scheduleRestart(network),
      options.dnsmasqBinary ?? DNSMASQ_BINARY,
    );
  }

  validate(spec: NetworkSpec): void {
    this.settingsOf(spec.name, spec.config);
  }

  async create(spec: NetworkSpec, signal: AbortSignal): Promise<ConfigMap> {
    this.settingsOf(spec.name, spec.config);
    return this.locked(spec.name, async () => {
      const files = this.files(spec.name);
      const record = await readRecord(files);
      if (record) {
        if (!sameConfig(record.requested, spec.config)) throw errors.exists(`Network "${spec.name}" already exists`);
        await this.bringUp(spec.name, record.effective, signal, new Reverter());
        return record.effective;
      }
      const link = await showLink(spec.name, signal);
      if (link && !isShoalBridge(link)) throw errors.exists(`Interface "${spec.name}" already exists on this host`);
      if (link) {
        // A bridge of ours without network.json: a create that crashed before finishing.
        this.log.warn({ network: spec.name }, 'removing leftovers of an unfinished create');
        await this.teardown(spec.name, files, signal);
      }
      const r = new Reverter();
      try {
        r.add(`subnet reservation of "${spec.name}"`, () => this.subnets.release(spec.name));
        const effective = effectiveConfig(spec.config, await this.gatewayFor(spec.name, spec.config, null, signal));
        await makeNetworkDir(files);
        r.add(`directory "${files.dir}"`, () => removeNetworkDir(files));
        await this.bringUp(spec.name, effective, signal, r);
        await writeRecord(files, { version: 1, requested: spec.config, effective });
        r.success();
        this.subnets.release(spec.name);
        this.log.info({ network: spec.name, address: effective['ipv4.address'] }, 'network created');
        return effective;
      } finally {
        await r.fail();
      }
    });
  }

  async start(spec: NetworkSpec, signal: AbortSignal): Promise<void> {
    this.settingsOf(spec.name, spec.config);
    await this.locked(spec.name, async () => {
      const files = this.files(spec.name);
      const record = await readRecord(files);
      const known = record && (sameConfig(spec.config, record.requested) || sameConfig(spec.config, record.effective));
      const r = new Reverter();
      try {
        r.add(`subnet reservation of "${spec.name}"`, () => this.subnets.release(spec.name));
        const effective = known
          ? record.effective
          : effectiveConfig(spec.config, await this.gatewayFor(spec.name, spec.config, record, signal));
        if (!record) {
          await makeNetworkDir(files);
          r.add(`directory "${files.dir}"`, () => removeNetworkDir(files));
        }
        await this.bringUp(spec.name, effective, signal, r);
        if (!known) await writeRecord(files, { version: 1, requested: spec.config, effective });
        r.success();
        this.subnets.release(spec.name);
      } finally {
        await r.fail();
      }
    });
  }

  async stop(name: string, signal: AbortSignal): Promise<void> {
    await this.locked(name, async () => {
      const files = this.files(name);
      const record = await readRecord(files);
      const link = await showLink(name, signal);
      if (!record && !(link && isShoalBridge(link))) throw errors.notFound(`Network "${name}" not found`);
      this.cancelRestart(name);
      await this.supervisor.stop(name, files, signal);
      if (link && isShoalBridge(link) && link.flags?.includes('UP')) await setLinkDown(name, signal);
      this.log.info({ network: name }, 'network stopped');
    });
  }

  async update(spec: NetworkSpec, signal: AbortSignal): Promise<void> {
    this.settingsOf(spec.name, spec.config);
    await this.locked(spec.name, async () => {
      const files = this.files(spec.name);
      const record = await readRecord(files);
      if (!record) throw errors.notFound(`Network "${spec.name}" not found`);
      const r = new Reverter();
      try {
        r.add(`subnet reservation of "${spec.name}"`, () => this.subnets.release(spec.name));
        const effective = effectiveConfig(spec.config, await this.gatewayFor(spec.name, spec.config, record, signal));
        const settings = this.settingsOf(spec.name, effective);
        const gateway = settings.ipv4.kind === 'static' ? settings.ipv4.gateway : null;
        for (const e of await readHostEntries(files)) {
          if (e.ipv4 === null) continue;
          if (!gateway) throw errors.precondition(`Network "${spec.name}" has static leases, IPv4 cannot be removed`);
          if (pinProblem(gateway, e.ipv4) !== null) {
            throw errors.precondition(
              `Static lease ${e.ipv4} of "${e.name}" is outside the new subnet of "${spec.name}"`,
            );
          }
        }
        r.add(`previous configuration of network "${spec.name}"`, () =>
          this.bringUp(spec.name, record.effective, signal, new Reverter()),
        );
        await this.bringUp(spec.name, effective, signal, r);
        await writeRecord(files, { version: 1, requested: spec.config, effective });
        r.success();
        this.subnets.release(spec.name);
      } finally {
        await r.fail();
      }
    });
  }

  async delete(name: string, signal: AbortSignal): Promise<void> {
    if (networkNameProblem(name)) return;
    await this.locked(name, async () => {
      this.cancelRestart(name);
      await this.teardown(name, this.files(name), signal);
    });
  }

  async state(name: string, signal: AbortSignal): Promise<InterfaceState> {
    this.checkName(name);
    const link = await showLink(name, signal);
    const record = await readRecord(this.files(name));
    if (!link && record) return interfaceStateOf({ ifname: name }); // not started since a host reboot
    if (!link || !(record || isShoalBridge(link))) throw errors.notFound(`Network "${name}" not found`);
    return interfaceStateOf(link);
  }

  async leases(name: string, _signal: AbortSignal): Promise<readonly NetworkLease[]> {
    this.checkName(name);
    const files = this.files(name);
    if (!(await readRecord(files))) throw errors.notFound(`Network "${name}" not found`);
    const nowSec = this.clock.now() / 1000;
    const live = (await readLeases(files)).filter((l) => l.expiresAtSec === 0 || l.expiresAtSec > nowSec);
    return mergeLeases(await readHostEntries(files), live);
  }

  async addHost(name: string, host: NetworkHost, _signal: AbortSignal): Promise<void> {
    this.checkName(name);
    await this.locked(name, async () => {
      const files = this.files(name);
      const record = await readRecord(files);
      if (!record) throw errors.notFound(`Network "${name}" not found`);
      const settings = this.settingsOf(name, record.effective);
      const gateway = settings.ipv4.kind === 'static' ? settings.ipv4.gateway : null;
      const changed = await addHostEntry(name, files, gateway, host, this.clock.now());
      if (changed === 'replaced') this.supervisor.reload(name);
    });
  }

  async removeHost(name: string, instance: string, signal: AbortSignal): Promise<void> {
    if (networkNameProblem(name)) return;
    await this.locked(name, async () => {
      const files = this.files(name);
      const record = await readRecord(files);
      if (!record) return;
      const released = await removeHostEntries(files, instance);
      if (released.length === 0) return;
      this.supervisor.reload(name);
      const held = (await readLeases(files)).filter((l) => released.includes(l.hwaddr));
      const ipv4 = this.settingsOf(name, record.effective).ipv4;
      if (held.length === 0 || ipv4.kind !== 'static' || this.supervisor.pidOf(name) === null) return;
      // Release the instance's leases as LXD does: a DHCPRELEASE on the client's behalf.
      await sendDhcpReleases(formatIpv4(ipv4.gateway.address), held, () => randomInt(2 ** 32));
      const gone = async (): Promise<boolean> => !(await readLeases(files)).some((l) => released.includes(l.hwaddr));
      for (let i = 0; i < 50 && !(await gone()); i++) await delay(20);
      if (await gone()) return;
      // dnsmasq ignored the release: restart it on a lease file without those MACs.
      this.log.warn({ network: name, instance }, 'DHCP release ignored, restarting dnsmasq to drop the lease');
      await this.supervisor.stop(name, files, signal);
      const kept = ((await readNetworkFile(files.leases)) ?? '')
        .split('\n')
        .filter((line) => line !== '' && !released.includes((line.split(/\s+/)[1] ?? '').toLowerCase()));
      await writeAtomic(files.leases, kept.map((l) => l + '\n').join(''), files.dir);
      await this.bringUp(name, record.effective, signal, new Reverter());
    });
  }

  /** Stops supervising (timers, child handles) without stopping any network: dnsmasq keeps serving. */
  close(): void {
    this.closed = true;
    for (const name of [...this.restarts.keys()]) this.cancelRestart(name);
    this.supervisor.close();
  }

  /**
   * Makes the host match `effective` for network `name`: bridge (created if missing), MTU, MAC,
   * gateway address, up; forwarding; nftables table; dnsmasq (adopted when it runs this exact
   * config, else restarted). Undo steps for what it creates are added to `r`.
   */
  private async bringUp(name: string, effective: ConfigMap, signal: AbortSignal, r: Reverter): Promise<void> {
    const settings = this.settingsOf(name, effective);
    const files = this.files(name);
    const gateway = settings.ipv4.kind === 'static' ? settings.ipv4.gateway : null;

    // The bridge.
    const link = await showLink(name, signal);
    if (link && !isShoalBridge(link)) throw errors.exists(`Interface "${name}" already exists on this host`);
    const freshBridge = !link;
    const layout = { mtu: settings.mtu, hwaddr: settings.hwaddr ?? stableBridgeMac(name), gateway };
    if (link) {
      await configureBridge(link, layout, signal);
    } else {
      r.add(`bridge "${name}"`, async () => {
        const none = new AbortController().signal;
        if (await showLink(name, none)) await deleteLink(name, none);
      });
      await createBridge(name, layout, signal);
    }
    if (gateway && settings.routing) await enableIpv4Forwarding();

    // The nftables table.
    const ruleset = renderRuleset({
      network: name,
      subnet: gateway?.subnet ?? null,
      nat: settings.nat,
      firewall: settings.firewall,
    });
    if (ruleset) {
      const existed = await tableExists(name, signal);
      await applyRuleset(ruleset, signal);
      if (!existed) r.add(`nftables table of "${name}"`, () => deleteTable(name, new AbortController().signal));
    } else {
      await deleteTable(name, signal);
    }

    // dnsmasq.
    if (!gateway || (!settings.dhcp && settings.dnsMode === 'none')) {
      await this.supervisor.stop(name, files, signal);
      return;
    }
    const conf = renderDnsmasqConfig({ network: name, gateway, settings, files, upstream: this.upstream });
    const raw = settings.rawDnsmasq.trim() === '' ? null : settings.rawDnsmasq + '\n';
    const unchanged =
      (await readNetworkFile(files.conf)) === conf && (raw === null || (await readNetworkFile(files.raw)) === raw);
    // A dnsmasq bound to a bridge that has since been recreated serves nothing: restart it.
    if (unchanged && !freshBridge && (await this.supervisor.adopt(name, files)) !== null) return;
    await this.supervisor.stop(name, files, signal);
    await makeNetworkDir(files);
    if (raw !== null) await writeAtomic(files.raw, raw, files.dir);
    await writeAtomic(files.conf, conf, files.dir);
    await this.supervisor.start(name, files, signal);
    r.add(`dnsmasq of "${name}"`, () => this.supervisor.stop(name, files, new AbortController().signal));
  }

  /** Removes everything network `name` owns; every step is tried, and what could not be removed is named. */
  private async teardown(name: string, files: NetworkFiles, signal: AbortSignal): Promise<void> {
    const remaining: string[] = [];
    let firstErr: unknown;
    const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        remaining.push(what);
        firstErr ??= err;
      }
    };
    const record = await readRecord(files).catch((err: unknown) => {
      // A corrupt network.json must not block removing what the network owns; the dir goes too.
      this.log.warn({ err, network: name }, 'unreadable network record, deleting anyway');
      return null;
    });
    await step(`dnsmasq of "${name}"`, () => this.supervisor.stop(name, files, signal));
    await step(`nftables table of "${name}"`, () => deleteTable(name, signal));
    await step(`bridge "${name}"`, async () => {
      const link = await showLink(name, signal);
      if (link && (isShoalBridge(link) || (record && link.linkinfo?.info_kind === 'bridge')))
        await deleteLink(name, signal);
    });
    await step(`directory "${files.dir}"`, () => removeNetworkDir(files));
    if (remaining.length > 0) throw new RevertIncompleteError(remaining, firstErr);
    if (record) this.log.info({ network: name }, 'network deleted');
  }

  /** The gateway for `config` (see {@link SubnetAllocator.allocate}); an existing network keeps its subnet under `auto`. */
  private gatewayFor(
    name: string,
    config: ConfigMap,
    record: NetworkRecord | null,
    signal: AbortSignal,
  ): Promise<Ipv4Interface | null> {
    const current = record ? this.settingsOf(name, record.effective).ipv4 : null;
    return this.subnets.allocate(
      name,
      this.settingsOf(name, config).ipv4,
      current?.kind === 'static' ? current.gateway : null,
      signal,
    );
  }

  private settingsOf(name: string, config: ConfigMap): BridgeSettings {
    this.checkName(name);
    const parsed = parseBridgeConfig(config);
    if (!parsed.ok) {
      throw errors.invalid(`Invalid value for network "${name}" option "${parsed.key}": ${parsed.reason}`, {
        key: parsed.key,
      });
    }
    return parsed.settings;
  }

  private checkName(name: string): void {
    const problem = networkNameProblem(name);
    if (problem) throw errors.invalid(`Invalid network name "${name}": ${problem}`);
  }

  private files(name: string): NetworkFiles {
    return networkFiles(this.options.paths.networks, name);
  }

  /** Runs `fn` after every earlier call on the same network has finished. */
  private async locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
    this.locks.set(name, mine);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(name) === mine) this.locks.delete(name);
    }
  }

  /** Restarts a dnsmasq that died on its own: 0.5 s, doubling to 30 s while it keeps dying within a minute. */
  private scheduleRestart(name: string): void {
    if (this.closed || !this.restartDnsmasq) return;
    const now = this.clock.now();
    const prev = this.restarts.get(name);
    const attempts = prev && now - prev.lastAt < 60_000 ? prev.attempts + 1 : 0;
    prev?.timer?.dispose();
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** attempts);
    const entry = { timer: null as Disposable | null, attempts, lastAt: now };
    entry.timer = this.clock.setTimer(delay, () => {
      entry.timer = null;
      void this.locked(name, async () => {
        const files = this.files(name);
        const record = await readRecord(files);
        if (this.closed || !record || this.supervisor.pidOf(name) !== null) return;
        await this.bringUp(name, record.effective, new AbortController().signal, new Reverter());
        this.log.info({ network: name, attempts: attempts + 1 }, 'dnsmasq restarted');
      }).catch((err: unknown) => {
        // Logged, not thrown: nobody awaits a background restart; the next start() retries.
        this.log.error({ err, network: name }, 'dnsmasq restart failed');
      });
    });
    this.restarts.set(name, entry);
  }

  private cancelRestart(name: string): void {
    this.restarts.get(name)?.timer?.dispose();
    this.restarts.delete(name);
  }
}

function sameConfig(a: ConfigMap, b: ConfigMap): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
