/**
 * `/1.0/instances/<name>/snapshots[/<snap>]` (LXD instance_snapshot.go): create, rename, delete
 * go to the agent first (keyed by the operation id), then the `instance-snapshots` table; a table
 * write that fails after the agent acted is undone on the agent. `expires_at` edits are
 * database-only. The snapshot record keeps the instance's config, devices and profiles at the
 * time it was taken (restore brings them back).
 */
import { errors } from '../../shared/index.js';
import { instanceSnapshots, instances, type InstanceSnapshotRecord } from '../../state/index.js';
import { LifecycleAction, type EventLifecycleRequestor, type InstanceSnapshotsPost, type Operation } from '../types/index.js';
import { updateSettled } from './commit.js';
import { instanceEvent, type InstanceContext } from './context.js';
import { isNotFound } from './host.js';
import { checkCreated, requireInstance } from './lifecycle.js';
import { checkSnapshotName, nextSnapshotName } from './names.js';
import { instanceUrl } from './render.js';

/** An `expires_at` → ISO string, or null for none (absent, Go's zero time). INVALID_ARGUMENT when unparsable. */
function parseExpiry(v: string | undefined): string | null {
  if (v === undefined || v === '' || v.startsWith('0001-')) return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw errors.invalid(`Invalid expires_at "${v}"`);
  return d.toISOString();
}

function snapUrl(project: string, name: string, snap: string): string {
  return instanceUrl(project, name, `/snapshots/${encodeURIComponent(snap)}`);
}

/** The snapshot record; NOT_FOUND `Snapshot "x" not found`. */
export async function requireSnapshot(ctx: InstanceContext, project: string, name: string, snap: string): Promise<InstanceSnapshotRecord> {
  await requireInstance(ctx, project, name);
  const s = (await ctx.store.view()).get(instanceSnapshots, project, name, snap)?.record;
  if (!s) throw errors.notFound(`Snapshot "${snap}" not found`);
  return s;
}

/** `POST …/snapshots`: name defaults to `snapshots.pattern` (snap%d); stateful refused. */
export async function createSnapshot(ctx: InstanceContext, project: string, name: string, b: InstanceSnapshotsPost, requestId: string, requestor: EventLifecycleRequestor): Promise<Operation> {
  if (b.stateful) throw errors.invalid('Stateful snapshots are not supported');
  const view = await ctx.store.view();
  const r = view.get(instances, project, name)?.record;
  if (!r) throw errors.notFound(`Instance "${name}" not found`);
  checkCreated(r);
  const taken = new Set(view.list(instanceSnapshots, project, name).map((s) => s.record.name));
  const snap = b.name && b.name !== '' ? b.name : nextSnapshotName(r.config['snapshots.pattern'] ?? 'snap%d', taken);
  checkSnapshotName(snap);
  if (taken.has(snap)) throw errors.exists(`Snapshot "${snap}" already exists`);
  const expiresAt = parseExpiry(b.expires_at ?? undefined);
  return ctx.operations.createTask({
    type: 'snapshot-create',
    description: 'Snapshotting instance',
    project,
    resources: { instances: [instanceUrl(project, name)], instances_snapshots: [snapUrl(project, name, snap)] },
    requestId,
    run: async (op) => {
      const agent = ctx.agent(r.location);
      await agent.unary('createInstanceSnapshot', { operationId: op.id, project, name, snapshot: snap }, { signal: op.signal, timeoutMs: 300_000 });
      try {
        await updateSettled(
          ctx.store,
          ctx.clock,
          (tx) => {
            const cur = tx.require(instances, project, name).record;
            tx.create(instanceSnapshots, {
              name: snap,
              instance: name,
              project,
              description: cur.description,
              config: { ...cur.config },
              devices: structuredClone(cur.devices) as InstanceSnapshotRecord['devices'],
              profiles: [...cur.profiles],
              ephemeral: cur.ephemeral,
              stateful: false,
              created_at: new Date(ctx.clock.now()).toISOString(),
              expires_at: expiresAt,
            });
          },
          (v) => v.get(instanceSnapshots, project, name, snap) !== undefined,
        );
      } catch (err) {
        await agent.unary('deleteInstanceSnapshot', { operationId: `${op.id}-revert`, project, name, snapshot: snap }, { timeoutMs: 120_000 });
        throw err;
      }
      instanceEvent(ctx, project, LifecycleAction.InstanceSnapshotCreated, snapUrl(project, name, snap), requestor);
    },
  });
}

