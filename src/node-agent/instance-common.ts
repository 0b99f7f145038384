/**
 * Helpers shared by the instance parts of the service: spec normalisation, views, device
 * resolution of a record, the in-use checks and the removal of an instance from the host (used by
 * DeleteInstance, the stop of an ephemeral instance and recovery).
 */
import { ErrorCode, ShoalError, checkHostnameName, errors, isShoalError } from '../shared/index.js';
import type { TemplateTrigger } from './images/image-store.js';
import { canonicalJson } from './ledger.js';
import { customVolumesOf, findRootDisk, managedNetworksOf, resolveDevices, type ResolvedInstance } from './devices.js';
import { instanceKey, type InstanceRecord, type InstanceView } from './local-records.js';
import { lockKey, type LockRequest } from './locks.js';
import type { ServiceContext } from './service-context.js';
import {
  INSTANCE_STATUS_CODE,
  InstanceStatus,
  hostInstanceName,
  type ConfigMap,
  type InstanceRuntime,
  type InstanceSpec,
} from './types.js';

/** An instance's identity in requests. */
export interface InstanceRef {
  readonly project: string;
  readonly name: string;
}

/** The default project when a request leaves it empty. */
export function projectOf(project: string): string {
  return project || 'default';
}

/** A spec with its project defaulted and its name checked (INVALID_ARGUMENT). */
export function normalizeSpec(spec: InstanceSpec): InstanceSpec {
  const bad = checkHostnameName('instance', spec.name);
  if (bad) throw bad;
  return { ...spec, project: projectOf(spec.project) };
}

/** The spec without volatile keys, for "same spec" comparisons. */
export function specIdentity(spec: InstanceSpec): string {
  const config = Object.fromEntries(Object.entries(spec.config).filter(([k]) => !k.startsWith('volatile.')));
  return canonicalJson({ ...spec, config });
}

/** The spec with the agent's volatile keys merged in (what the leader will persist). */
export function effectiveSpec(rec: InstanceRecord): InstanceSpec {
  return { ...rec.spec, config: { ...rec.volatile, ...rec.spec.config } };
}

/** The service's view of an instance. */
export function instanceView(rec: InstanceRecord, status: InstanceStatus): InstanceView {
  return {
    spec: rec.spec,
    description: rec.description,
    status: {
      status,
      statusCode: INSTANCE_STATUS_CODE[status],
      volatile: rec.volatile,
      storagePool: rec.pool,
      imageFingerprint: rec.imageFingerprint ?? '',
      hostName: rec.hostName,
    },
    meta: rec.meta,
  };
}

/** The locks an operation on an instance holds: itself exclusive, its pool/networks/volumes shared. */
export function instanceLocks(spec: InstanceSpec, extra: readonly LockRequest[] = []): LockRequest[] {
  const out: LockRequest[] = [{ key: lockKey.instance(projectOf(spec.project), spec.name), mode: 'exclusive' }];
  const root = findRootDisk(spec);
  const pool = root?.[1]['pool'];
  if (pool) out.push({ key: lockKey.pool(pool), mode: 'shared' });
  for (const n of managedNetworksOf(spec)) out.push({ key: lockKey.network(n), mode: 'shared' });
  for (const [p, v] of customVolumesOf(spec)) {
    out.push({ key: lockKey.pool(p), mode: 'shared' }, { key: lockKey.volume(p, v), mode: 'shared' });
  }
  return [...out, ...extra];
}

/** Resolves a record's devices with its remembered volatile keys. */
export async function resolveRecord(ctx: ServiceContext, rec: InstanceRecord, spec = rec.spec): Promise<ResolvedInstance> {
  return resolveDevices(spec, rec.hostName, rec.volatile, await ctx.deviceLookups());
}

/** The host instance name of a spec. */
export function hostNameOf(spec: InstanceSpec): string {
  return hostInstanceName(projectOf(spec.project), spec.name);
}

