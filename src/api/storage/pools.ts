/**
 * Storage pools across the cluster (LXD lxd/storage_pools.go): the two-phase create, where
 * `POST ?target=<member>` records a Pending member part with that member's own keys (`source`,
 * `size`) and the final `POST` creates the pool on every member through its node agent, all or
 * nothing (a member failure deletes it again where it was created and leaves the pool Errored,
 * deletable only). Reads come from the database; agents are called only for host work.
 */
import { ErrorCode, checkObjectName, errorMessage, errors, isShoalError, newOperationId, type Clock, type Logger } from '../../shared/index.js';
import {
  configKey,
  instances,
  members,
  profiles,
  storagePoolMembers,
  storagePools,
  storageVolumes,
  validateConfig,
  type StateStore,
  type StateView,
  type StoragePoolRecord,
  type WriteTx,
} from '../../state/index.js';
import type { MemberAgents } from '../ports.js';
import type { StoragePool } from '../types/index.js';
import { raiseWarningTx, resolveWarningsTx } from '../warnings/warnings.js';
import { fanOutError, onEveryMember, requireAgents } from './fan-out.js';

/** Storage drivers the node agents implement. */
export const POOL_DRIVERS = ['dir', 'btrfs'] as const;
type PoolDriver = (typeof POOL_DRIVERS)[number];

/** Agent call deadline for pool creation and deletion (btrfs formats a loop file). */
const HOST_WORK_MS = 120_000;

type Reader = StateView | WriteTx;
type Devices = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** INVALID_ARGUMENT unless `name` is a valid pool name. */
export function checkPoolName(name: string): void {
  const bad = checkObjectName('storage pool', name);
  if (bad) throw bad;
}

/** INVALID_ARGUMENT unless `driver` is one the agents implement. */
export function checkDriver(driver: string): PoolDriver {
  if (!(POOL_DRIVERS as readonly string[]).includes(driver)) {
    throw errors.invalid(`Storage pool driver "${driver}" is not supported (supported: ${POOL_DRIVERS.join(', ')})`);
  }
  return driver as PoolDriver;
}

/** Pool keys each driver's agent implementation takes (besides `user.*`). */
const DRIVER_KEYS: Readonly<Record<PoolDriver, readonly string[]>> = { dir: ['source'], btrfs: ['source', 'size', 'btrfs.mount_options'] };

/** INVALID_ARGUMENT for a key the driver does not implement (checked before any host work). */
export function checkDriverKeys(driver: PoolDriver, config: Readonly<Record<string, string>>): void {
  for (const k of Object.keys(config)) {
    if (!k.startsWith('user.') && !DRIVER_KEYS[driver].includes(k)) throw errors.invalid(`Invalid pool config key "${k}" for the "${driver}" driver`);
  }
}

/** Splits `config` into cluster-wide and member-specific keys (registry scope); unknown keys are refused. */
export function splitPoolConfig(config: Readonly<Record<string, string>>): { cluster: Record<string, string>; member: Record<string, string> } {
  validateConfig('storage-pool', config);
  const cluster: Record<string, string> = {};
  const member: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) (configKey('storage-pool', k)?.scope === 'member' ? member : cluster)[k] = v;
  return { cluster, member };
}

/** Members that take part in cluster-wide objects (not joining), sorted. */
export function activeMembers(view: Reader): string[] {
  return view
    .list(members)
    .filter((m) => m.record.state !== 'Pending')
    .map((m) => m.record.server_name)
    .sort();
}

const projectSuffix = (project: string): string => (project === 'default' ? '' : `?project=${project}`);
const usesPool = (devices: Devices, pool: string): boolean => Object.values(devices).some((d) => d['type'] === 'disk' && d['pool'] === pool);

/** LXD's `used_by` of a pool: profiles and instances with a disk on it, and its custom volumes. */
export function poolUsedBy(view: Reader, pool: string): string[] {
  const out: string[] = [];
  const allProfiles = view.list(profiles);
  for (const p of allProfiles) if (usesPool(p.record.devices, pool)) out.push(`/1.0/profiles/${p.record.name}${projectSuffix(p.record.project)}`);
  for (const i of view.list(instances)) {
    const r = i.record;
    const expanded: Record<string, Readonly<Record<string, string>>> = {};
    for (const name of r.profiles) {
      const p = allProfiles.find((x) => x.record.name === name && x.record.project === r.project) ?? allProfiles.find((x) => x.record.name === name && x.record.project === 'default');
      Object.assign(expanded, p?.record.devices ?? {});
    }
    Object.assign(expanded, r.devices);
    if (usesPool(expanded, pool)) out.push(`/1.0/instances/${r.name}${projectSuffix(r.project)}`);
  }
  for (const v of view.list(storageVolumes, pool)) {
    if (v.record.type !== 'custom') continue;
    const q = [...(v.record.project === 'default' ? [] : [`project=${v.record.project}`]), ...(v.record.location ? [`target=${v.record.location}`] : [])];
    out.push(`/1.0/storage-pools/${pool}/volumes/custom/${v.record.name}${q.length ? `?${q.join('&')}` : ''}`);
  }
  return out;
}

