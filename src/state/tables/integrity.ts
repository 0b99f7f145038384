/**
 * The integrity rules of the cluster database, all in one place. They run inside the write
 * transaction (WriteTx) that changes a table; their reads are tracked, so the transaction commits
 * only if nothing they looked at changed in between: a rule checked here holds in the committed
 * state. Each refusal is a ShoalError naming the objects, and leaves the state unchanged.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { configBool } from '../config/registry.js';
import { certificates } from './certificates.js';
import { clusterConfig, clusterGroups, joinTokens, memberConfig, members } from './cluster.js';
import { imageAliases, imageMembers, images } from './images.js';
import { instanceSnapshots, instances, profiles, type InstanceRecord } from './instances.js';
import { networkMembers, networks } from './networks.js';
import { operations, warnings } from './operations.js';
import { projects } from './projects.js';
import { storagePoolMembers, storagePools, storageVolumes } from './storage.js';
import { partsOf, type Stored, type TableDef } from './table.js';
import type { TableRules, TableTx } from './tx.js';

type AnyTable = TableDef<never, readonly string[]>;

/** Every table, in a stable order. */
export const TABLES: readonly TableDef<unknown, readonly string[]>[] = [
  members,
  clusterGroups,
  joinTokens,
  clusterConfig,
  memberConfig,
  projects,
  profiles,
  instances,
  instanceSnapshots,
  images,
  imageMembers,
  imageAliases,
  storagePools,
  storagePoolMembers,
  storageVolumes,
  networks,
  networkMembers,
  certificates,
  operations,
  warnings,
] as unknown as readonly TableDef<unknown, readonly string[]>[];

/** The table `key` belongs to, and its name parts. */
export function tableOfKey(key: string): { table: TableDef<unknown, readonly string[]>; parts: readonly string[] } | undefined {
  for (const table of TABLES) {
    const parts = partsOf(table, key);
    if (parts) return { table, parts };
  }
  return undefined;
}

const precondition = (message: string): ShoalError => new ShoalError(ErrorCode.FailedPrecondition, message);
const notFound = (message: string): ShoalError => new ShoalError(ErrorCode.NotFound, message);
const names = (xs: readonly string[]): string => xs.map((x) => `"${x}"`).join(', ');

function requireProject(tx: TableTx, project: string, what: string): void {
  if (!tx.get(projects, project)) throw notFound(`Project "${project}" not found (for ${what})`);
}

function requireMember(tx: TableTx, member: string, what: string): void {
  if (!tx.get(members, member)) throw notFound(`Member "${member}" not found (for ${what})`);
}

/** The project whose profiles (or images) instances of `project` use (LXD features.profiles/images). */
function featureProject(tx: TableTx, project: string, feature: 'features.profiles' | 'features.images'): string {
  const p = tx.get(projects, project);
  return p && !configBool('project', p.record.config, feature) ? 'default' : project;
}

/** Instances that use profiles of `profileProject`. */
function instancesUsingProfilesOf(tx: TableTx, profileProject: string): Stored<InstanceRecord>[] {
  const all = profileProject === 'default' ? tx.list(instances) : tx.list(instances, profileProject);
  return all.filter((i) => featureProject(tx, i.record.project, 'features.profiles') === profileProject);
}

const RULES = new Map<AnyTable, TableRules<never>>();
function rules<T, A extends readonly string[]>(table: TableDef<T, A>, r: TableRules<T>): void {
  RULES.set(table as unknown as AnyTable, r as unknown as TableRules<never>);
}

/** The rules of `table` (none for most bookkeeping tables). */
export function rulesFor<T>(table: TableDef<T, readonly string[]>): TableRules<T> {
  return (RULES.get(table as unknown as AnyTable) ?? {}) as TableRules<T>;
}

