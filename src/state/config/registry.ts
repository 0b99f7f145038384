/**
 * The one registry of configuration keys, with LXD's names and semantics: for each key its entity
 * (server, member, project, instance, storage pool, network, cluster group), type, default, scope
 * and validation. Scope `cluster` keys have one value for the whole cluster; scope `member` keys
 * have a value per member (LXD's "member-specific" keys: `core.https_address`, a pool's `source`).
 *
 * Only keys Shoal implements or is about to are listed. Families ending in `*` (`user.*`,
 * `volatile.*`, `environment.*`) accept any key under them. Any other key is INVALID_ARGUMENT
 * (`Unknown configuration key "x"`), as in LXD.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import * as v from './validators.js';

export type ConfigEntity = 'server' | 'member' | 'project' | 'instance' | 'storage-pool' | 'network' | 'cluster-group';
export type ConfigType = 'string' | 'bool' | 'integer' | 'float';
export type ConfigScope = 'cluster' | 'member';

/** One key (or a family of keys when `key` ends in `.*`). */
export interface ConfigKeyDef {
  readonly entity: ConfigEntity;
  readonly key: string;
  readonly type: ConfigType;
  /** The default, as LXD spells values (strings); '' = unset. */
  readonly default: string;
  readonly scope: ConfigScope;
  readonly description: string;
  /** Returns the problem with `value`, or undefined. Type checks run first. */
  readonly validate?: (value: string) => string | undefined;
}

const key = (
  entity: ConfigEntity,
  k: string,
  type: ConfigType,
  dflt: string,
  description: string,
  extra: { scope?: ConfigScope; validate?: (value: string) => string | undefined } = {},
): ConfigKeyDef => ({ entity, key: k, type, default: dflt, scope: extra.scope ?? 'cluster', description, ...(extra.validate ? { validate: extra.validate } : {}) });

const family = (entity: ConfigEntity, prefix: string, description: string, scope: ConfigScope = 'cluster'): ConfigKeyDef =>
  key(entity, `${prefix}.*`, 'string', '', description, { scope });