/** `DELETE …/snapshots/<snap>`: agent (absent = done), then the record. */
export async function deleteSnapshot(ctx: InstanceContext, project: string, name: string, snap: string, requestId: string, requestor: EventLifecycleRequestor): Promise<Operation> {
  const r = await requireInstance(ctx, project, name);
  await requireSnapshot(ctx, project, name, snap);
  return ctx.operations.createTask({
    type: 'snapshot-delete',
    description: 'Deleting snapshot',
    project,
    resources: { instances: [instanceUrl(project, name)], instances_snapshots: [snapUrl(project, name, snap)] },
    requestId,
    run: async (op) => {
      try {
        await ctx.agent(r.location).unary('deleteInstanceSnapshot', { operationId: op.id, project, name, snapshot: snap }, { signal: op.signal, timeoutMs: 300_000 });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await updateSettled(
        ctx.store,
        ctx.clock,
        (tx) => {
          if (tx.get(instanceSnapshots, project, name, snap)) tx.delete(instanceSnapshots, project, name, snap);
        },
        (v) => !v.get(instanceSnapshots, project, name, snap),
      );
      instanceEvent(ctx, project, LifecycleAction.InstanceSnapshotDeleted, snapUrl(project, name, snap), requestor);
    },
  });
}

/** `POST …/snapshots/<snap>` {name}: rename (migration refused). */
export async function renameSnapshot(
  ctx: InstanceContext,
  project: string,
  name: string,
  snap: string,
  b: { name?: string | undefined; migration?: boolean | undefined },
  requestId: string,
  requestor: EventLifecycleRequestor,
): Promise<{ op: Operation; location: string }> {
  if (b.migration) throw errors.invalid('Copying or moving snapshots between members is not supported');
  const to = b.name ?? '';
  checkSnapshotName(to);
  const r = await requireInstance(ctx, project, name);
  await requireSnapshot(ctx, project, name, snap);
  if ((await ctx.store.view()).get(instanceSnapshots, project, name, to)) throw errors.exists(`Name "${to}" already in use`);
  const op = await ctx.operations.createTask({
    type: 'snapshot-rename',
    description: 'Renaming snapshot',
    project,
    resources: { instances: [instanceUrl(project, name)], instances_snapshots: [snapUrl(project, name, snap)] },
    requestId,
    run: async (o) => {
      const agent = ctx.agent(r.location);
      await agent.unary('renameInstanceSnapshot', { operationId: o.id, project, name, snapshot: snap, newName: to }, { signal: o.signal, timeoutMs: 120_000 });
      try {
        await updateSettled(
          ctx.store,
          ctx.clock,
          (tx) => {
            const cur = tx.require(instanceSnapshots, project, name, snap).record;
            tx.delete(instanceSnapshots, project, name, snap);
            tx.create(instanceSnapshots, { ...cur, name: to });
          },
          (v) => v.get(instanceSnapshots, project, name, to) !== undefined && !v.get(instanceSnapshots, project, name, snap),
        );
      } catch (err) {
        await agent.unary('renameInstanceSnapshot', { operationId: `${o.id}-revert`, project, name, snapshot: to, newName: snap }, { timeoutMs: 120_000 });
        throw err;
      }
      instanceEvent(ctx, project, LifecycleAction.InstanceSnapshotRenamed, snapUrl(project, name, to), requestor, { old_name: snap });
    },
  });
  return { op, location: snapUrl(project, name, to) };
}

/** `PUT|PATCH …/snapshots/<snap>` {expires_at}: database only. */
export async function updateSnapshot(ctx: InstanceContext, project: string, name: string, snap: string, expiresAt: string | undefined, check: (cur: InstanceSnapshotRecord) => void, requestor: EventLifecycleRequestor): Promise<void> {
  const value = parseExpiry(expiresAt);
  await ctx.store.update((tx) => {
    if (!tx.get(instances, project, name)) throw errors.notFound(`Instance "${name}" not found`);
    const cur = tx.get(instanceSnapshots, project, name, snap)?.record;
    if (!cur) throw errors.notFound(`Snapshot "${snap}" not found`);
    check(cur);
    tx.put(instanceSnapshots, { ...cur, expires_at: value });
  });
  instanceEvent(ctx, project, LifecycleAction.InstanceSnapshotUpdated, snapUrl(project, name, snap), requestor);
}
