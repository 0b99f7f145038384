/**
 * Instances, their snapshots and profiles (LXD Instance, InstanceSnapshot, Profile). The expanded
 * config and devices are computed (profiles in order, then the instance's own), never stored.
 */
import { checkConfig, checkDevices, defineTable, inProject } from './define.js';
import { arr, bool, devices, MEMBER_NAME, name, nullable, obj, oneOf, str, strMap, time } from './fields.js';

type StrMap = Readonly<Record<string, string>>;
type Devices = Readonly<Record<string, StrMap>>;

/** LXD instance status strings (observed), plus Creating while the placement is being carried out. */
export const INSTANCE_STATUSES = ['Creating', 'Stopped', 'Running', 'Frozen', 'Error'] as const;

export interface InstanceRecord {
  readonly name: string;
  readonly project: string;
  readonly type: 'container' | 'virtual-machine';
  readonly architecture: string;
  readonly description: string;
  readonly config: StrMap;
  readonly devices: Devices;
  readonly profiles: readonly string[];
  readonly ephemeral: boolean;
  readonly stateful: boolean;
  /** The member the instance lives on (LXD `location`). */
  readonly location: string;
  readonly status: (typeof INSTANCE_STATUSES)[number];
  readonly created_at: string;
  readonly last_used_at: string | null;
}

export const instances = defineTable<InstanceRecord, [string, string]>({
  name: 'instances',
  noun: 'Instance',
  arity: 2,
  keyOf: (r) => [r.project, r.name],
  describe: ([p, n]) => inProject('Instance', n, p),
  check: obj<InstanceRecord>({
    name,
    project: name,
    type: oneOf('container', 'virtual-machine'),
    architecture: str({ nonEmpty: true }),
    description: str(),
    config: strMap,
    devices,
    profiles: arr(name, { unique: true }),
    ephemeral: bool,
    stateful: bool,
    location: str({ pattern: MEMBER_NAME, what: 'a member name' }),
    status: oneOf(...INSTANCE_STATUSES),
    created_at: time,
    last_used_at: nullable(time),
  }),
  validate: (r) => {
    checkConfig(`instance "${r.name}"`, 'instance', r.config);
    checkDevices(`instance "${r.name}"`, r.devices);
  },
});

export interface InstanceSnapshotRecord {
  readonly name: string;
  readonly instance: string;
  readonly project: string;
  readonly description: string;
  readonly config: StrMap;
  readonly devices: Devices;
  readonly profiles: readonly string[];
  readonly ephemeral: boolean;
  readonly stateful: boolean;
  readonly created_at: string;
  readonly expires_at: string | null;
}

export const instanceSnapshots = defineTable<InstanceSnapshotRecord, [string, string, string]>({
  name: 'instance-snapshots',
  noun: 'Snapshot',
  arity: 3,
  keyOf: (r) => [r.project, r.instance, r.name],
  describe: ([p, i, n]) => `Snapshot "${n}" of instance "${i}" in project "${p}"`,
  check: obj<InstanceSnapshotRecord>({
    name,
    instance: name,
    project: name,
    description: str(),
    config: strMap,
    devices,
    profiles: arr(name, { unique: true }),
    ephemeral: bool,
    stateful: bool,
    created_at: time,
    expires_at: nullable(time),
  }),
  validate: (r) => {
    checkConfig(`snapshot "${r.instance}/${r.name}"`, 'instance', r.config);
    checkDevices(`snapshot "${r.instance}/${r.name}"`, r.devices);
  },
});

export interface ProfileRecord {
  readonly name: string;
  readonly project: string;
  readonly description: string;
  readonly config: StrMap;
  readonly devices: Devices;
}

export const profiles = defineTable<ProfileRecord, [string, string]>({
  name: 'profiles',
  noun: 'Profile',
  arity: 2,
  keyOf: (r) => [r.project, r.name],
  describe: ([p, n]) => inProject('Profile', n, p),
  check: obj<ProfileRecord>({ name, project: name, description: str(), config: strMap, devices }),
  validate: (r) => {
    checkConfig(`profile "${r.name}"`, 'instance', r.config);
    checkDevices(`profile "${r.name}"`, r.devices);
  },
});

/**
 * An instance's expanded config and devices (LXD expandConfig/expandDevices): the profiles'
 * values in the instance's profile order, then the instance's own, later ones winning.
 * `profileRecords` must be the instance's profiles in its order (missing ones are skipped).
 */
export function expandInstance(
  instance: Pick<InstanceRecord, 'config' | 'devices'>,
  profileRecords: readonly Pick<ProfileRecord, 'config' | 'devices'>[],
): { config: Record<string, string>; devices: Record<string, Record<string, string>> } {
  const config: Record<string, string> = {};
  const devs: Record<string, Record<string, string>> = {};
  for (const p of [...profileRecords, instance]) {
    Object.assign(config, p.config);
    for (const [n, d] of Object.entries(p.devices)) devs[n] = { ...d };
  }
  return { config, devices: devs };
}

/** The root disk device (`type: disk`, `path: /`) of expanded devices, or null. */
export function rootDisk(expandedDevices: Readonly<Record<string, StrMap>>): StrMap | null {
  for (const d of Object.values(expandedDevices)) if (d['type'] === 'disk' && d['path'] === '/') return d;
  return null;
}
