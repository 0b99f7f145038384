/**
 * Releasing a DHCP lease on behalf of a client that is gone, the way LXD does it
 * (lxd/network/network_utils.go `networkDHCPv4Release`): a DHCPRELEASE datagram sent from the
 * host to the network's dnsmasq at `<gateway>:67`, carrying the client's MAC, address and
 * client identifier. dnsmasq drops the lease at once, so the address and the DNS name are free
 * without a restart. The packet never leaves the host (its destination is a local address).
 */
import { createSocket } from 'node:dgram';
import { parseIpv4 } from './addresses.js';
import type { DnsmasqLease } from './dnsmasq-files.js';

const DHCP_MAGIC = 0x63825363;

/** The DHCPRELEASE packet (RFC 2131 §4.4.6) for `lease`, addressed to `server`. Pure. */
export function dhcpReleasePacket(lease: DnsmasqLease, server: string, xid: number): Buffer {
  const clientId = lease.clientId === '' ? [] : lease.clientId.split(':').map((h) => parseInt(h, 16));
  const options = [53, 1, 7, 54, 4, ...ipv4Bytes(server)];
  if (clientId.length > 0) options.push(61, clientId.length, ...clientId);
  options.push(255);
  const pkt = Buffer.alloc(240 + options.length);
  pkt[0] = 1; // BOOTREQUEST
  pkt[1] = 1; // Ethernet
  pkt[2] = 6; // hardware address length
  pkt.writeUInt32BE(xid >>> 0, 4);
  Buffer.from(ipv4Bytes(lease.address)).copy(pkt, 12); // ciaddr
  Buffer.from(lease.hwaddr.split(':').map((h) => parseInt(h, 16))).copy(pkt, 28); // chaddr
  pkt.writeUInt32BE(DHCP_MAGIC, 236);
  Buffer.from(options).copy(pkt, 240);
  return pkt;
}

function ipv4Bytes(address: string): number[] {
  const n = parseIpv4(address) ?? 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** Sends a DHCPRELEASE for each lease to `server:67`. Resolves once the datagrams are sent. */
export async function sendDhcpReleases(
  server: string,
  leases: readonly DnsmasqLease[],
  xid: () => number,
): Promise<void> {
  const sock = createSocket('udp4');
  try {
    for (const lease of leases) {
      const pkt = dhcpReleasePacket(lease, server, xid());
      await new Promise<void>((resolve, reject) =>
        sock.send(pkt, 67, server, (err) => (err ? reject(err) : resolve())),
      );
    }
  } finally {
    sock.close();
  }
}
