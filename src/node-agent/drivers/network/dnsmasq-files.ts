/**
 * The data files dnsmasq shares with the driver: per-interface host entries in `dnsmasq.hosts/`
 * (LXD style `<mac>,<ipv4>,<name>` lines, so instances resolve each other by name whatever DHCP
 * hostname they send) and the `dnsmasq.leases` file dnsmasq keeps. Pure parsing and rendering.
 */
import type { NetworkLease } from '../../types.js';
import { parseIpv4 } from './addresses.js';

/** One DHCP/DNS host entry: the file `dnsmasq.hosts/<file>` holding one dnsmasq `dhcp-host` line. */
export interface HostEntry {
  /** File name inside `dnsmasq.hosts/`: `<instance>.<device>`. */
  readonly file: string;
  readonly hwaddr: string;
  /** Pinned address (nic `ipv4.address`), or null for a dynamic lease with a fixed name. */
  readonly ipv4: string | null;
  /** DNS name of the instance on this network. */
  readonly name: string;
}

/** One IPv4 lease line of `dnsmasq.leases`. */
export interface DnsmasqLease {
  /** Epoch seconds; 0 for an infinite lease. */
  readonly expiresAtSec: number;
  readonly hwaddr: string;
  readonly address: string;
  /** The client's hostname, '' when it sent none (`*`). */
  readonly hostname: string;
  /** The client identifier (DHCP option 61) as colon-separated hex, '' when none (`*`). */
  readonly clientId: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** True when `mac` is a lower-case colon-separated MAC address. */
export function isMac(mac: string): boolean {
  return MAC.test(mac);
}

/**
 * The DNS name an instance gets on a network: its host name lower-cased, with characters outside
 * `[a-z0-9-]` (such as the `_` of `<project>_<name>`) replaced by `-`, at most 63 characters.
 */
export function dnsNameOf(instance: string): string {
  return instance
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63);
}

/**
 * The host entry file name of an instance's interface, `<instance>.<device>`, or null when either
 * part could escape the directory or be skipped by dnsmasq (empty, `/`, a leading `.`, a trailing `~`).
 */
export function hostEntryFile(instance: string, device: string): string | null {
  const ok = (s: string): boolean => s !== '' && !s.includes('/') && !s.startsWith('.') && !s.includes('\0');
  if (!ok(instance) || !ok(device) || instance.includes('.') || device.endsWith('~')) return null;
  return `${instance}.${device}`;
}

/** The line written to a host entry file: `<mac>,<ipv4>,<name>` or `<mac>,<name>`. */
export function renderHostEntry(entry: Omit<HostEntry, 'file'>): string {
  return entry.ipv4 === null ? `${entry.hwaddr},${entry.name}\n` : `${entry.hwaddr},${entry.ipv4},${entry.name}\n`;
}

/** Parses a host entry file written by {@link renderHostEntry}; null when it is not one. */
export function parseHostEntry(file: string, text: string): HostEntry | null {
  const parts = text.trim().split(',');
  const hwaddr = parts[0]?.toLowerCase() ?? '';
  if (!isMac(hwaddr)) return null;
  if (parts.length === 2 && parts[1]) return { file, hwaddr, ipv4: null, name: parts[1] };
  if (parts.length === 3 && parts[1] && parts[2] && parseIpv4(parts[1]) !== null) {
    return { file, hwaddr, ipv4: parts[1], name: parts[2] };
  }
  return null;
}

/**
 * Parses dnsmasq's lease file: `<expiry> <mac> <ip> <hostname|*> <client-id|*>` per IPv4 lease.
 * DHCPv6 lines (`duid …`, and leases whose address is not IPv4) and malformed lines are skipped.
 */
export function parseLeases(text: string): DnsmasqLease[] {
  const out: DnsmasqLease[] = [];
  for (const line of text.split('\n')) {
    const [expiry, mac, address, hostname, clientId] = line.trim().split(/\s+/);
    if (expiry === undefined || mac === undefined || address === undefined || !/^\d+$/.test(expiry)) continue;
    if (!isMac(mac.toLowerCase()) || parseIpv4(address) === null) continue;
    out.push({
      expiresAtSec: Number(expiry),
      hwaddr: mac.toLowerCase(),
      address,
      hostname: hostname === undefined || hostname === '*' ? '' : hostname,
      clientId:
        clientId === undefined || clientId === '*' || !/^[0-9a-f]{2}(:[0-9a-f]{2})*$/i.test(clientId)
          ? ''
          : clientId.toLowerCase(),
    });
  }
  return out;
}

/**
 * The network's leases as LXD lists them: every host entry with a pinned address is a `static`
 * lease (expiresAt 0) whether or not the instance is up; every dnsmasq lease that is not that same
 * static assignment is `dynamic`, named after the host entry of its MAC when there is one (the
 * instance name), else after the hostname the client sent. Sorted by address.
 */
export function mergeLeases(entries: readonly HostEntry[], leases: readonly DnsmasqLease[]): NetworkLease[] {
  const out: NetworkLease[] = [];
  const byMac = new Map(entries.map((e) => [e.hwaddr, e]));
  for (const e of entries) {
    if (e.ipv4 !== null)
      out.push({ hostname: e.name, hwaddr: e.hwaddr, address: e.ipv4, type: 'static', expiresAt: 0 });
  }
  for (const l of leases) {
    const entry = byMac.get(l.hwaddr);
    if (entry?.ipv4 === l.address) continue;
    out.push({
      hostname: entry?.name ?? l.hostname,
      hwaddr: l.hwaddr,
      address: l.address,
      type: 'dynamic',
      expiresAt: l.expiresAtSec * 1000,
    });
  }
  return out.sort((a, b) => (parseIpv4(a.address) ?? 0) - (parseIpv4(b.address) ?? 0) || a.type.localeCompare(b.type));
}
