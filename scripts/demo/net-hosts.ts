/**
 * Test hosts on one machine: a Linux bridge that plays the physical network and N network
 * namespaces, each with a veth into the bridge and its own address on a private /24, as if each
 * were a separate server. The host itself gets the subnet's first address on the bridge, so host
 * processes (the demo, a test, the `shoal` CLI) reach every member directly.
 *
 *   host ── <prefix>br 10.213.77.1/24 ──┬── <prefix><name>h ══ eth0 10.213.77.11 (netns <prefix><name>)
 *                                       └── …                   eth0 10.213.77.12 …
 *
 * Every object is named `<prefix>…` (bridge `<prefix>br`, namespace `<prefix><name>`, host-side veth
 * `<prefix><name>h`), so `removeNetHostsByPrefix(prefix)` finds what a crashed run left behind. An
 * instance's `destroy()` removes exactly what it made (processes still running inside its
 * namespaces first, by PID). Used by the demo (fixed prefix `sd-`), and by tests through
 * test/support/net-hosts.ts (random prefixes). Needs root and iproute2.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { run, type RunOptions, type RunResult } from '../../src/node-agent/exec.js';
import { ErrorCode, ExecError, Reverter, ShoalError } from '../../src/shared/index.js';

/** One simulated server: a network namespace with its own address on the shared bridge. */
export interface NetHost {
  /** The caller's name for it (e.g. `m1`). */
  readonly name: string;
  /** Network namespace name (`<prefix><name>`), usable with `ip netns exec`. */
  readonly ns: string;
  /** Its IPv4 address on the bridge (no prefix length). */
  readonly address: string;
  /** Host-side end of its veth, attached to the bridge. */
  readonly hostVeth: string;
}

/** Options of {@link NetHosts.create}. */
export interface NetHostsOptions {
  /** Starts every object name; 2–8 characters of [a-z0-9-], so that all names stay ≤ 15. */
  readonly prefix: string;
  /** A /24 such as `10.213.77.0/24`; must not overlap any route or address already on the host. */
  readonly subnet: string;
  /** Host names, 1–6 characters of [a-z0-9] each; host i gets address `.(11 + i)`. */
  readonly names: readonly string[];
}

/** Options of {@link NetHosts.spawn}. */
export interface NetSpawnOptions {
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  /** The complete environment of the process (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Outlives this process (own process group, not waited for); stop it later by PID. */
  readonly detached?: boolean;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{1,7}$/;
const HOST_RE = /^[a-z0-9]{1,6}$/;

/** Parses `a.b.c.0/24`, returning the three-octet network part, or throws INVALID_ARGUMENT. */
function parseSubnet24(subnet: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) {
    throw new ShoalError(ErrorCode.InvalidArgument, `Subnet "${subnet}" is not an IPv4 /24 such as 10.213.77.0/24`);
  }
  return `${m[1]}.${m[2]}.${m[3]}`;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** True when the IPv4 prefixes `a/alen` and `b/blen` share any address. */
function overlaps(a: string, alen: number, b: string, blen: number): boolean {
  // Same network under the shorter prefix. Division, not bit shifts: JS bitwise operators are signed 32-bit.
  const size = 2 ** (32 - Math.min(alen, blen));
  return Math.floor(ipToInt(a) / size) === Math.floor(ipToInt(b) / size);
}

/** Routes and addresses on the host that overlap `subnet`, as readable strings (empty when free). */
export async function subnetConflicts(subnet: string): Promise<string[]> {
  const net = `${parseSubnet24(subnet)}.0`;
  const found: string[] = [];
  const routes = JSON.parse((await run('ip', ['-4', '-j', 'route', 'show', 'table', 'all'])).stdout || '[]') as {
    dst?: string;
    dev?: string;
  }[];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    const [ip = '', len = '32'] = r.dst.split('/');
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip) && overlaps(ip, Number(len), net, 24)) found.push(`route ${r.dst} dev ${r.dev ?? '?'}`);
  }
  const addrs = JSON.parse((await run('ip', ['-4', '-j', 'addr', 'show'])).stdout || '[]') as {
    ifname?: string;
    addr_info?: { local?: string }[];
  }[];
  for (const link of addrs) {
    for (const a of link.addr_info ?? []) {
      if (a.local && overlaps(a.local, 32, net, 24)) found.push(`address ${a.local} on ${link.ifname ?? '?'}`);
    }
  }
  return found;
}

