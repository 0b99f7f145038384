/**
 * IPv4 address and CIDR arithmetic for managed networks. Pure: no I/O, no clock; randomness comes
 * in as an {@link Rng} so subnet picking is reproducible in tests.
 *
 * Addresses are held as unsigned 32-bit numbers (`0 ≤ n < 2^32`), which keeps range checks to
 * plain comparisons.
 */
import type { Rng } from '../../../shared/index.js';

/** An IPv4 subnet: network address (host bits zero) and prefix length. */
export interface Ipv4Subnet {
  readonly network: number;
  readonly prefix: number;
}

/** An interface address in CIDR form, e.g. the gateway `10.0.3.1/24`. */
export interface Ipv4Interface {
  readonly address: number;
  readonly subnet: Ipv4Subnet;
}

/** An inclusive range of addresses (`first ≤ last`). */
export interface Ipv4Range {
  readonly first: number;
  readonly last: number;
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted-quad address; null when malformed (leading zeros are refused, as `ip` does). */
export function parseIpv4(text: string): number | null {
  const m = DOTTED.exec(text);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] ?? '';
    if (part.length > 1 && part.startsWith('0')) return null;
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/** Formats an unsigned 32-bit address as a dotted quad. */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The netmask of a prefix as an unsigned number (`/24` → 255.255.255.0). */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The subnet containing `address` with the given prefix. */
export function subnetOf(address: number, prefix: number): Ipv4Subnet {
  return { network: (address & prefixMask(prefix)) >>> 0, prefix };
}

/** Number of addresses in a subnet (including network and broadcast). */
export function subnetSize(subnet: Ipv4Subnet): number {
  return 2 ** (32 - subnet.prefix);
}

/** The broadcast (last) address of a subnet. */
export function broadcastOf(subnet: Ipv4Subnet): number {
  return subnet.network + subnetSize(subnet) - 1;
}

/** True when `address` lies in `subnet` (network and broadcast included). */
export function subnetContains(subnet: Ipv4Subnet, address: number): boolean {
  return address >= subnet.network && address <= broadcastOf(subnet);
}

/** True when the two subnets share at least one address. */
export function subnetsOverlap(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  return a.network <= broadcastOf(b) && b.network <= broadcastOf(a);
}

/** `10.0.3.0/24`. */
export function formatSubnet(subnet: Ipv4Subnet): string {
  return `${formatIpv4(subnet.network)}/${subnet.prefix}`;
}

/** `10.0.3.1/24`. */
export function formatInterface(iface: Ipv4Interface): string {
  return `${formatIpv4(iface.address)}/${iface.subnet.prefix}`;
}

function parsePrefix(text: string): number | null {
  if (!/^\d{1,2}$/.test(text)) return null;
  const p = Number(text);
  return p <= 32 ? p : null;
}

/** Parses `a.b.c.d/p` as a subnet; null when malformed or when host bits are set. */
export function parseSubnet(text: string): Ipv4Subnet | null {
  const [addr, prefixText, ...rest] = text.split('/');
  if (addr === undefined || prefixText === undefined || rest.length > 0) return null;
  const address = parseIpv4(addr);
  const prefix = parsePrefix(prefixText);
  if (address === null || prefix === null) return null;
  const subnet = subnetOf(address, prefix);
  return subnet.network === address ? subnet : null;
}

/** Parses `a.b.c.d/p` as an address inside its subnet (any host bits). Null when malformed. */
export function parseInterface(text: string): Ipv4Interface | null {
  const [addr, prefixText, ...rest] = text.split('/');
  if (addr === undefined || prefixText === undefined || rest.length > 0) return null;
  const address = parseIpv4(addr);
  const prefix = parsePrefix(prefixText);
  if (address === null || prefix === null) return null;
  return { address, subnet: subnetOf(address, prefix) };
}

/**
 * Why a gateway address cannot serve a managed bridge, or null when it can: the prefix must leave
 * room for hosts (/8 to /30, as dnsmasq needs a range) and the address must be neither the network
 * nor the broadcast address.
 */
export function gatewayProblem(iface: Ipv4Interface): string | null {
  if (iface.subnet.prefix < 8 || iface.subnet.prefix > 30) return 'prefix must be between /8 and /30';
  if (iface.address === iface.subnet.network) return 'address is the network address';
  if (iface.address === broadcastOf(iface.subnet)) return 'address is the broadcast address';
  return null;
}

/**
 * LXD's default DHCP range: from the network address + 2 to the broadcast address − 1
 * (lxd/network/driver_bridge.go `dhcpalloc.GetIP(subnet, 2)`..`GetIP(subnet, -2)`). dnsmasq never
 * hands out its own (gateway) address.
 */
export function defaultDhcpRange(subnet: Ipv4Subnet): Ipv4Range {
  return { first: subnet.network + 2, last: broadcastOf(subnet) - 1 };
}

/** Parses `ipv4.dhcp.ranges`: comma-separated `first-last` pairs. Null when malformed. */
export function parseRanges(text: string): Ipv4Range[] | null {
  const out: Ipv4Range[] = [];
  for (const part of text.split(',')) {
    const [a, b, ...rest] = part.trim().split('-');
    if (a === undefined || b === undefined || rest.length > 0) return null;
    const first = parseIpv4(a.trim());
    const last = parseIpv4(b.trim());
    if (first === null || last === null || first > last) return null;
    out.push({ first, last });
  }
  return out;
}

/**
 * Subnets in use on a host, from `ip -j -4 route show table all` and `ip -j -4 addr show` output.
 * Default routes are skipped (they overlap everything by definition); host routes count as /32.
 * Unparseable entries are skipped: this list only steers the choice of a free subnet.
 */
export function subnetsInUse(routes: readonly unknown[], addrs: readonly unknown[]): Ipv4Subnet[] {
  const out: Ipv4Subnet[] = [];
  for (const r of routes) {
    if (typeof r !== 'object' || r === null) continue;
    const dst = (r as { dst?: unknown }).dst;
    if (typeof dst !== 'string' || dst === 'default') continue;
    const iface = parseInterface(dst.includes('/') ? dst : `${dst}/32`);
    if (iface) out.push(iface.subnet);
  }
  for (const link of addrs) {
    if (typeof link !== 'object' || link === null) continue;
    const infos = (link as { addr_info?: unknown }).addr_info;
    if (!Array.isArray(infos)) continue;
    for (const info of infos as unknown[]) {
      if (typeof info !== 'object' || info === null) continue;
      const { family, local, prefixlen } = info as { family?: unknown; local?: unknown; prefixlen?: unknown };
      if (family !== 'inet' || typeof local !== 'string' || typeof prefixlen !== 'number') continue;
      const iface = parseInterface(`${local}/${prefixlen}`);
      if (iface) out.push(iface.subnet);
    }
  }
  return out;
}

/** Result of {@link pickFreeSubnet}. */
export type PickResult = { readonly ok: true; readonly gateway: Ipv4Interface } | { readonly ok: false };

/**
 * Picks a /`prefix` subnet inside `pool` that overlaps nothing in `inUse`, and returns its first host
 * address as the gateway (LXD's `ipv4.address=auto`: a random `10.x.y.1/24`). Tries up to
 * `randomTries` random candidates from `rng`, then scans the pool in order, so a nearly full pool
 * still finds the last free subnet. Deterministic for a given `rng`.
 */
export function pickFreeSubnet(
  pool: Ipv4Subnet,
  inUse: readonly Ipv4Subnet[],
  rng: Rng,
  prefix = 24,
  randomTries = 64,
): PickResult {
  if (prefix < pool.prefix || prefix > 30) return { ok: false };
  const count = 2 ** (prefix - pool.prefix);
  const step = 2 ** (32 - prefix);
  const candidate = (i: number): Ipv4Subnet => ({ network: pool.network + i * step, prefix });
  const free = (s: Ipv4Subnet): boolean => !inUse.some((u) => subnetsOverlap(u, s));
  const gatewayOf = (s: Ipv4Subnet): PickResult => ({ ok: true, gateway: { address: s.network + 1, subnet: s } });
  for (let t = 0; t < randomTries; t++) {
    const s = candidate(Math.floor(rng() * count));
    if (free(s)) return gatewayOf(s);
  }
  for (let i = 0; i < count; i++) {
    const s = candidate(i);
    if (free(s)) return gatewayOf(s);
  }
  return { ok: false };
}
