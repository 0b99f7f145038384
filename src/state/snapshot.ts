/**
 * toClusterSnapshot: the scheduler's input (src/scheduler/types.ts ClusterSnapshot) built from one
 * consistent StateView. The state module may not import the scheduler (module boundaries), so the
 * shapes below mirror the scheduler's types structurally; test/unit/state/snapshot.test.ts assigns
 * the result to the scheduler's ClusterSnapshot, so the compiler catches any drift. How an
 * instance's config becomes a resource request is the scheduler's rule (requestFromConfig), passed
 * in by the caller.
 */
import { wrap } from '../shared/index.js';
import { configBool, configNumber, configValue } from './config/registry.js';
import type { StateView } from './store/state-view.js';
import { clusterConfig, clusterGroups, members, type MemberRecord } from './tables/cluster.js';
import type { KeyRecord } from './kv/record.js';
import { expandInstance, instances, profiles, rootDisk, type InstanceRecord, type ProfileRecord } from './tables/instances.js';
import { projects } from './tables/projects.js';
import { storagePoolMembers } from './tables/storage.js';
import { keyFor } from './tables/table.js';

type Disk = Readonly<Record<string, number>>;

/** Mirrors scheduler `Resources`. */
export interface SnapshotResources {
  readonly cpu: number;
  readonly memoryBytes: number;
  readonly disk: Disk;
}

/** Mirrors scheduler `MemberView`. */
export interface SnapshotMember {
  readonly name: string;
  readonly status: 'Online' | 'Offline' | 'Evacuated' | 'Blocked';
  readonly groups: readonly string[];
  readonly schedulerInstance: 'all' | 'manual' | 'group';
  readonly failureDomain: string;
  readonly architectures: readonly string[];
  readonly capacity: SnapshotResources;
  readonly allocated: SnapshotResources;
  readonly instanceCount: number;
}

/** Mirrors scheduler `ClusterSnapshot`. */
export interface SnapshotForScheduler {
  readonly members: readonly SnapshotMember[];
  readonly projects: ReadonlyMap<string, { readonly restrictedClusterGroups: readonly string[] | null; readonly restrictedClusterTarget: 'allow' | 'block' }>;
  readonly placementGroups: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly config: { readonly policy: 'spread' | 'binpack'; readonly cpuOvercommit: number; readonly memoryOvercommit: number };
}

/** Mirrors scheduler `ResourceRequest`. */
export interface SnapshotRequest {
  readonly cpu: number;
  readonly memory: { readonly bytes: number } | { readonly percent: number };
  readonly rootDisk: { readonly pool: string; readonly bytes: number } | null;
}

export interface SnapshotOptions {
  /** Now, epoch milliseconds (members whose last heartbeat is older than the offline threshold are Offline). */
  readonly now: number;
  /** The scheduler's requestFromConfig(expandedConfig, rootDisk). */
  readonly requestOf: (config: Readonly<Record<string, string>>, rootDisk: Readonly<Record<string, string>> | null) => SnapshotRequest;
  /**
   * Per-instance results kept between snapshots of one store (createSnapshotCache): an instance
   * whose stored record and profiles are the same objects as last time is not decoded, expanded
   * or parsed again. Pass the same `requestOf` with one cache.
   */
  readonly cache?: SnapshotCache;
}

/** What one instance adds to the snapshot, and the stored records it was computed from. */
interface InstanceContribution {
  readonly project: string;
  readonly location: string;
  readonly request: SnapshotRequest;
  readonly group: string | undefined;
  /** Project whose profiles were used, the profile keys and the stored profile records seen. */
  readonly profileProject: string;
  readonly profileKeys: readonly string[];
  readonly profileRecords: readonly (KeyRecord | undefined)[];
}

/** Memo of per-instance contributions, keyed by the stored (immutable) instance record. */
export type SnapshotCache = WeakMap<KeyRecord, InstanceContribution>;

/** A new, empty SnapshotCache (one per store; records are shared by its views). */
export function createSnapshotCache(): SnapshotCache {
  return new WeakMap();
}

