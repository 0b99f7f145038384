/**
 * Renders the dnsmasq configuration of one bridge network. Pure; golden-tested in
 * test/testdata/node-agent/dnsmasq-*.conf.
 *
 * The options mirror the command line LXD builds in lxd/network/driver_bridge.go (`--strict-order
 * --bind-interfaces --except-interface=lo --no-ping --interface=<br> --dhcp-rapid-commit
 * --quiet-dhcp --listen-address=<gw> --dhcp-no-override --dhcp-authoritative --dhcp-leasefile
 * --dhcp-hostsfile --dhcp-range … -s <domain> --interface-name _gateway.<domain>,<br> -S /<domain>/
 * --conf-file=<raw>`), written to a file so that the command line stays short and a restart after
 * an agent upgrade sees exactly what ran. Differences: `dhcp-hostsdir` instead of a hosts file (new
 * entries are picked up through inotify, no signal needed), and `no-resolv` when the driver is told
 * to keep DNS queries on the host.
 */
import { defaultDhcpRange, formatIpv4, type Ipv4Interface } from './addresses.js';
import type { BridgeSettings } from './bridge-config.js';

/** The files of one network that dnsmasq reads or writes. */
export interface DnsmasqFiles {
  readonly leases: string;
  readonly hostsDir: string;
  readonly pid: string;
  /** The file holding `raw.dnsmasq` (only referenced when that key is set). */
  readonly raw: string;
}

/** Where dnsmasq sends queries it cannot answer itself. */
export type UpstreamDns = 'host' | 'none';

/** Everything {@link renderDnsmasqConfig} needs. */
export interface DnsmasqParams {
  readonly network: string;
  readonly gateway: Ipv4Interface;
  readonly settings: BridgeSettings;
  readonly files: DnsmasqFiles;
  /**
   * `host`: dnsmasq forwards other names to the host's /etc/resolv.conf servers (what LXD does).
   * `none`: `no-resolv`, nothing leaves the host (tests, isolated members).
   */
  readonly upstream: UpstreamDns;
}

/**
 * The dnsmasq.conf text for a network (newline-terminated lines, stable order). Run as
 * `dnsmasq --keep-in-foreground --conf-file=<this file>`.
 */
export function renderDnsmasqConfig(p: DnsmasqParams): string {
  const { settings: s, files: f } = p;
  const gw = formatIpv4(p.gateway.address);
  const lines: string[] = [
    `# dnsmasq configuration of Shoal network "${p.network}". Generated; rewritten on every start.`,
    'strict-order',
    'bind-interfaces',
    'except-interface=lo',
    `interface=${p.network}`,
    `listen-address=${gw}`,
    'no-ping',
    `pid-file=${f.pid}`,
    // With --keep-in-foreground, "-" logs to stderr, which the supervisor sends to dnsmasq.log.
    'log-facility=-',
  ];
  if (p.upstream === 'none') lines.push('no-resolv');
  if (s.dhcp) {
    lines.push(
      'dhcp-rapid-commit',
      'quiet-dhcp',
      'dhcp-no-override',
      'dhcp-authoritative',
      `dhcp-leasefile=${f.leases}`,
      `dhcp-hostsdir=${f.hostsDir}`,
    );
    const ranges = s.dhcpRanges ?? [defaultDhcpRange(p.gateway.subnet)];
    for (const r of ranges) lines.push(`dhcp-range=${formatIpv4(r.first)},${formatIpv4(r.last)},${s.dhcpExpiry}`);
    if (s.mtu !== null) lines.push(`dhcp-option-force=26,${s.mtu}`);
  }
  if (s.dnsMode === 'managed') {
    lines.push(
      `domain=${s.dnsDomain}`,
      `local=/${s.dnsDomain}/`,
      `interface-name=_gateway.${s.dnsDomain},${p.network}`,
    );
  } else {
    // dns.mode=none: no DNS service at all; DHCP then advertises no DNS server.
    lines.push('port=0');
  }
  if (s.rawDnsmasq.trim() !== '') lines.push(`conf-file=${f.raw}`);
  return lines.join('\n') + '\n';
}