/**
 * A free /24 inside `pool16` (e.g. `10.213.0.0/16`), chosen at random among third octets
 * `[from, to]` and checked against the host's routes and addresses. Concurrent callers may pick the
 * same one; {@link NetHosts.create} re-checks, so retry on FAILED_PRECONDITION.
 */
export async function pickFreeSubnet(pool16: string, from = 100, to = 250): Promise<string> {
  const m = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(pool16);
  if (!m) throw new ShoalError(ErrorCode.InvalidArgument, `Pool "${pool16}" is not an IPv4 /16 such as 10.213.0.0/16`);
  for (let attempt = 0; attempt < 20; attempt++) {
    const third = from + Math.floor(Math.random() * (to - from + 1));
    const subnet = `${m[1]}.${m[2]}.${third}.0/24`;
    if ((await subnetConflicts(subnet)).length === 0) return subnet;
  }
  throw new ShoalError(ErrorCode.FailedPrecondition, `No free /24 found in "${pool16}"`);
}

/** Namespaces and links whose names start with `prefix` (what a run with that prefix left). */
export async function listNetHostsByPrefix(prefix: string): Promise<{ namespaces: string[]; links: string[] }> {
  const namespaces = (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix));
  const links = (JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout || '[]') as { ifname?: string }[])
    .map((l) => l.ifname ?? '')
    .filter((n) => n.startsWith(prefix));
  return { namespaces, links };
}

