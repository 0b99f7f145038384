/**
 * `PUT|PATCH /1.0/instances/<name>` (LXD instance_put.go / instance_patch.go: PUT replaces,
 * PATCH merges; `restore` restores a snapshot) and `POST /1.0/instances/<name>` (rename).
 *
 * Validation (If-Match, profiles, config keys, devices) happens in the database transaction before
 * the 202, so a rejected request changes nothing. The operation then applies the new spec on the
 * agent; if the agent refuses it, the previous record is put back (unless someone changed it
 * meanwhile) and the operation fails with the agent's error.
 */
import { touchMemberAllocation } from '../../cluster/placement/index.js';
import { errors } from '../../shared/index.js';
import { instanceSnapshots, instances, type InstanceRecord } from '../../state/index.js';
import { LifecycleAction, type EventLifecycleRequestor, type InstancePost, type InstancePut, type Operation } from '../types/index.js';
import { checkIfMatch } from '../response.js';
import type { FastifyRequest } from 'fastify';
import { updateSettled, writeStatus } from './commit.js';
import { instanceEvent, type InstanceContext } from './context.js';
import { agentSpec, observedStatus, withVolatile } from './host.js';
import { checkCreated, requireInstance } from './lifecycle.js';
import { checkInstanceName } from './names.js';
import { instanceEtag, instanceUrl } from './render.js';

/** The record after applying `b` to `cur` (LXD: volatile keys survive a PUT unless given). */
function edited(cur: InstanceRecord, b: InstancePut, mode: 'replace' | 'merge'): InstanceRecord {
  if (b.architecture !== undefined && b.architecture !== '' && b.architecture !== cur.architecture) {
    throw errors.invalid('Changing the architecture of an instance is not supported');
  }
  if (b.stateful) throw errors.invalid('Stateful instances are not supported');
  if (mode === 'replace') {
    const volatile = Object.fromEntries(Object.entries(cur.config).filter(([k]) => k.startsWith('volatile.')));
    return {
      ...cur,
      description: b.description ?? '',
      config: { ...volatile, ...(b.config ?? {}) },
      devices: { ...(b.devices ?? {}) },
      profiles: b.profiles ?? [],
      ephemeral: b.ephemeral ?? false,
    };
  }
  const config = { ...cur.config, ...(b.config ?? {}) };
  // LXD PATCH: a key set to "" is removed.
  for (const [k, v] of Object.entries(config)) if (v === '') delete config[k];
  return {
    ...cur,
    description: b.description ?? cur.description,
    config,
    devices: { ...cur.devices, ...(b.devices ?? {}) },
    profiles: b.profiles ?? cur.profiles,
    ephemeral: b.ephemeral ?? cur.ephemeral,
  };
}

/** Starts a PUT/PATCH (or restore) of an instance; see the file header. */
export async function updateInstance(
  ctx: InstanceContext,
  req: FastifyRequest,
  project: string,
  name: string,
  b: InstancePut,
  mode: 'replace' | 'merge',
  requestId: string,
  requestor: EventLifecycleRequestor,
): Promise<Operation> {
  if (b.restore !== undefined && b.restore !== '') return restoreSnapshot(ctx, project, name, b.restore, requestId, requestor);
  const url = instanceUrl(project, name);
  let before: InstanceRecord | undefined;
  let after: InstanceRecord | undefined;
  await ctx.store.update((tx) => {
    const cur = tx.get(instances, project, name)?.record;
    if (!cur) throw errors.notFound(`Instance "${name}" not found`);
    checkCreated(cur);
    checkIfMatch(req, instanceEtag(cur));
    const next = edited(cur, b, mode);
    tx.put(instances, next);
    // Raising limits or the root size must conflict with a placement decided on the old allocation.
    touchMemberAllocation(tx, cur.location, `instance "${name}" updated`);
    before = cur;
    after = next;
  });
  const prev = before!;
  const next = after!;
  return ctx.operations.createTask({
    type: 'instance-update',
    description: 'Updating instance',
    project,
    resources: { instances: [url] },
    requestId,
    run: async (op) => {
      try {
        const res = await ctx.agent(next.location).unary('updateInstance', { operationId: op.id, spec: agentSpec(await ctx.store.view(), next) }, { signal: op.signal, timeoutMs: 120_000 });
        await writeStatus(ctx.store, ctx.clock, project, name, observedStatus(res.instance), (cur) => withVolatile(cur, res.instance));
      } catch (err) {
        await putBack(ctx, prev, next);
        throw err;
      }
      instanceEvent(ctx, project, LifecycleAction.InstanceUpdated, url, requestor);
    },
  });
}

/** Restores `prev` unless the record changed since `next` was written. */
async function putBack(ctx: InstanceContext, prev: InstanceRecord, next: InstanceRecord): Promise<void> {
  const same = (r: InstanceRecord | undefined): boolean => r !== undefined && JSON.stringify(instanceEtag(r)) === JSON.stringify(instanceEtag(next));
  await updateSettled(
    ctx.store,
    ctx.clock,
    (tx) => {
      const cur = tx.get(instances, prev.project, prev.name)?.record;
      if (same(cur)) tx.put(instances, { ...cur!, config: prev.config, devices: prev.devices, profiles: prev.profiles, description: prev.description, ephemeral: prev.ephemeral });
    },
    (view) => !same(view.get(instances, prev.project, prev.name)?.record),
  );
}

