/**
 * Host entries of a bridge network: one `dnsmasq.hosts/<instance>.<device>` file per instance nic,
 * LXD style `<mac>,<ipv4>,<name>` (or `<mac>,<name>`), so dnsmasq names the instance and pins its
 * static address whatever the DHCP client sends. dnsmasq reads new files through inotify
 * (`dhcp-hostsdir`); a replaced or removed entry needs a SIGHUP, which the driver sends.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { errors } from '../../../shared/index.js';
import type { NetworkHost } from '../network-driver.js';
import { broadcastOf, formatIpv4, parseIpv4, subnetContains, type Ipv4Interface } from './addresses.js';
import { dnsNameOf, hostEntryFile, isMac, renderHostEntry } from './dnsmasq-files.js';
import { readHostEntries, readLeases, readNetworkFile, writeAtomic, type NetworkFiles } from './network-dir.js';

/**
 * Why `address` cannot be a static lease on the gateway's subnet, or null when it can: it must be
 * a dotted quad inside the subnet and be neither the network, broadcast nor gateway address.
 */
export function pinProblem(gateway: Ipv4Interface, address: string): string | null {
  const a = parseIpv4(address);
  if (a === null) return 'is not an IPv4 address';
  const s = gateway.subnet;
  if (!subnetContains(s, a)) return `is outside the subnet ${formatIpv4(s.network)}/${s.prefix}`;
  if (a === s.network || a === broadcastOf(s)) return 'is the network or broadcast address';
  if (a === gateway.address) return 'is the gateway address';
  return null;
}

/**
 * Writes the host entry of `host` on `network`. Returns `added` (dnsmasq picks it up by itself),
 * `replaced` (an earlier, different entry: dnsmasq must be sent SIGHUP) or `unchanged`.
 * Throws INVALID_ARGUMENT for a bad MAC, name or address, ALREADY_EXISTS when another interface
 * holds the MAC or the address (as a static entry or an unexpired dynamic lease).
 */
export async function addHostEntry(
  network: string,
  files: NetworkFiles,
  gateway: Ipv4Interface | null,
  host: NetworkHost,
  nowMs: number,
): Promise<'added' | 'replaced' | 'unchanged'> {
  const hwaddr = host.hwaddr.toLowerCase();
  if (!isMac(hwaddr)) throw errors.invalid(`Invalid MAC address "${host.hwaddr}" for "${host.instance}"`);
  const file = hostEntryFile(host.instance, host.device);
  if (file === null) throw errors.invalid(`Invalid instance or device name "${host.instance}"/"${host.device}"`);
  const name = dnsNameOf(host.instance);
  const ipv4 = host.ipv4 ?? null;
  if (ipv4 !== null) {
    if (!gateway) throw errors.invalid(`Network "${network}" has no IPv4 subnet for static address "${ipv4}"`);
    const problem = pinProblem(gateway, ipv4);
    if (problem) throw errors.invalid(`IPv4 address "${ipv4}" for "${host.instance}" ${problem}`);
  }
  const path = join(files.hostsDir, file);
  // Independent reads, side by side: the other entries, the current one, the leases.
  const [entries, before, leases] = await Promise.all([
    readHostEntries(files),
    readNetworkFile(path),
    ipv4 === null ? Promise.resolve([]) : readLeases(files),
  ]);
  const others = entries.filter((e) => e.file !== file);
  const macOwner = others.find((e) => e.hwaddr === hwaddr);
  if (macOwner)
    throw errors.exists(`MAC address "${hwaddr}" is already used on network "${network}" by "${macOwner.name}"`);
  if (ipv4 !== null) {
    const owner = others.find((e) => e.ipv4 === ipv4);
    if (owner) throw errors.exists(`IPv4 address "${ipv4}" is already used on network "${network}" by "${owner.name}"`);
    const leased = leases.find(
      (l) => l.address === ipv4 && l.hwaddr !== hwaddr && (l.expiresAtSec === 0 || l.expiresAtSec * 1000 > nowMs),
    );
    if (leased) {
      throw errors.exists(`IPv4 address "${ipv4}" is leased on network "${network}" to ${leased.hwaddr}`);
    }
  }
  const text = renderHostEntry({ hwaddr, ipv4, name });
  if (before === text) return 'unchanged';
  // The temp file lives outside dnsmasq.hosts/ so inotify only ever sees the complete entry.
  await writeAtomic(path, text, files.dir);
  return before === null ? 'added' : 'replaced';
}

/** Removes every host entry of `instance` (`<instance>.*`); returns the MACs they named. */
export async function removeHostEntries(files: NetworkFiles, instance: string): Promise<string[]> {
  const macs: string[] = [];
  for (const e of await readHostEntries(files)) {
    if (!e.file.startsWith(`${instance}.`)) continue;
    await rm(join(files.hostsDir, e.file), { force: true });
    macs.push(e.hwaddr);
  }
  return macs;
}
