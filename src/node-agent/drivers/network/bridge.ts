/**
 * The Linux bridge of a managed network, driven with `ip -j` (iproute2) through exec.ts, plus the
 * host facts the driver needs: which subnets are in use, and IPv4 forwarding.
 *
 * A bridge made by Shoal carries the interface alias {@link SHOAL_BRIDGE_ALIAS}, so a bridge left by
 * a crashed create can be told apart from a host bridge that happens to have the same name.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { ErrorCode, ExecError, ShoalError } from '../../../shared/index.js';
import { run } from '../../exec.js';
import type { InterfaceState, NetworkAddress } from '../../types.js';
import { formatInterface, subnetsInUse, type Ipv4Interface, type Ipv4Subnet } from './addresses.js';

/** The `ifalias` Shoal sets on bridges it creates. */
export const SHOAL_BRIDGE_ALIAS = 'shoal-network';

const IP_TIMEOUT_MS = 30_000;

/** The parts of `ip -j -s -d addr show` output the driver reads. */
export interface IpLink {
  readonly ifname: string;
  readonly flags?: readonly string[];
  readonly mtu?: number;
  readonly address?: string;
  readonly ifalias?: string;
  readonly master?: string;
  readonly linkinfo?: { readonly info_kind?: string };
  readonly addr_info?: readonly {
    readonly family?: string;
    readonly local?: string;
    readonly prefixlen?: number;
    readonly scope?: string;
  }[];
  readonly stats64?: {
    readonly rx?: { readonly bytes?: number; readonly packets?: number };
    readonly tx?: { readonly bytes?: number; readonly packets?: number };
  };
}

function ip(args: readonly string[], signal: AbortSignal): Promise<{ stdout: string }> {
  return run('ip', args, { signal, timeoutMs: IP_TIMEOUT_MS });
}

/** The link named `name` with addresses, details and counters, or null when there is none. */
export async function showLink(name: string, signal: AbortSignal): Promise<IpLink | null> {
  try {
    const r = await ip(['-j', '-s', '-d', 'addr', 'show', 'dev', name], signal);
    const links = JSON.parse(r.stdout) as IpLink[];
    return links[0] ?? null;
  } catch (err) {
    // `ip` says `Device "x" does not exist.` with exit code 1: that is the answer, not a failure.
    if (err instanceof ExecError && err.exitCode === 1 && /does not exist/.test(err.stderrTail)) return null;
    throw err;
  }
}

/** True when `link` is a bridge created by Shoal. */
export function isShoalBridge(link: IpLink): boolean {
  return link.linkinfo?.info_kind === 'bridge' && link.ifalias === SHOAL_BRIDGE_ALIAS;
}

/**
 * A stable, locally administered unicast MAC for a bridge without `bridge.hwaddr` (LXD's
 * `00:16:3e` prefix, then 3 bytes of SHA-256 of the network name), so the bridge's address does
 * not change when ports come and go.
 */
export function stableBridgeMac(network: string): string {
  const h = createHash('sha256').update(`shoal-bridge:${network}`).digest();
  const tail = [h[0] ?? 0, h[1] ?? 0, h[2] ?? 0].map((b) => b.toString(16).padStart(2, '0'));
  return ['00', '16', '3e', ...tail].join(':');
}

/**
 * Creates a bridge already laid out as `layout` and up: STP off and no forward delay (as LXD),
 * Shoal's alias, MAC, MTU and gateway address, in one `ip -batch` run. On failure the bridge may
 * exist half-configured: the caller's undo step deletes it.
 */
export async function createBridge(name: string, layout: BridgeLayout, signal: AbortSignal): Promise<void> {
  const mtu = layout.mtu ?? 1500;
  const lines = [
    `link add name ${name} address ${layout.hwaddr} mtu ${mtu} type bridge forward_delay 0 stp_state 0`,
    `link set dev ${name} alias ${SHOAL_BRIDGE_ALIAS}`,
    ...(layout.gateway ? [`addr add ${formatInterface(layout.gateway)} dev ${name}`] : []),
    `link set dev ${name} up`,
  ];
  await run('ip', ['-batch', '-'], { input: lines.join('\n') + '\n', signal, timeoutMs: IP_TIMEOUT_MS });
}