/** `PUT {restore}`: the agent restores content and config; the record takes the snapshot's config, devices and profiles. */
async function restoreSnapshot(ctx: InstanceContext, project: string, name: string, snapshot: string, requestId: string, requestor: EventLifecycleRequestor): Promise<Operation> {
  const view = await ctx.store.view();
  const r = view.get(instances, project, name)?.record;
  if (!r) throw errors.notFound(`Instance "${name}" not found`);
  checkCreated(r);
  const snap = view.get(instanceSnapshots, project, name, snapshot)?.record;
  if (!snap) throw errors.notFound(`Snapshot "${snapshot}" not found`);
  const url = instanceUrl(project, name);
  return ctx.operations.createTask({
    type: 'instance-restore',
    description: 'Restoring snapshot',
    project,
    resources: { instances: [url], instances_snapshots: [instanceUrl(project, name, `/snapshots/${encodeURIComponent(snapshot)}`)] },
    requestId,
    run: async (op) => {
      const res = await ctx.agent(r.location).unary('restoreInstanceSnapshot', { operationId: op.id, project, name, snapshot }, { signal: op.signal, timeoutMs: 300_000 });
      await updateSettled(
        ctx.store,
        ctx.clock,
        (tx) => {
          const cur = tx.get(instances, project, name)?.record;
          if (!cur) return;
          const config = { ...snap.config };
          // Volatile keys describe the host object, which the restore kept.
          for (const [k, v] of Object.entries(cur.config)) if (k.startsWith('volatile.')) config[k] = v;
          tx.put(instances, { ...cur, config: withVolatile(config, res.instance) ?? config, devices: snap.devices, profiles: snap.profiles, ephemeral: snap.ephemeral, status: observedStatus(res.instance) });
          touchMemberAllocation(tx, cur.location, `instance "${name}" restored`);
        },
        () => false,
      );
      instanceEvent(ctx, project, LifecycleAction.InstanceRestored, url, requestor, { snapshot });
    },
  });
}

/**
 * `POST /1.0/instances/<name>`: rename (the instance must be stopped, as in LXD). Moves between
 * members, pools and projects are refused (INVALID_ARGUMENT naming what is not supported).
 */
export async function postInstance(ctx: InstanceContext, project: string, name: string, b: InstancePost, target: string | undefined, requestId: string, requestor: EventLifecycleRequestor): Promise<{ op: Operation; location: string }> {
  const r = await requireInstance(ctx, project, name);
  checkCreated(r);
  if (b.migration || target) {
    if (target === r.location && !b.name) throw errors.invalid(`Instance "${name}" is already on member "${target}"`);
    throw errors.invalid('Moving instances between members is not supported yet');
  }
  if (b.pool) throw errors.invalid('Moving instances between storage pools is not supported');
  if (b.project && b.project !== project) throw errors.invalid('Moving instances between projects is not supported');
  const to = b.name ?? '';
  if (to === '') throw errors.invalid('A new name is required');
  checkInstanceName(to);
  if (to === name) throw errors.invalid(`Instance "${name}" already has this name`);
  if (r.status !== 'Stopped') throw errors.precondition('Renaming of running instance not allowed');
  const view = await ctx.store.view();
  if (view.get(instances, project, to)) throw errors.exists(`Name "${to}" already in use`);
  const op = await ctx.operations.createTask({
    type: 'instance-rename',
    description: 'Renaming instance',
    project,
    resources: { instances: [instanceUrl(project, name)] },
    requestId,
    run: async (o) => {
      const agent = ctx.agent(r.location);
      await agent.unary('renameInstance', { operationId: o.id, project, name, newName: to }, { signal: o.signal, timeoutMs: 120_000 });
      try {
        await updateSettled(
          ctx.store,
          ctx.clock,
          (tx) => {
            const cur = tx.require(instances, project, name).record;
            const snaps = tx.list(instanceSnapshots, project, name).map((s) => s.record);
            tx.delete(instances, project, name);
            tx.create(instances, { ...cur, name: to });
            for (const s of snaps) tx.create(instanceSnapshots, { ...s, instance: to });
          },
          (v) => v.get(instances, project, to) !== undefined && v.get(instances, project, name) === undefined,
        );
      } catch (err) {
        // Put the host back under the old name so the record and the host agree again.
        await agent.unary('renameInstance', { operationId: `${o.id}-revert`, project, name: to, newName: name }, { timeoutMs: 120_000 });
        throw err;
      }
      instanceEvent(ctx, project, LifecycleAction.InstanceRenamed, instanceUrl(project, to), requestor, { old_name: name });
    },
  });
  return { op, location: instanceUrl(project, to) };
}
