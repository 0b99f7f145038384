// Test hosts for network tests: network namespaces attached to a bridge through veth pairs, with
// busybox udhcpc, nslookup, ping and nc inside. Every object made here is named with the run's
// tag (test/support/host-plan.ts: tag + random suffix) and recorded, and `cleanup()` removes exactly those objects (pids,
// namespaces, links, /etc/netns entries, temp dirs), even after a failed test.
import { mkdtemp, mkdir, rm, writeFile, chmod, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { run, spawnChild } from '../../src/node-agent/exec.js';
import { ExecError } from '../../src/shared/index.js';
import { HOST_TAG } from './host-plan.js';

/** A namespace attached to a bridge (or to the host through a plain veth). */
export interface TestHost {
  readonly ns: string;
  /** Host-side veth name. */
  readonly hostVeth: string;
  /** Interface name inside the namespace. */
  readonly ifname: 'eth0';
  readonly hwaddr: string;
}

/** What udhcpc got. */
export interface DhcpResult {
  readonly ip: string;
  readonly router: string;
  readonly dns: string;
  readonly domain: string;
  readonly lease: number;
  readonly ms: number;
}

const UDHCPC_SCRIPT = `#!/bin/sh
# udhcpc event script: apply the lease to the interface and record it.
case "$1" in
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip route replace default via "\${router%% *}" dev "$interface"
    printf 'ip=%s\\nrouter=%s\\ndns=%s\\ndomain=%s\\nlease=%s\\n' "$ip" "$router" "$dns" "$domain" "$lease" > "$UDHCPC_OUT"
    ;;
esac
exit 0
`;

export { randomSuffix } from './host-plan.js';

/** Namespaces, veths and helper processes of one test, with their cleanup. */
export class NetnsHosts {
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly dirs: string[] = [];
  private scriptDir: string | null = null;
  private macCounter = 0;

  /** `tag` starts every name (≤ 9 characters so that names with suffixes stay ≤ 15). */
  constructor(readonly tag: string) {}

  /** A temp dir `/tmp/shoal-<tag>-net-*` removed at cleanup. */
  async tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), `shoal-${HOST_TAG}-net-`));
    this.dirs.push(d);
    return d;
  }

  /** A fresh locally administered MAC. */
  nextMac(): string {
    this.macCounter++;
    const rnd = [0, 0, 0].map(() =>
      Math.floor(Math.random() * 256)
        .toString(16)
        .padStart(2, '0'),
    );
    return ['02', rnd[0], rnd[1], rnd[2], '00', this.macCounter.toString(16).padStart(2, '0')].join(':');
  }

  /**
   * Creates namespace `<tag><id>` with `eth0` (MAC `hwaddr`, up) whose peer `<tag><id>v` is attached to
   * `bridge` and up. With `bridge` null the peer is left unattached in the host namespace.
   */
  async addHost(id: string, bridge: string | null, hwaddr = this.nextMac()): Promise<TestHost> {
    const ns = `${this.tag}${id}`;
    const hostVeth = `${ns}v`;
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await run('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    this.links.push(hostVeth);
    if (bridge) await run('ip', ['link', 'set', hostVeth, 'master', bridge]);
    await run('ip', ['link', 'set', hostVeth, 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', hwaddr, 'up']);
    return { ns, hostVeth, ifname: 'eth0', hwaddr };
  }

  /** Runs a command inside a namespace. */
  exec(host: TestHost, cmd: string, args: readonly string[], okCodes: readonly number[] = [0]) {
    return run('ip', ['netns', 'exec', host.ns, cmd, ...args], { timeoutMs: 60_000, okCodes });
  }

  /** Runs `busybox udhcpc` in the namespace until it has a lease (or fails after ~5 tries). */
  async dhcp(host: TestHost, hostname: string): Promise<DhcpResult> {
    const dir = await this.scripts();
    const out = join(dir, `${host.ns}.lease`);
    const started = performance.now();
    await run(
      'ip',
      [
        'netns',
        'exec',
        host.ns,
        'busybox',
        'udhcpc',
        '-i',
        'eth0',
        '-s',
        join(dir, 'udhcpc.sh'),
        '-x',
        `hostname:${hostname}`,
        '-q',
        '-n',
        '-f',
        '-t',
        '5',
        '-T',
        '1',
      ],
      { env: { UDHCPC_OUT: out }, timeoutMs: 30_000 },
    );
    const ms = performance.now() - started;
    const fields = Object.fromEntries(
      (await readFile(out, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return {
      ip: fields.ip ?? '',
      router: fields.router ?? '',
      dns: fields.dns ?? '',
      domain: fields.domain ?? '',
      lease: Number(fields.lease ?? 0),
      ms,
    };
  }

  /** `busybox nslookup <name> <server>` inside the namespace: the A record, or null when not found. */
  async lookup(host: TestHost, name: string, server: string): Promise<string | null> {
    const r = await this.exec(host, 'busybox', ['nslookup', '-type=a', name, server], [0, 1]);
    const m = /Name:\s*\S+\s*\nAddress:\s*([\d.]+)/.exec(r.stdout);
    return m?.[1] ?? null;
  }

  /**
   * Writes `/etc/netns/<ns>/resolv.conf` (what `ip netns exec` bind-mounts over /etc/resolv.conf),
   * so programs in the namespace resolve through `server` with `search` domain.
   */
  async setResolver(host: TestHost, server: string, search: string): Promise<void> {
    await mkdir(`/etc/netns/${host.ns}`, { recursive: true });
    await writeFile(`/etc/netns/${host.ns}/resolv.conf`, `nameserver ${server}\nsearch ${search}\n`);
  }

  /** True when one `busybox ping` from the namespace to `target` (a name or address) is answered. */
  async ping(host: TestHost, target: string): Promise<boolean> {
    const r = await this.exec(host, 'busybox', ['ping', '-c', '1', '-W', '2', target], [0, 1]);
    return r.code === 0;
  }

  /** Starts a TCP server in the namespace that answers each connection with the peer's address. */
  async serveRemoteAddress(host: TestHost, address: string, port: number): Promise<void> {
    const code = `require('net').createServer((s) => s.end(s.remoteAddress + '\\n')).listen(${port}, '${address}', () => console.log('ready'))`;
    const child = spawnChild('ip', ['netns', 'exec', host.ns, process.execPath, '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`server in ${host.ns} exited with ${c}`)));
    });
  }

  /** Connects from the namespace with `busybox nc` and returns what the server said (trimmed). */
  async fetch(host: TestHost, address: string, port: number): Promise<string> {
    const r = await this.exec(host, 'busybox', ['nc', '-w', '3', address, String(port)]);
    return r.stdout.trim();
  }

  /** Removes everything this object made; tolerates what is already gone. Never throws. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        if (err instanceof ExecError && /does not exist|No such file|Cannot find device|No such device/.test(err.stderrTail)) return;
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };
    for (const c of this.children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await gone;
      }
    }
    for (const ns of this.namespaces.splice(0)) {
      await attempt(`netns ${ns}`, () => run('ip', ['netns', 'del', ns]));
      await attempt(`/etc/netns/${ns}`, () => rm(`/etc/netns/${ns}`, { recursive: true, force: true }));
    }
    for (const l of this.links.splice(0)) {
      await attempt(`link ${l}`, async () => {
        const r = await run('ip', ['-j', 'link', 'show'], {});
        if ((JSON.parse(r.stdout) as { ifname: string }[]).some((x) => x.ifname === l))
          await run('ip', ['link', 'del', l]);
      });
    }
    for (const d of this.dirs.splice(0)) await attempt(`dir ${d}`, () => rm(d, { recursive: true, force: true }));
    this.scriptDir = null;
    return problems;
  }

  private async scripts(): Promise<string> {
    if (this.scriptDir) return this.scriptDir;
    const d = await this.tempDir();
    await writeFile(join(d, 'udhcpc.sh'), UDHCPC_SCRIPT);
    await chmod(join(d, 'udhcpc.sh'), 0o755);
    this.scriptDir = d;
    return d;
  }
}

/** Host objects whose names start with `tag`: links, namespaces, nft tables and dnsmasq processes. */
export async function leftovers(tag: string): Promise<string[]> {
  const out: string[] = [];
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[];
  out.push(...links.filter((l) => l.ifname.startsWith(tag)).map((l) => `link ${l.ifname}`));
  const ns = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
  out.push(...ns.filter((n) => n.startsWith(tag)).map((n) => `netns ${n}`));
  const tables = (await run('nft', ['list', 'tables'])).stdout.split('\n');
  out.push(...tables.filter((t) => t.includes(` ${tag}`)).map((t) => t.trim()));
  const ps = await run('sh', ['-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done']);
  out.push(
    ...ps.stdout
      .split('\n')
      .filter((l) => l.includes('dnsmasq') && l.includes(`/${tag}`))
      .map((l) => `process ${l.trim()}`),
  );
  return out;
}

/**
 * Removes every host object named with `tag` (the run's unique tag: nothing else can match):
 * dnsmasq processes running a config under a `<tag>…` network dir, nft tables, namespaces, links.
 * A last line of defence after a test that failed before its own cleanup.
 */
export async function forceCleanup(tag: string): Promise<void> {
  const ps = await run('sh', [
    '-c',
    'for p in /proc/[0-9]*; do printf "%s " "${p#/proc/}"; tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done',
  ]);
  for (const line of ps.stdout.split('\n')) {
    if (!line.includes('dnsmasq') || !line.includes(`/${tag}`)) continue;
    try {
      process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const tables = (await run('nft', ['list', 'tables'])).stdout.split('\n');
  for (const t of tables) {
    const [, family, name] = t.trim().split(' ');
    if (family && name?.startsWith(tag)) await run('nft', ['delete', 'table', family, name]);
  }
  const ns = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
  for (const n of ns.filter((x) => x.startsWith(tag))) {
    await run('ip', ['netns', 'del', n]);
    await rm(`/etc/netns/${n}`, { recursive: true, force: true });
  }
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[];
  for (const l of links.filter((x) => x.ifname.startsWith(tag))) {
    await run('ip', ['link', 'del', l.ifname], { okCodes: [0, 1] });
  }
}

/**
 * True when a UDP datagram to `address:port` (from the host) is refused (ICMP port unreachable)
 * within `ms`; false when nothing answers at all or something replies.
 */
export async function udpPortRefused(address: string, port: number, ms = 2000): Promise<boolean> {
  const { createSocket } = await import('node:dgram');
  const sock = createSocket('udp4');
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      sock.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(err.code === 'ECONNREFUSED');
      });
      sock.on('message', () => {
        clearTimeout(timer);
        resolve(false);
      });
      sock.connect(port, address, () => sock.send(Buffer.from('shoal-test')));
    });
  } finally {
    sock.close();
  }
}
