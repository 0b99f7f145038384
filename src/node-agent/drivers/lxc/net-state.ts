/**
 * Network state inside a running instance: one `nsenter --net` into its init's network namespace
 * running the host's iproute2 (`ip -j -s addr show`), so it costs ~5 ms, needs nothing inside the
 * instance and no lxc-attach. Host-side veth names come from the runtime's resolved nics.
 */
import { run } from '../../exec.js';
import type { InterfaceState, NetworkAddress, ResolvedNic } from '../../types.js';

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
}
interface IpLink {
  ifname?: string;
  flags?: string[];
  operstate?: string;
  mtu?: number;
  address?: string;
  addr_info?: IpAddrInfo[];
  stats64?: { rx?: { bytes?: number; packets?: number }; tx?: { bytes?: number; packets?: number } };
}

/** Converts `ip -j -s addr show` output into LXD-shaped interface states. Pure. */
export function parseIpAddr(json: string, nics: readonly ResolvedNic[]): Record<string, InterfaceState> {
  const links = JSON.parse(json) as IpLink[];
  const out: Record<string, InterfaceState> = {};
  for (const l of links) {
    if (!l.ifname) continue;
    const addresses: NetworkAddress[] = [];
    for (const a of l.addr_info ?? []) {
      if ((a.family !== 'inet' && a.family !== 'inet6') || a.local === undefined) continue;
      const scope = a.scope === 'global' ? 'global' : a.scope === 'link' ? 'link' : 'local';
      addresses.push({ family: a.family, address: a.local, netmask: String(a.prefixlen ?? ''), scope });
    }
    const up = (l.flags ?? []).includes('UP');
    out[l.ifname] = {
      addresses,
      hwaddr: l.address ?? '',
      mtu: l.mtu ?? 0,
      state: up ? 'up' : 'down',
      hostName: nics.find((n) => n.ifname === l.ifname)?.hostName ?? '',
      counters: {
        bytesReceived: l.stats64?.rx?.bytes ?? 0,
        bytesSent: l.stats64?.tx?.bytes ?? 0,
        packetsReceived: l.stats64?.rx?.packets ?? 0,
        packetsSent: l.stats64?.tx?.packets ?? 0,
      },
    };
  }
  return out;
}

/** Reads the interfaces of the network namespace of `pid`. */
export async function readNetworkState(pid: number, nics: readonly ResolvedNic[], signal?: AbortSignal): Promise<Record<string, InterfaceState>> {
  const r = await run('nsenter', ['--target', String(pid), '--net', 'ip', '-j', '-s', 'addr', 'show'], signal ? { signal } : {});
  return parseIpAddr(r.stdout, nics);
}