/** Every key, by entity. */
export const CONFIG_KEYS: readonly ConfigKeyDef[] = [
  // Server (`lxc config`): cluster-wide keys and per-member ones.
  key('server', 'cluster.offline_threshold', 'integer', '20', 'Seconds without a heartbeat after which a member is offline', { validate: v.atLeast(10) }),
  key('server', 'cluster.max_voters', 'integer', '3', 'Number of database voters (odd, at least 3)', { validate: v.oddAtLeast(3) }),
  key('server', 'cluster.max_standby', 'integer', '2', 'Number of database stand-by members', { validate: v.between(0, 5) }),
  key('server', 'cluster.images_minimal_replica', 'integer', '3', 'Minimal number of members holding each image (-1 = all)', { validate: v.minusOneOrAtLeast(1) }),
  key('server', 'cluster.join_token_expiry', 'string', '3H', 'Lifetime of join tokens (number + S, M, H, d, w, m or y)', { validate: v.expiry }),
  key('server', 'cluster.healing_threshold', 'integer', '0', 'Seconds offline after which a member is evacuated (0 = never)', { validate: v.atLeast(0) }),
  key('server', 'cluster.https_address', 'string', '', 'Address used for cluster communication (fixed after joining)', { scope: 'member', validate: v.address }),
  key('server', 'core.https_address', 'string', '', 'Address to bind the REST API to', { scope: 'member', validate: v.address }),
  key('server', 'images.auto_update_interval', 'integer', '6', 'Hours between image update checks (0 = never)', { validate: v.atLeast(0) }),
  key('server', 'images.auto_update_cached', 'bool', 'true', 'Whether to update cached images automatically'),
  key('server', 'images.remote_cache_expiry', 'integer', '10', 'Days after which an unused cached image is removed', { validate: v.atLeast(0) }),
  key('server', 'images.compression_algorithm', 'string', 'gzip', 'Compression of newly created images', { validate: v.oneOf('bzip2', 'gzip', 'lzma', 'xz', 'zstd', 'none') }),
  key('server', 'scheduler.policy', 'string', 'spread', 'Placement policy: spread (fewest instances) or binpack (fullest member that fits)', { validate: v.oneOf('spread', 'binpack') }),
  key('server', 'scheduler.cpu_overcommit', 'float', '4.0', 'CPU capacity multiplier used by the scheduler', { validate: v.positive }),
  key('server', 'scheduler.memory_overcommit', 'float', '1.0', 'Memory capacity multiplier used by the scheduler', { validate: v.positive }),
  family('server', 'user', 'Free-form user key'),

  // Cluster member (`lxc cluster set`).
  key('member', 'scheduler.instance', 'string', 'all', 'Automatic placement on this member: all, manual (only with --target) or group', { validate: v.oneOf('all', 'manual', 'group') }),
  family('member', 'user', 'Free-form user key'),

  // Projects.
  key('project', 'features.images', 'bool', 'true', 'Separate set of images for the project'),
  key('project', 'features.profiles', 'bool', 'true', 'Separate set of profiles for the project'),
  key('project', 'features.storage.volumes', 'bool', 'true', 'Separate set of custom storage volumes for the project'),
  key('project', 'features.networks', 'bool', 'false', 'Separate set of networks for the project'),
  key('project', 'limits.instances', 'integer', '', 'Maximum number of instances in the project', { validate: v.atLeast(0) }),
  key('project', 'limits.containers', 'integer', '', 'Maximum number of containers in the project', { validate: v.atLeast(0) }),
  key('project', 'limits.cpu', 'integer', '', 'Maximum sum of limits.cpu over the project', { validate: v.atLeast(0) }),
  key('project', 'limits.memory', 'string', '', 'Maximum sum of limits.memory over the project', { validate: v.size }),
  key('project', 'limits.disk', 'string', '', 'Maximum disk space used by the project', { validate: v.size }),
  key('project', 'restricted', 'bool', 'false', 'Whether the restricted.* keys apply'),
  key('project', 'restricted.cluster.groups', 'string', '', 'Cluster groups instances may be placed on (comma-separated)', { validate: v.nameList }),
  key('project', 'restricted.cluster.target', 'string', 'block', 'Whether --target may pick a member: allow or block', { validate: v.oneOf('allow', 'block') }),
  family('project', 'user', 'Free-form user key'),

  // Instances (and profiles, whose config is merged into instances').
  key('instance', 'limits.cpu', 'string', '', 'CPUs: a count ("2") or a CPU set ("0-3")', { validate: v.cpuLimit }),
  key('instance', 'limits.memory', 'string', '', 'Memory: a size ("512MiB") or a percentage of the member ("25%")', { validate: v.memoryLimit }),
  key('instance', 'limits.processes', 'integer', '', 'Maximum number of processes', { validate: v.atLeast(1) }),
  key('instance', 'boot.autostart', 'bool', '', 'Start the instance when the member starts'),
  key('instance', 'boot.autostart.delay', 'integer', '0', 'Seconds to wait after starting the instance', { validate: v.atLeast(0) }),
  key('instance', 'boot.autostart.priority', 'integer', '0', 'Start order (higher first)'),
  key('instance', 'boot.host_shutdown_timeout', 'integer', '30', 'Seconds to wait for a clean shutdown', { validate: v.atLeast(0) }),
  key('instance', 'security.privileged', 'bool', 'false', 'Run the container privileged'),
  key('instance', 'security.nesting', 'bool', 'false', 'Allow nested containers'),
  key('instance', 'security.protection.delete', 'bool', 'false', 'Refuse to delete the instance'),
  key('instance', 'snapshots.schedule', 'string', '', 'Cron expression or @hourly/@daily/... for automatic snapshots'),
  key('instance', 'snapshots.expiry', 'string', '', 'Lifetime of automatic snapshots (e.g. 1d 2w)', { validate: v.snapshotExpiry }),
  key('instance', 'snapshots.pattern', 'string', 'snap%d', 'Name pattern of automatic snapshots'),
  key('instance', 'cluster.evacuate', 'string', 'auto', 'What evacuation does: auto, migrate, live-migrate or stop', { validate: v.oneOf('auto', 'migrate', 'live-migrate', 'stop') }),
  key('instance', 'placement.group', 'string', '', 'Instances of one placement group are spread across failure domains'),
  key('instance', 'raw.lxc', 'string', '', 'Raw LXC configuration appended to the generated one'),
  family('instance', 'user', 'Free-form user key'),
  family('instance', 'environment', 'Environment variable for the instance'),
  family('instance', 'image', 'Property copied from the source image'),
  family('instance', 'volatile', 'Internal state kept by Shoal'),
  family('instance', 'limits.kernel', 'Kernel resource limit (setrlimit)'),

  // Storage pools (dir, btrfs).
  key('storage-pool', 'source', 'string', '', 'Path or device backing the pool on the member', { scope: 'member' }),
  key('storage-pool', 'size', 'string', '', 'Size of a loop-backed pool on the member', { scope: 'member', validate: v.size }),
  key('storage-pool', 'volume.size', 'string', '', 'Default size of new volumes', { validate: v.size }),
  key('storage-pool', 'btrfs.mount_options', 'string', 'user_subvol_rm_allowed', 'Mount options of a btrfs pool'),
  family('storage-pool', 'user', 'Free-form user key'),

  // Networks (bridge).
  key('network', 'ipv4.address', 'string', '', 'IPv4 address/prefix of the bridge (none, auto or CIDR)', { validate: v.cidrOrKeyword(4) }),
  key('network', 'ipv4.nat', 'bool', 'false', 'NAT outgoing IPv4 traffic'),
  key('network', 'ipv6.address', 'string', '', 'IPv6 address/prefix of the bridge (none, auto or CIDR)', { validate: v.cidrOrKeyword(6) }),
  key('network', 'ipv6.nat', 'bool', 'false', 'NAT outgoing IPv6 traffic'),
  key('network', 'bridge.mtu', 'integer', '1500', 'MTU of the bridge', { validate: v.between(1280, 9216) }),
  key('network', 'bridge.external_interfaces', 'string', '', 'Host interfaces to attach to the bridge on the member', { scope: 'member' }),
  key('network', 'dns.domain', 'string', 'lxd', 'DNS domain of the network'),
  key('network', 'dns.mode', 'string', 'managed', 'DNS registration mode: managed or none', { validate: v.oneOf('managed', 'none') }),
  key('network', 'ipv4.dhcp', 'bool', 'true', 'Whether to hand out IPv4 addresses with DHCP'),
  key('network', 'ipv4.dhcp.ranges', 'string', '', 'Comma-separated IPv4 ranges for DHCP (first-last)'),
  key('network', 'ipv4.dhcp.expiry', 'string', '1h', 'Lifetime of DHCP leases'),
  key('network', 'ipv4.routing', 'bool', 'true', 'Whether to route IPv4 traffic in and out of the bridge'),
  key('network', 'ipv4.firewall', 'bool', 'true', 'Whether to generate filtering firewall rules for the network'),
  key('network', 'ipv6.dhcp', 'bool', 'true', 'Whether to provide additional IPv6 configuration over DHCP'),
  key('network', 'ipv6.dhcp.stateful', 'bool', 'false', 'Whether to hand out IPv6 addresses with DHCP'),
  key('network', 'ipv6.routing', 'bool', 'true', 'Whether to route IPv6 traffic in and out of the bridge'),
  key('network', 'ipv6.firewall', 'bool', 'true', 'Whether to generate filtering firewall rules for IPv6'),
  key('network', 'bridge.hwaddr', 'string', '', 'MAC address of the bridge'),
  key('network', 'bridge.driver', 'string', 'native', 'Bridge driver: native', { validate: v.oneOf('native') }),
  key('network', 'raw.dnsmasq', 'string', '', 'Additional dnsmasq configuration lines'),
  family('network', 'user', 'Free-form user key'),

  // Cluster groups.
  family('cluster-group', 'user', 'Free-form user key'),
];