rules(members, {
  beforeWrite: (tx, next) => {
    if (next.schema_max < tx.schemaVersion) {
      throw precondition(`Member "${next.server_name}" supports schema ${next.schema_max} but the cluster is at schema ${tx.schemaVersion}; upgrade it first`);
    }
  },
  beforeDelete: (tx, prev) => {
    const name = prev.record.server_name;
    // LXD NodeIsEmpty: no instances, no custom volumes held only here.
    const here = tx.list(instances).filter((i) => i.record.location === name);
    if (here.length > 0) {
      throw precondition(`Member "${name}" still has instances: ${here.slice(0, 5).map((i) => `"${i.record.name}" in project "${i.record.project}"`).join(', ')}${here.length > 5 ? `, and ${here.length - 5} more` : ''}`);
    }
    const vols = tx.list(storageVolumes).filter((v) => v.record.location === name && v.record.type === 'custom');
    if (vols.length > 0) throw precondition(`Member "${name}" still has custom storage volumes: ${names(vols.slice(0, 5).map((v) => `${v.record.pool}/${v.record.name}`))}`);
    for (const g of tx.list(clusterGroups)) if (g.record.members.includes(name)) throw precondition(`Member "${name}" is still in cluster group "${g.record.name}"`);
    if (tx.get(memberConfig, name)) tx.delete(memberConfig, name);
    for (const pm of tx.list(storagePoolMembers)) if (pm.record.member === name) tx.delete(storagePoolMembers, pm.record.pool, name);
    for (const c of tx.list(imageMembers)) if (c.record.member === name) tx.delete(imageMembers, c.record.fingerprint, name);
  },
});

rules(clusterGroups, {
  beforeWrite: (tx, next) => {
    for (const m of next.members) requireMember(tx, m, `cluster group "${next.name}"`);
  },
  beforeDelete: (_tx, prev) => {
    if (prev.record.name === 'default') throw precondition('The "default" cluster group cannot be deleted');
  },
});

rules(memberConfig, { beforeWrite: (tx, next) => requireMember(tx, next.member, 'its server configuration') });

rules(projects, {
  beforeDelete: (tx, prev) => {
    const p = prev.record.name;
    if (p === 'default') throw precondition('The "default" project cannot be deleted');
    const used = [
      ...tx.list(instances, p).map((i) => `instance "${i.record.name}"`),
      ...tx.list(profiles, p).filter((x) => x.record.name !== 'default').map((x) => `profile "${x.record.name}"`),
      ...tx.list(images, p).map((x) => `image "${x.record.fingerprint.slice(0, 12)}"`),
      ...tx.list(networks, p).map((x) => `network "${x.record.name}"`),
    ];
    if (used.length > 0) throw precondition(`Project "${p}" is not empty: it still has ${used.slice(0, 5).join(', ')}`);
    if (tx.get(profiles, p, 'default')) tx.delete(profiles, p, 'default');
  },
});

rules(profiles, {
  beforeWrite: (tx, next) => requireProject(tx, next.project, `profile "${next.name}"`),
  beforeDelete: (tx, prev) => {
    const { name, project } = prev.record;
    if (name === 'default') {
      // LXD: the default profile goes only with its project (the project's rule deletes it).
      if (tx.get(projects, project)) throw precondition(`The "default" profile cannot be deleted`);
      return;
    }
    const users = instancesUsingProfilesOf(tx, project).filter((i) => i.record.profiles.includes(name));
    if (users.length > 0) {
      throw precondition(`Profile "${name}" is currently in use by ${users.slice(0, 5).map((i) => `instance "${i.record.name}" in project "${i.record.project}"`).join(', ')}`);
    }
  },
});

rules(instances, {
  beforeWrite: (tx, next, prev) => {
    const what = `instance "${next.name}"`;
    requireProject(tx, next.project, what);
    requireMember(tx, next.location, what);
    const profileProject = featureProject(tx, next.project, 'features.profiles');
    const changed = prev === undefined || prev.record.profiles.join('\0') !== next.profiles.join('\0');
    if (changed) for (const p of next.profiles) if (!tx.get(profiles, profileProject, p)) throw notFound(`Profile "${p}" not found in project "${profileProject}" (for ${what})`);
  },
  beforeDelete: (tx, prev) => {
    for (const s of tx.list(instanceSnapshots, prev.record.project, prev.record.name)) tx.delete(instanceSnapshots, prev.record.project, prev.record.name, s.record.name);
  },
});

