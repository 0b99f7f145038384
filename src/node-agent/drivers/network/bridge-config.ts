/**
 * Validation of a bridge network's name and config keys, and the typed settings the driver works
 * from. Pure. Keys follow LXD's bridge network (doc/reference/network_bridge.md); unknown keys are
 * refused by name. IPv6 is not implemented yet: `ipv6.address` must be `none` (and is filled in as
 * `none`), other `ipv6.*` keys LXD knows are syntax-checked and ignored.
 */
import type { ConfigMap } from '../../types.js';
import {
  formatInterface,
  gatewayProblem,
  parseInterface,
  parseRanges,
  subnetContains,
  type Ipv4Interface,
  type Ipv4Range,
} from './addresses.js';

/** How the bridge gets its IPv4 gateway address. */
export type Ipv4Mode =
  { readonly kind: 'auto' } | { readonly kind: 'none' } | { readonly kind: 'static'; readonly gateway: Ipv4Interface };

/** The settings of one bridge network, parsed from its config with defaults applied. */
export interface BridgeSettings {
  readonly ipv4: Ipv4Mode;
  /** `ipv4.nat` (default false; filled in as true when the address is `auto`, as LXD does). */
  readonly nat: boolean;
  /** `ipv4.dhcp` (default true). */
  readonly dhcp: boolean;
  /** `ipv4.dhcp.ranges`; null means the whole subnet (LXD's default range). */
  readonly dhcpRanges: readonly Ipv4Range[] | null;
  /** `ipv4.dhcp.expiry` in dnsmasq syntax (default `1h`). */
  readonly dhcpExpiry: string;
  /** `ipv4.routing` (default true): turn on the host's IPv4 forwarding. */
  readonly routing: boolean;
  /** `ipv4.firewall` (default true): accept DHCP/DNS and forwarded traffic for the bridge in nftables. */
  readonly firewall: boolean;
  /** `dns.domain` (default `shoal`). */
  readonly dnsDomain: string;
  /** `dns.mode`: `managed` (instance names in DNS) or `none` (dnsmasq serves no DNS at all). */
  readonly dnsMode: 'managed' | 'none';
  /** `bridge.mtu`; null keeps the kernel default (1500). */
  readonly mtu: number | null;
  /** `bridge.hwaddr`, lower-case; null lets the driver derive a stable one. */
  readonly hwaddr: string | null;
  /** `raw.dnsmasq`: extra dnsmasq config lines, included verbatim. */
  readonly rawDnsmasq: string;
}

/** Outcome of {@link parseBridgeConfig}: settings, or the first offending key and why. */
export type ParseBridgeResult =
  | { readonly ok: true; readonly settings: BridgeSettings }
  | { readonly ok: false; readonly key: string; readonly reason: string };

/** The default DNS domain of Shoal's managed networks (LXD: `lxd`, Incus: `incus`). */
export const DEFAULT_DNS_DOMAIN = 'shoal';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const EXPIRY = /^(\d+[mhdw]?|infinite)$/;

type Check = (value: string) => string | null;

const isBool: Check = (v) =>
  TRUE_WORDS.has(v.toLowerCase()) || FALSE_WORDS.has(v.toLowerCase()) ? null : 'must be a boolean';

/** Every key the bridge driver accepts, with its syntax check (cross-key checks come later). */
const KEY_CHECKS: Readonly<Record<string, Check>> = {
  'ipv4.address': (v) => {
    if (v === 'auto' || v === 'none') return null;
    const iface = parseInterface(v);
    if (!iface) return 'must be "auto", "none" or an address in CIDR form (e.g. 10.0.3.1/24)';
    return gatewayProblem(iface);
  },
  'ipv4.nat': isBool,
  'ipv4.dhcp': isBool,
  'ipv4.dhcp.ranges': (v) => (parseRanges(v) ? null : 'must be comma-separated ranges like 10.0.3.10-10.0.3.50'),
  'ipv4.dhcp.expiry': (v) => (EXPIRY.test(v) ? null : 'must be a duration like 1h, 45m, 3600 or "infinite"'),
  'ipv4.routing': isBool,
  'ipv4.firewall': isBool,
  'ipv6.address': (v) => (v === 'none' ? null : 'IPv6 is not implemented yet (only "none" is supported)'),
  'ipv6.nat': isBool,
  'ipv6.dhcp': isBool,
  'ipv6.dhcp.stateful': isBool,
  'ipv6.routing': isBool,
  'ipv6.firewall': isBool,
  'dns.domain': (v) =>
    v.length <= 253 && v.split('.').every((l) => DNS_LABEL.test(l)) ? null : 'must be a valid DNS domain',
  'dns.mode': (v) => (v === 'managed' || v === 'none' ? null : 'must be "managed" or "none"'),
  'bridge.mtu': (v) => (/^\d{2,5}$/.test(v) && Number(v) >= 68 && Number(v) <= 65535 ? null : 'must be 68 to 65535'),
  'bridge.hwaddr': (v) => {
    const mac = v.toLowerCase();
    if (!MAC.test(mac)) return 'must be a MAC address like 00:16:3e:01:02:03';
    return (parseInt(mac.slice(0, 2), 16) & 1) === 1 ? 'must be a unicast MAC address' : null;
  },
  'bridge.driver': (v) => (v === 'native' ? null : 'only "native" is supported'),
  'raw.dnsmasq': () => null,
};