/** What {@link configureBridge} makes true. */
export interface BridgeLayout {
  readonly mtu: number | null;
  readonly hwaddr: string;
  /** The only IPv4 address the bridge should carry; null for none. */
  readonly gateway: Ipv4Interface | null;
}

/**
 * Brings an existing bridge to `layout` and up: MTU, MAC, exactly the one IPv4 gateway address
 * (others removed). Idempotent; touches only what differs.
 */
export async function configureBridge(link: IpLink, layout: BridgeLayout, signal: AbortSignal): Promise<void> {
  const name = link.ifname;
  const mtu = layout.mtu ?? 1500;
  if (link.mtu !== mtu) await ip(['link', 'set', 'dev', name, 'mtu', String(mtu)], signal);
  if (link.address?.toLowerCase() !== layout.hwaddr)
    await ip(['link', 'set', 'dev', name, 'address', layout.hwaddr], signal);
  const want = layout.gateway ? formatInterface(layout.gateway) : null;
  const have = (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  if (!(have.length === (want ? 1 : 0) && (want === null || have[0] === want))) {
    if (have.length > 0) await ip(['-4', 'addr', 'flush', 'dev', name], signal);
    if (want) await ip(['addr', 'add', want, 'dev', name], signal);
  }
  if (!link.flags?.includes('UP')) await ip(['link', 'set', 'dev', name, 'up'], signal);
}

/** Takes a link down. */
export async function setLinkDown(name: string, signal: AbortSignal): Promise<void> {
  await ip(['link', 'set', 'dev', name, 'down'], signal);
}

/** Deletes a link (its ports are detached by the kernel, not deleted). */
export async function deleteLink(name: string, signal: AbortSignal): Promise<void> {
  await ip(['link', 'del', 'dev', name], signal);
}

/**
 * IPv4 subnets in use on this host (routes of every table and interface addresses), except those
 * on `exceptDev` (the network's own bridge, when reconfiguring it).
 */
export async function listHostSubnets(signal: AbortSignal, exceptDev?: string): Promise<Ipv4Subnet[]> {
  const [routes, addrs] = await Promise.all([
    ip(['-j', '-4', 'route', 'show', 'table', 'all'], signal),
    ip(['-j', '-4', 'addr', 'show'], signal),
  ]);
  const keep = (x: unknown): boolean => {
    const o = x as { dev?: unknown; ifname?: unknown };
    return exceptDev === undefined || (o.dev !== exceptDev && o.ifname !== exceptDev);
  };
  return subnetsInUse(
    (JSON.parse(routes.stdout) as unknown[]).filter(keep),
    (JSON.parse(addrs.stdout) as unknown[]).filter(keep),
  );
}

/**
 * Turns on IPv4 forwarding for the whole host (`net.ipv4.ip_forward=1`), as LXD does for a bridge
 * with `ipv4.routing=true`. Shoal never turns it back off: other networks or software may rely on it.
 */
export async function enableIpv4Forwarding(): Promise<void> {
  try {
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1\n');
  } catch (err) {
    throw new ShoalError(ErrorCode.FailedPrecondition, 'Failed enabling IPv4 forwarding', { cause: err });
  }
}

function scopeOf(scope: string | undefined): NetworkAddress['scope'] {
  if (scope === 'link') return 'link';
  if (scope === 'host') return 'local';
  return 'global';
}

/** LXD `NetworkState` of a link from its `ip -j -s addr show` entry (netmask as prefix length, LXD style). */
export function interfaceStateOf(link: IpLink): InterfaceState {
  const addresses: NetworkAddress[] = [];
  for (const a of link.addr_info ?? []) {
    if ((a.family !== 'inet' && a.family !== 'inet6') || a.local === undefined) continue;
    addresses.push({ family: a.family, address: a.local, netmask: String(a.prefixlen ?? ''), scope: scopeOf(a.scope) });
  }
  return {
    addresses,
    hwaddr: link.address ?? '',
    mtu: link.mtu ?? 0,
    state: link.flags?.includes('UP') ? 'up' : 'down',
    hostName: '',
    counters: {
      bytesReceived: link.stats64?.rx?.bytes ?? 0,
      bytesSent: link.stats64?.tx?.bytes ?? 0,
      packetsReceived: link.stats64?.rx?.packets ?? 0,
      packetsSent: link.stats64?.tx?.packets ?? 0,
    },
  };
}