rules(instanceSnapshots, {
  beforeWrite: (tx, next, prev) => {
    if (prev === undefined && !tx.get(instances, next.project, next.instance)) {
      throw notFound(`Instance "${next.instance}" not found in project "${next.project}" (for snapshot "${next.name}")`);
    }
  },
});

rules(images, {
  beforeWrite: (tx, next) => requireProject(tx, next.project, `image "${next.fingerprint.slice(0, 12)}"`),
  beforeDelete: (tx, prev) => {
    const { project, fingerprint } = prev.record;
    // LXD deletes an image's aliases with it.
    for (const a of tx.list(imageAliases, project)) if (a.record.target === fingerprint) tx.delete(imageAliases, project, a.record.name);
    const elsewhere = tx.list(images).some((i) => i.record.fingerprint === fingerprint && i.record.project !== project);
    if (!elsewhere) for (const c of tx.list(imageMembers, fingerprint)) tx.delete(imageMembers, fingerprint, c.record.member);
  },
});

rules(imageMembers, { beforeWrite: (tx, next) => requireMember(tx, next.member, `a copy of image "${next.fingerprint.slice(0, 12)}"`) });

rules(imageAliases, {
  beforeWrite: (tx, next) => {
    const imageProject = featureProject(tx, next.project, 'features.images');
    if (!tx.get(images, imageProject, next.target)) {
      throw notFound(`Image alias "${next.name}" points to image "${next.target}", which does not exist in project "${imageProject}"`);
    }
  },
});

rules(storagePools, {
  beforeDelete: (tx, prev) => {
    const vols = tx.list(storageVolumes, prev.record.name).filter((v) => v.record.type !== 'image');
    if (vols.length > 0) throw precondition(`Storage pool "${prev.record.name}" is in use by ${vols.length} volume(s), e.g. ${vols[0]!.record.type} "${vols[0]!.record.name}"`);
    for (const v of tx.list(storageVolumes, prev.record.name)) tx.delete(storageVolumes, ...storageVolumes.keyOf(v.record));
    for (const pm of tx.list(storagePoolMembers, prev.record.name)) tx.delete(storagePoolMembers, prev.record.name, pm.record.member);
  },
});

rules(storagePoolMembers, {
  beforeWrite: (tx, next) => {
    if (!tx.get(storagePools, next.pool)) throw notFound(`Storage pool "${next.pool}" not found`);
    requireMember(tx, next.member, `storage pool "${next.pool}"`);
  },
});

rules(storageVolumes, {
  beforeWrite: (tx, next, prev) => {
    if (prev !== undefined) return;
    if (!tx.get(storagePools, next.pool)) throw notFound(`Storage pool "${next.pool}" not found (for volume "${next.name}")`);
    requireProject(tx, next.project, `volume "${next.name}"`);
    if (next.location !== '') requireMember(tx, next.location, `volume "${next.name}"`);
  },
});

rules(networks, {
  beforeWrite: (tx, next) => requireProject(tx, next.project, `network "${next.name}"`),
  beforeDelete: (tx, prev) => {
    const { project, name } = prev.record;
    const usesIt = (devs: Readonly<Record<string, Readonly<Record<string, string>>>>): boolean =>
      Object.values(devs).some((d) => d['type'] === 'nic' && (d['network'] === name || d['parent'] === name));
    const users = [
      ...tx.list(profiles, project).filter((p) => usesIt(p.record.devices)).map((p) => `profile "${p.record.name}"`),
      ...tx.list(instances, project).filter((i) => usesIt(i.record.devices)).map((i) => `instance "${i.record.name}"`),
    ];
    if (users.length > 0) throw precondition(`Network "${name}" is currently in use by ${users.slice(0, 5).join(', ')}`);
    for (const nm of tx.list(networkMembers, project, name)) tx.delete(networkMembers, project, name, nm.record.member);
  },
});

rules(networkMembers, {
  beforeWrite: (tx, next) => {
    if (!tx.get(networks, next.project, next.network)) throw notFound(`Network "${next.network}" not found in project "${next.project}"`);
    requireMember(tx, next.member, `network "${next.network}"`);
  },
});