/** Kills (SIGKILL, by PID) every process in namespace `ns` and waits until none is left. */
async function killProcessesIn(ns: string): Promise<number[]> {
  const killed: number[] = [];
  for (let round = 0; round < 50; round++) {
    const res = await run('ip', ['netns', 'pids', ns], { okCodes: [0, 1] });
    const pids = res.stdout.split(/\s+/).filter(Boolean).map(Number);
    if (pids.length === 0) return killed;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        if (!killed.includes(pid)) killed.push(pid);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ShoalError(ErrorCode.Internal, `Processes in network namespace "${ns}" survive SIGKILL`);
}

/** Runs `ip args`, treating "does not exist" as done (teardown is idempotent). */
async function ipDelete(args: readonly string[]): Promise<boolean> {
  try {
    await run('ip', args);
    return true;
  } catch (err) {
    if (err instanceof ExecError && /No such file|Cannot find device|does not exist/i.test(err.stderrTail)) return false;
    throw err;
  }
}

/**
 * Removes every namespace and link whose name starts with `prefix`: processes inside those
 * namespaces are killed by PID first (a namespace lives on while a process holds it). Returns
 * the names removed. Idempotent; for clean-up after a crashed run.
 */
export async function removeNetHostsByPrefix(prefix: string): Promise<string[]> {
  if (!NAME_RE.test(prefix)) throw new ShoalError(ErrorCode.InvalidArgument, `Prefix "${prefix}" is not 2–8 characters of [a-z0-9-]`);
  const { namespaces, links } = await listNetHostsByPrefix(prefix);
  const removed: string[] = [];
  for (const ns of namespaces) {
    await killProcessesIn(ns);
    if (await ipDelete(['netns', 'delete', ns])) removed.push(ns);
  }
  // Veths whose namespace end is gone vanish with it; what remains are bridges and stray veths.
  const left = (await listNetHostsByPrefix(prefix)).links;
  for (const link of links.filter((l) => left.includes(l))) {
    if (await ipDelete(['link', 'delete', link])) removed.push(link);
  }
  return removed;
}

/** A bridge plus N namespaces on it. Create with {@link NetHosts.create}; remove with `destroy()`. */
export class NetHosts {
  private destroyed = false;

  private constructor(
    /** The bridge playing the physical network. */
    readonly bridge: string,
    /** The host's own address on the bridge (`.1`). */
    readonly hostAddress: string,
    readonly subnet: string,
    readonly hosts: readonly NetHost[],
    private readonly prefix: string,
  ) {}

  /**
   * Creates the bridge (with the host on `.1`) and one namespace per name, with loopback up,
   * `eth0` addressed and up, all under a revert stack: on failure nothing it made is left.
   * Fails with FAILED_PRECONDITION when the subnet is in use or objects with these names exist.
   */
  static async create(opts: NetHostsOptions): Promise<NetHosts> {
    const { prefix, names } = opts;
    if (!NAME_RE.test(prefix)) throw new ShoalError(ErrorCode.InvalidArgument, `Prefix "${prefix}" is not 2–8 characters of [a-z0-9-]`);
    const bad = names.find((n) => !HOST_RE.test(n));
    if (bad !== undefined || names.length === 0 || names.length > 200 || new Set(names).size !== names.length) {
      throw new ShoalError(ErrorCode.InvalidArgument, `Host names must be 1–200 distinct names of 1–6 characters [a-z0-9]`);
    }
    const net = parseSubnet24(opts.subnet);
    const conflicts = await subnetConflicts(opts.subnet);
    if (conflicts.length > 0) {
      throw new ShoalError(ErrorCode.FailedPrecondition, `Subnet "${opts.subnet}" is already in use (${conflicts.join(', ')})`);
    }
    const existing = await listNetHostsByPrefix(prefix);
    if (existing.namespaces.length + existing.links.length > 0) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `Objects named "${prefix}*" already exist (${[...existing.namespaces, ...existing.links].join(', ')})`,
      );
    }
    const bridge = `${prefix}br`;
    const hostAddress = `${net}.1`;
    const r = new Reverter();
    try {
      // The bridge, with the host on it.
      await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
      r.add(`delete bridge ${bridge}`, async () => void (await ipDelete(['link', 'delete', bridge])));
      await run('ip', ['addr', 'add', `${hostAddress}/24`, 'dev', bridge]);
      await run('ip', ['link', 'set', bridge, 'up']);
      // One namespace per host, its veth into the bridge.
      const hosts: NetHost[] = [];
      for (const [i, name] of names.entries()) {
        const ns = `${prefix}${name}`;
        const hostVeth = `${ns}h`;
        const address = `${net}.${11 + i}`;
        await run('ip', ['netns', 'add', ns]);
        r.add(`delete namespace ${ns}`, async () => {
          await killProcessesIn(ns);
          await ipDelete(['netns', 'delete', ns]);
        });
        await run('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        r.add(`delete veth ${hostVeth}`, async () => void (await ipDelete(['link', 'delete', hostVeth])));
        await run('ip', ['link', 'set', hostVeth, 'master', bridge, 'up']);
        await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        await run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
        await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
        hosts.push({ name, ns, address, hostVeth });
      }
      r.success();
      return new NetHosts(bridge, hostAddress, opts.subnet, hosts, prefix);
    } finally {
      await r.fail();
    }
  }

  /** The host called `name`; throws NOT_FOUND for an unknown name. */
  host(name: string): NetHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new ShoalError(ErrorCode.NotFound, `Test host "${name}" not found`);
    return h;
  }

  /** Runs `cmd args…` inside `host`'s namespace to completion (see `run` in src/node-agent/exec.ts). */
  exec(host: NetHost, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', host.ns, cmd, ...args], { timeoutMs: 60_000, ...options });
  }

  /**
   * Starts `cmd args…` inside `host`'s namespace with its output in `logFile` and returns its PID
   * (`ip netns exec` replaces itself with the command, so it is the command's own PID). The caller
   * owns the process; `destroy()` kills whatever still runs in the namespace.
   */
  spawn(host: NetHost, cmd: string, args: readonly string[], options: NetSpawnOptions): Promise<number> {
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn('ip', ['netns', 'exec', host.ns, cmd, ...args], {
        stdio: ['ignore', fd, fd],
        env: options.env ?? process.env,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        detached: options.detached ?? false,
      });
      if (options.detached) child.unref();
      return new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', (err) => reject(new ShoalError(ErrorCode.Internal, `Failed starting "${cmd}" in "${host.ns}"`, { cause: err })));
      });
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Kills what still runs in the namespaces (by PID), deletes the namespaces (their veths go with
   * them), any veth left, and the bridge. Removes only objects this instance made. Idempotent.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    for (const h of this.hosts) {
      await killProcessesIn(h.ns);
      await ipDelete(['netns', 'delete', h.ns]);
      await ipDelete(['link', 'delete', h.hostVeth]);
    }
    await ipDelete(['link', 'delete', this.bridge]);
    this.destroyed = true;
  }

  /** The prefix every object of this instance starts with. */
  get namePrefix(): string {
    return this.prefix;
  }
}