/**
 * LXD's network name rules (shared/validate `IsInterfaceName`/`ValidNetworkName`), stricter on the
 * first character: 2–15 characters of letters, digits, `-`, `_`, `.`, starting with a letter, and
 * not `none`. The name is the bridge's interface name and prefixes its nftables table.
 * Returns why the name is invalid, or null.
 */
export function networkNameProblem(name: string): string | null {
  if (name.length < 2 || name.length > 15) return 'must be 2 to 15 characters long';
  if (!/^[a-zA-Z][a-zA-Z0-9_.-]*$/.test(name)) {
    return 'must start with a letter and contain only letters, digits, "-", "_" and "."';
  }
  if (name === 'none') return 'is reserved';
  return null;
}

/** LXD boolean: true for true/1/yes/on (any case). */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE_WORDS.has(value.toLowerCase());
}

function boolOr(value: string | undefined, fallback: boolean): boolean {
  return value === undefined ? fallback : isTrue(value);
}

/**
 * Checks every key and value of a bridge network's config and returns its settings. `user.*` keys
 * are accepted as they are; any other unknown key is refused by name. Cross-key rules: DHCP ranges
 * must lie inside the subnet.
 */
export function parseBridgeConfig(config: ConfigMap): ParseBridgeResult {
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith('user.')) continue;
    const check = KEY_CHECKS[key];
    if (!check) return { ok: false, key, reason: 'unknown configuration key' };
    const problem = check(value);
    if (problem) return { ok: false, key, reason: problem };
  }
  const address = config['ipv4.address'] ?? 'auto';
  let ipv4: Ipv4Mode;
  if (address === 'auto') ipv4 = { kind: 'auto' };
  else if (address === 'none') ipv4 = { kind: 'none' };
  else ipv4 = { kind: 'static', gateway: parseInterface(address) as Ipv4Interface };

  const rangesText = config['ipv4.dhcp.ranges'];
  const dhcpRanges = rangesText === undefined ? null : (parseRanges(rangesText) as Ipv4Range[]);
  if (dhcpRanges && ipv4.kind === 'static') {
    const subnet = ipv4.gateway.subnet;
    if (!dhcpRanges.every((r) => subnetContains(subnet, r.first) && subnetContains(subnet, r.last))) {
      return { ok: false, key: 'ipv4.dhcp.ranges', reason: `ranges must lie inside ${formatInterface(ipv4.gateway)}` };
    }
  }
  const mtu = config['bridge.mtu'];
  return {
    ok: true,
    settings: {
      ipv4,
      nat: boolOr(config['ipv4.nat'], false),
      dhcp: boolOr(config['ipv4.dhcp'], true),
      dhcpRanges,
      dhcpExpiry: config['ipv4.dhcp.expiry'] ?? '1h',
      routing: boolOr(config['ipv4.routing'], true),
      firewall: boolOr(config['ipv4.firewall'], true),
      dnsDomain: config['dns.domain'] ?? DEFAULT_DNS_DOMAIN,
      dnsMode: config['dns.mode'] === 'none' ? 'none' : 'managed',
      mtu: mtu === undefined ? null : Number(mtu),
      hwaddr: config['bridge.hwaddr']?.toLowerCase() ?? null,
      rawDnsmasq: config['raw.dnsmasq'] ?? '',
    },
  };
}

/**
 * The effective config LXD would store after creation: `ipv4.address=auto` (explicit or by
 * default) replaced by the picked gateway, `ipv4.nat=true` filled in when the address was auto and
 * nat was unset, and `ipv6.address=none` filled in (IPv6 is not implemented yet).
 */
export function effectiveConfig(requested: ConfigMap, gateway: Ipv4Interface | null): ConfigMap {
  const out: Record<string, string> = { ...requested };
  const address = requested['ipv4.address'] ?? 'auto';
  if (address === 'auto') {
    out['ipv4.address'] = gateway ? formatInterface(gateway) : 'none';
    if (requested['ipv4.nat'] === undefined) out['ipv4.nat'] = 'true';
  }
  if (requested['ipv6.address'] === undefined) out['ipv6.address'] = 'none';
  return out;
}
