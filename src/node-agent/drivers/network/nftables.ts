/**
 * nftables rules of one bridge network: a table of its own, `inet <network>-shoal`, holding NAT
 * (masquerade of the subnet leaving through any other interface) and accept rules for DHCP, DNS
 * and forwarded traffic. The chains follow LXD's nftables templates
 * (lxd/firewall/drivers/drivers_nftables_templates.go: `pstrt.<net>`, `fwd.<net>`, `in.<net>`,
 * `out.<net>`). Only our own table is ever touched: the host ruleset is never flushed.
 *
 * {@link renderRuleset} is pure (golden-tested); {@link applyRuleset} and {@link deleteTable} run
 * `nft` through exec.ts.
 */
import { run } from '../../exec.js';
import { formatSubnet, type Ipv4Subnet } from './addresses.js';

/** The nftables table of a network (`inet` family). Starts with the network name. */
export function nftTableName(network: string): string {
  return `${network}-shoal`;
}

/** What the ruleset depends on. */
export interface RulesetParams {
  readonly network: string;
  /** The bridge's IPv4 subnet; null when the network has no IPv4 (then only nothing is rendered). */
  readonly subnet: Ipv4Subnet | null;
  /** `ipv4.nat`. */
  readonly nat: boolean;
  /** `ipv4.firewall`: accept DHCP/DNS to the host and traffic forwarded to and from the bridge. */
  readonly firewall: boolean;
}

/**
 * The nft script that replaces the network's table atomically (`nft -f` runs it as one
 * transaction: declare, delete, redefine), or null when the network needs no rules (then the table
 * must be deleted instead).
 */
export function renderRuleset(p: RulesetParams): string | null {
  if (p.subnet === null || (!p.nat && !p.firewall)) return null;
  const table = nftTableName(p.network);
  const br = JSON.stringify(p.network);
  const subnet = formatSubnet(p.subnet);
  const lines = [`table inet ${table}`, `delete table inet ${table}`, `table inet ${table} {`];
  if (p.nat) {
    lines.push(
      `\tchain pstrt.${p.network} {`,
      '\t\ttype nat hook postrouting priority srcnat; policy accept;',
      `\t\tip saddr ${subnet} ip daddr != ${subnet} oifname != ${br} masquerade`,
      '\t}',
    );
  }
  if (p.firewall) {
    lines.push(
      `\tchain fwd.${p.network} {`,
      '\t\ttype filter hook forward priority filter; policy accept;',
      `\t\tip version 4 oifname ${br} accept`,
      `\t\tip version 4 iifname ${br} accept`,
      '\t}',
      `\tchain in.${p.network} {`,
      '\t\ttype filter hook input priority filter; policy accept;',
      `\t\tiifname ${br} tcp dport 53 accept`,
      `\t\tiifname ${br} udp dport { 53, 67 } accept`,
      `\t\tiifname ${br} icmp type { destination-unreachable, time-exceeded, parameter-problem } accept`,
      '\t}',
      `\tchain out.${p.network} {`,
      '\t\ttype filter hook output priority filter; policy accept;',
      `\t\toifname ${br} tcp sport 53 accept`,
      `\t\toifname ${br} udp sport { 53, 67 } accept`,
      `\t\toifname ${br} icmp type { destination-unreachable, time-exceeded, parameter-problem } accept`,
      '\t}',
    );
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** Replaces (or creates) the network's table with `ruleset` in one nft transaction. */
export async function applyRuleset(ruleset: string, signal: AbortSignal): Promise<void> {
  await run('nft', ['-f', '-'], { input: ruleset, signal, timeoutMs: 30_000 });
}

/** Deletes the network's table; a missing table is not an error (one transaction: declare, delete). */
export async function deleteTable(network: string, signal: AbortSignal): Promise<void> {
  const table = nftTableName(network);
  await run('nft', ['-f', '-'], {
    input: `table inet ${table}\ndelete table inet ${table}\n`,
    signal,
    timeoutMs: 30_000,
  });
}

/** True when the network's table exists. */
export async function tableExists(network: string, signal: AbortSignal): Promise<boolean> {
  const r = await run('nft', ['list', 'tables', 'inet'], { signal, timeoutMs: 30_000 });
  return r.stdout.split('\n').some((l) => l.trim() === `table inet ${nftTableName(network)}`);
}