/**
 * The API view of a pool. Without `target`, cluster-wide config only (member-specific keys differ
 * per member, as LXD hides them); with `target`, that member's keys merged in and its state.
 */
export function toApiPool(view: Reader, r: StoragePoolRecord, target?: string): StoragePool {
  const parts = view.list(storagePoolMembers, r.name).map((s) => s.record);
  let config: Record<string, string> = { ...r.config };
  let status: string = r.status;
  if (target !== undefined) {
    const part = parts.find((p) => p.member === target);
    if (!part) throw errors.notFound(`Storage pool "${r.name}" is not defined on member "${target}"`);
    config = { ...config, ...part.config };
    status = part.state;
  }
  return {
    name: r.name,
    driver: r.driver,
    description: r.description,
    config,
    status,
    used_by: poolUsedBy(view, r.name),
    locations: parts.filter((p) => p.state === 'Created').map((p) => p.member).sort(),
  };
}

/** A pool creation request (`POST /1.0/storage-pools`). */
export interface PoolCreate {
  readonly name: string;
  readonly driver: string;
  readonly description: string;
  readonly config: Readonly<Record<string, string>>;
}

/**
 * `POST ?target=<member>`: records `member`'s part of a pending pool (member-specific keys only).
 * The pool record is created Pending on the first such call; later calls must name the same driver.
 */
export async function definePoolOnMember(store: StateStore, req: PoolCreate, member: string): Promise<void> {
  checkPoolName(req.name);
  const driver = checkDriver(req.driver);
  const { cluster, member: own } = splitPoolConfig(req.config);
  checkDriverKeys(driver, req.config);
  const bad = Object.keys(cluster)[0];
  if (bad !== undefined) throw errors.invalid(`Config key "${bad}" may not be used as member-specific key`);
  await store.update((tx) => {
    if (!tx.get(members, member)) throw errors.notFound(`Cluster member "${member}" not found`);
    const cur = tx.get(storagePools, req.name)?.record;
    if (cur && cur.status !== 'Pending') throw errors.exists(`Storage pool "${req.name}" already exists`);
    if (cur && cur.driver !== driver) throw errors.invalid(`Storage pool "${req.name}" is pending with driver "${cur.driver}", not "${driver}"`);
    if (tx.get(storagePoolMembers, req.name, member)) throw errors.exists(`Storage pool "${req.name}" is already defined on member "${member}"`);
    if (!cur) tx.create(storagePools, { name: req.name, driver, description: req.description, config: {}, status: 'Pending' });
    tx.create(storagePoolMembers, { pool: req.name, member, config: own, state: 'Pending' });
  });
}

/**
 * The final `POST` (no target): checks the pool is pending on every member (a cluster of one
 * member needs no `?target=` step), records the cluster-wide config, then creates the pool on
 * every member. On a member failure the pool is deleted where it was created, marked Errored,
 * and the member's error is thrown (its code, the member named).
 */