/** Builds the scheduler's snapshot from `view` (pure; no I/O). Throws when an instance's stored limits are unusable. */
export function toClusterSnapshot(view: StateView, o: SnapshotOptions): SnapshotForScheduler {
  const serverConfig = view.get(clusterConfig)?.record.config ?? {};
  const offlineMs = configNumber('server', serverConfig, 'cluster.offline_threshold') * 1000;
  const memberRecords = view.list(members).map((m) => m.record);
  const groupsOf = new Map<string, string[]>(memberRecords.map((m) => [m.server_name, []]));
  for (const g of view.list(clusterGroups)) for (const m of g.record.members) groupsOf.get(m)?.push(g.record.name);

  const capacity = new Map<string, SnapshotResources>();
  const poolsOn = new Map<string, Record<string, number>>();
  for (const pm of view.list(storagePoolMembers)) {
    if (pm.record.state !== 'Created') continue;
    const m = memberRecords.find((x) => x.server_name === pm.record.member);
    const size = m?.resources.storage_pools[pm.record.pool] ?? 0;
    (poolsOn.get(pm.record.member) ?? poolsOn.set(pm.record.member, {}).get(pm.record.member)!)[pm.record.pool] = size;
  }
  for (const m of memberRecords) capacity.set(m.server_name, { cpu: m.resources.cpu, memoryBytes: m.resources.memory_bytes, disk: poolsOn.get(m.server_name) ?? {} });

  const alloc = new Map<string, { cpu: number; memoryBytes: number; disk: Record<string, number>; count: number }>(
    memberRecords.map((m) => [m.server_name, { cpu: 0, memoryBytes: 0, disk: {}, count: 0 }]),
  );
  const placementGroups = new Map<string, Map<string, number>>();
  const profileProjectOf = new Map<string, string>();
  for (const p of view.list(projects)) profileProjectOf.set(p.record.name, configBool('project', p.record.config, 'features.profiles') ? p.record.name : 'default');
  const profileRecordOf = new Map<string, KeyRecord | undefined>();
  const storedProfile = (key: string): KeyRecord | undefined => {
    if (!profileRecordOf.has(key)) profileRecordOf.set(key, view.kv.get(key));
    return profileRecordOf.get(key);
  };
  for (const [key, rec] of view.kv.scan(instances.prefix)) {
    let c = o.cache?.get(rec);
    if (c !== undefined && !stillValid(c, profileProjectOf, storedProfile)) c = undefined;
    if (c === undefined) {
      const inst = view.decode(instances, key, rec).record;
      if (!alloc.has(inst.location)) continue;
      c = contribution(view, inst, profileProjectOf, storedProfile, o.requestOf);
      o.cache?.set(rec, c);
    }
    const a = alloc.get(c.location);
    if (!a) continue;
    const req = c.request;
    a.count++;
    a.cpu += req.cpu;
    a.memoryBytes += 'bytes' in req.memory ? req.memory.bytes : Math.floor(((capacity.get(c.location)?.memoryBytes ?? 0) * req.memory.percent) / 100);
    if (req.rootDisk) a.disk[req.rootDisk.pool] = (a.disk[req.rootDisk.pool] ?? 0) + req.rootDisk.bytes;
    if (c.group) {
      const k = `${c.project}/${c.group}`;
      const byMember = placementGroups.get(k) ?? placementGroups.set(k, new Map()).get(k)!;
      byMember.set(c.location, (byMember.get(c.location) ?? 0) + 1);
    }
  }

  const snapshotMembers: SnapshotMember[] = memberRecords.map((m) => {
    const a = alloc.get(m.server_name)!;
    return {
      name: m.server_name,
      status: statusOf(m, o.now, offlineMs),
      groups: groupsOf.get(m.server_name) ?? [],
      schedulerInstance: configValue('member', m.config, 'scheduler.instance') as SnapshotMember['schedulerInstance'],
      failureDomain: m.failure_domain,
      architectures: m.architecture === '' ? [] : [m.architecture],
      capacity: capacity.get(m.server_name)!,
      allocated: { cpu: a.cpu, memoryBytes: a.memoryBytes, disk: a.disk },
      instanceCount: a.count,
    };
  });

  const projectViews = new Map<string, { restrictedClusterGroups: readonly string[] | null; restrictedClusterTarget: 'allow' | 'block' }>();
  for (const { record: p } of view.list(projects)) {
    const restricted = configBool('project', p.config, 'restricted');
    const groups = configValue('project', p.config, 'restricted.cluster.groups');
    projectViews.set(p.name, {
      restrictedClusterGroups: restricted && groups !== '' ? groups.split(',').map((g) => g.trim()) : null,
      restrictedClusterTarget: restricted ? (configValue('project', p.config, 'restricted.cluster.target') as 'allow' | 'block') : 'allow',
    });
  }

  return {
    members: snapshotMembers,
    projects: projectViews,
    placementGroups,
    config: {
      policy: configValue('server', serverConfig, 'scheduler.policy') as 'spread' | 'binpack',
      cpuOvercommit: configNumber('server', serverConfig, 'scheduler.cpu_overcommit'),
      memoryOvercommit: configNumber('server', serverConfig, 'scheduler.memory_overcommit'),
    },
  };
}

/** True when `c` was computed from the profiles (and profile project) the view still has. */
function stillValid(c: InstanceContribution, profileProjectOf: ReadonlyMap<string, string>, storedProfile: (key: string) => KeyRecord | undefined): boolean {
  if (c.profileProject !== (profileProjectOf.get(c.project) ?? c.project)) return false;
  return c.profileKeys.every((k, i) => storedProfile(k) === c.profileRecords[i]);
}

/** What `inst` adds to the snapshot (its profiles expanded, its limits parsed). Throws for unusable limits. */
function contribution(
  view: StateView,
  inst: InstanceRecord,
  profileProjectOf: ReadonlyMap<string, string>,
  storedProfile: (key: string) => KeyRecord | undefined,
  requestOf: SnapshotOptions['requestOf'],
): InstanceContribution {
  const pp = profileProjectOf.get(inst.project) ?? inst.project;
  const profileKeys = inst.profiles.map((n) => keyFor(profiles, [pp, n]));
  const profileRecords = profileKeys.map(storedProfile);
  const profs: ProfileRecord[] = [];
  profileKeys.forEach((k, i) => {
    const r = profileRecords[i];
    if (r !== undefined) profs.push(view.decode(profiles, k, r).record);
  });
  const expanded = expandInstance(inst, profs);
  let request: SnapshotRequest;
  try {
    request = requestOf(expanded.config, rootDisk(expanded.devices));
  } catch (err) {
    throw wrap(err, `Instance "${inst.name}" in project "${inst.project}" has unusable limits`);
  }
  return { project: inst.project, location: inst.location, request, group: expanded.config['placement.group'] || undefined, profileProject: pp, profileKeys, profileRecords };
}

function statusOf(m: MemberRecord, now: number, offlineMs: number): SnapshotMember['status'] {
  if (m.state === 'Evacuated') return 'Evacuated';
  if (m.state === 'Pending') return 'Blocked';
  if (m.last_heartbeat === null || now - Date.parse(m.last_heartbeat) >= offlineMs) return 'Offline';
  return 'Online';
}