/** The driver's status, `Stopped` when the host has no definition (e.g. a crash mid-create). */
export async function currentStatus(ctx: ServiceContext, hostName: string, signal: AbortSignal): Promise<InstanceStatus> {
  try {
    return (await ctx.drivers.instance.state(hostName, signal)).status;
  } catch (err) {
    if (isShoalError(err, ErrorCode.NotFound)) return InstanceStatus.Stopped;
    throw err;
  }
}

/**
 * Removes an instance from the host: definition (the driver refuses a running instance:
 * FAILED_PRECONDITION, nothing changed), network entries, root volume (with its snapshots), then
 * the record. The record is marked `deleting` (synced) once the definition is gone, so a crash
 * mid-way is finished by recovery. Every step is idempotent. The caller holds the instance lock.
 */
export async function removeInstance(ctx: ServiceContext, rec: InstanceRecord, signal: AbortSignal): Promise<void> {
  const key = instanceKey(rec.spec.project, rec.spec.name);
  // The driver refuses a running or frozen instance: nothing has changed yet when it does.
  try {
    await ctx.drivers.instance.delete(rec.hostName, signal);
  } catch (err) {
    if (isShoalError(err, ErrorCode.FailedPrecondition)) {
      throw new ShoalError(ErrorCode.FailedPrecondition, `Instance "${rec.spec.name}" is running; stop it before deleting it`, { cause: err });
    }
    throw err;
  }
  ctx.knownStopped.delete(rec.hostName);
  ctx.templates.forget(rec.hostName);
  if (rec.phase !== 'deleting') await ctx.db.instances.put(key, { ...rec, phase: 'deleting' }, { sync: true });
  // Network entries and the root volume are independent: remove them side by side.
  const steps: Array<Promise<void>> = managedNetworksOf(rec.spec).map(async (net) => {
    if (await ctx.db.networks.get(net)) await ctx.drivers.network.removeHost(net, rec.hostName, signal);
  });
  const pool = await ctx.db.pools.get(rec.pool);
  if (pool) {
    const volume = { type: 'container', name: rec.hostName } as const;
    ctx.templates.dropVolume(ctx.storage(pool.spec).volumePath(pool.spec, volume));
    steps.push(ctx.storage(pool.spec).deleteVolume(pool.spec, volume, signal));
  }
  const failed = (await Promise.allSettled(steps)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  await ctx.db.instances.del(key, { sync: true });
  ctx.log.info({ instance: rec.spec.name, project: rec.spec.project }, 'instance deleted');
}

/** Names of the instances (`project/name` outside default) whose spec matches `pred`. */
export async function instancesUsing(ctx: ServiceContext, pred: (spec: InstanceSpec, rec: InstanceRecord) => boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const rec of ctx.db.instances.values()) {
    if (pred(rec.spec, rec)) out.push(rec.spec.project === 'default' ? rec.spec.name : `${rec.spec.project}/${rec.spec.name}`);
  }
  return out.sort();
}

/** Formats users for an in-use error: `instances "a", "b"`. */
export function quoteList(kind: string, names: readonly string[]): string {
  return `${kind} ${names.map((n) => `"${n}"`).join(', ')}`;
}

/**
 * Renders the image templates of an instance's volume for `trigger` into its rootfs (LXD applies
 * `create`/`copy` once and `start` before every start). The rootfs is idmapped at mount, so
 * files are written with host ids 0.
 */
export async function applyInstanceTemplates(
  ctx: ServiceContext,
  runtime: InstanceRuntime,
  architecture: string,
  trigger: TemplateTrigger,
): Promise<void> {
  await ctx.templates.apply(runtime, architecture, trigger);
}

/** INVALID_ARGUMENT unless the config keys in `config` are all strings (proto maps guarantee it). */
export function checkConfig(config: ConfigMap, what: string): void {
  for (const [k, v] of Object.entries(config)) {
    if (typeof v !== 'string') throw errors.invalid(`Invalid value for ${what} key "${k}"`);
  }
}