const EXACT = new Map<string, ConfigKeyDef>(CONFIG_KEYS.filter((d) => !d.key.endsWith('.*')).map((d) => [`${d.entity}\0${d.key}`, d]));
const FAMILIES = CONFIG_KEYS.filter((d) => d.key.endsWith('.*'));

/** The definition of `key` for `entity`, or undefined when it is not a known key. */
export function configKey(entity: ConfigEntity, k: string): ConfigKeyDef | undefined {
  const exact = EXACT.get(`${entity}\0${k}`);
  if (exact) return exact;
  return FAMILIES.find((d) => d.entity === entity && k.startsWith(d.key.slice(0, -1)) && k.length > d.key.length - 1);
}

/** The problem with one key and value, or undefined. */
export function checkConfigValue(entity: ConfigEntity, k: string, value: string, scope?: ConfigScope): string | undefined {
  const def = configKey(entity, k);
  if (!def) return `Unknown configuration key "${k}"`;
  if (scope !== undefined && def.scope !== scope) {
    return scope === 'cluster' ? `Key "${k}" is member-specific (set it per member)` : `Key "${k}" applies to the whole cluster`;
  }
  if (value === '') return undefined; // '' unsets a key
  const typeProblem = v.checkType(def.type, value);
  if (typeProblem) return `Invalid value for "${k}": ${typeProblem}`;
  const problem = def.validate?.(value);
  return problem === undefined ? undefined : `Invalid value for "${k}": ${problem}`;
}

/**
 * Validates a whole config map of `entity`. With `scope`, keys of the other scope are refused too
 * (member-specific keys are set per member). Throws INVALID_ARGUMENT naming the first bad key.
 */
export function validateConfig(entity: ConfigEntity, config: Readonly<Record<string, string>>, scope?: ConfigScope): void {
  for (const [k, value] of Object.entries(config)) {
    const problem = checkConfigValue(entity, k, value, scope);
    if (problem) throw new ShoalError(ErrorCode.InvalidArgument, problem, { details: { key: k } });
  }
}

/** The value of `k` in `config`, or the key's default. Throws INTERNAL for a key not in the registry. */
export function configValue(entity: ConfigEntity, config: Readonly<Record<string, string>>, k: string): string {
  const def = configKey(entity, k);
  if (!def) throw new ShoalError(ErrorCode.Internal, `Configuration key "${k}" is not in the registry`);
  const set = config[k];
  return set === undefined || set === '' ? def.default : set;
}

/** {@link configValue} as a number (integer and float keys). */
export function configNumber(entity: ConfigEntity, config: Readonly<Record<string, string>>, k: string): number {
  return Number(configValue(entity, config, k));
}

/** {@link configValue} as a boolean (bool keys; LXD's spellings). */
export function configBool(entity: ConfigEntity, config: Readonly<Record<string, string>>, k: string): boolean {
  return v.isTrue(configValue(entity, config, k));
}