export async function createPoolEverywhere(store: StateStore, agentsOrNone: MemberAgents | undefined, req: PoolCreate, log: Logger, clock: Clock): Promise<void> {
  checkPoolName(req.name);
  const driver = checkDriver(req.driver);
  const { cluster, member: own } = splitPoolConfig(req.config);
  checkDriverKeys(driver, req.config);
  const agents = requireAgents(agentsOrNone, 'Storage pools');
  let plan: Array<{ member: string; config: Readonly<Record<string, string>> }> = [];
  await store.update((tx) => {
    const everyone = activeMembers(tx);
    const cur = tx.get(storagePools, req.name)?.record;
    if (cur && cur.status === 'Created') throw errors.exists(`Storage pool "${req.name}" already exists`);
    if (cur && cur.status === 'Errored') throw errors.precondition(`Storage pool "${req.name}" is in Errored state: delete it and create it again`);
    if (cur && cur.driver !== driver) throw errors.invalid(`Storage pool "${req.name}" is pending with driver "${cur.driver}", not "${driver}"`);
    const memberKey = Object.keys(own)[0];
    if (memberKey !== undefined && everyone.length > 1) throw errors.invalid(`Config key "${memberKey}" is member-specific: set it per member with ?target=`);
    if (!cur) {
      if (everyone.length !== 1) throw errors.invalid(`Storage pool "${req.name}" is not pending on any member (use --target <member> first)`);
      tx.create(storagePools, { name: req.name, driver, description: req.description, config: cluster, status: 'Pending' });
      tx.create(storagePoolMembers, { pool: req.name, member: everyone[0]!, config: own, state: 'Pending' });
      plan = [{ member: everyone[0]!, config: { ...cluster, ...own } }];
      return;
    }
    const parts = tx.list(storagePoolMembers, req.name).map((s) => s.record);
    const missing = everyone.filter((m) => !parts.some((p) => p.member === m));
    if (missing.length > 0) throw errors.invalid(`Storage pool "${req.name}" is not defined on members ${missing.map((m) => `"${m}"`).join(', ')} (use --target)`);
    tx.put(storagePools, { ...cur, description: req.description || cur.description, config: cluster });
    plan = everyone.map((m) => ({ member: m, config: { ...cluster, ...(parts.find((p) => p.member === m)?.config ?? {}) } }));
  });

  const res = await onEveryMember(
    plan.map((p) => p.member),
    async (member) => {
      const config = plan.find((p) => p.member === member)!.config;
      const r = await agents.client(member).unary('createStoragePool', { operationId: newOperationId(), pool: { name: req.name, driver, config, description: req.description } }, { timeoutMs: HOST_WORK_MS });
      return r.pool?.spec?.config ?? {};
    },
    async (member) => {
      await agents.client(member).unary('deleteStoragePool', { operationId: newOperationId(), name: req.name }, { timeoutMs: HOST_WORK_MS });
    },
    log,
  );
  if (!res.ok) {
    await store.update((tx) => {
      const cur = tx.get(storagePools, req.name)?.record;
      if (!cur) return;
      tx.put(storagePools, { ...cur, status: 'Errored' });
      for (const f of res.failed) {
        const part = tx.get(storagePoolMembers, req.name, f.member)?.record;
        if (part) tx.put(storagePoolMembers, { ...part, state: 'Errored' });
        raiseWarningTx(tx, clock, { type: 'Storage pool creation failed', location: f.member, entityUrl: `/1.0/storage-pools/${req.name}`, message: errorMessage(f.err) });
      }
      for (const x of res.remaining) {
        const part = tx.get(storagePoolMembers, req.name, x.member)?.record;
        if (part) tx.put(storagePoolMembers, { ...part, state: 'Created' });
      }
    });
    throw fanOutError(`creating storage pool "${req.name}"`, res);
  }
  await store.update((tx) => {
    const cur = tx.require(storagePools, req.name).record;
    tx.put(storagePools, { ...cur, status: 'Created' });
    for (const [member, effective] of res.results) {
      const part = tx.require(storagePoolMembers, req.name, member).record;
      const memberKeys = Object.fromEntries(Object.entries(effective).filter(([k]) => configKey('storage-pool', k)?.scope === 'member'));
      tx.put(storagePoolMembers, { ...part, config: { ...part.config, ...memberKeys }, state: 'Created' });
    }
  });
}

/**
 * Deletes a pool: refused while anything uses it; otherwise deleted on every member where it was
 * created (a member that no longer has it counts as done), then from the database.
 */
export async function deletePoolEverywhere(store: StateStore, agentsOrNone: MemberAgents | undefined, name: string, log: Logger): Promise<void> {
  const view = await store.view();
  const rec = view.require(storagePools, name).record;
  const users = poolUsedBy(view, name);
  if (users.length > 0) throw errors.precondition(`Storage pool "${name}" is currently in use by ${users.slice(0, 5).join(', ')}`);
  const on = view.list(storagePoolMembers, name).filter((p) => p.record.state === 'Created').map((p) => p.record.member);
  if (on.length > 0) {
    const agents = requireAgents(agentsOrNone, 'Storage pools');
    const failures: string[] = [];
    await Promise.all(
      on.map(async (member) => {
        try {
          await agents.client(member).unary('deleteStoragePool', { operationId: newOperationId(), name }, { timeoutMs: HOST_WORK_MS });
        } catch (err) {
          if (!isShoalError(err, ErrorCode.NotFound)) {
            log.warn({ err, member, pool: name }, 'deleting storage pool on member failed');
            failures.push(`"${member}": ${errorMessage(err)}`);
            return;
          }
        }
        await store.update((tx) => {
          const part = tx.get(storagePoolMembers, name, member)?.record;
          if (part) tx.put(storagePoolMembers, { ...part, state: 'Pending' });
        });
      }),
    );
    if (failures.length > 0) throw errors.precondition(`Failed deleting storage pool "${name}" on members ${failures.join(', ')}`);
  }
  await store.update((tx) => {
    const cur = tx.get(storagePools, name);
    if (!cur || cur.record.driver !== rec.driver) return; // deleted (and maybe re-created) meanwhile
    const users = poolUsedBy(tx, name);
    if (users.length > 0) throw errors.precondition(`Storage pool "${name}" is currently in use by ${users.slice(0, 5).join(', ')}`);
    tx.delete(storagePools, name);
    resolveWarningsTx(tx, { entityUrl: `/1.0/storage-pools/${name}` });
  });
}
