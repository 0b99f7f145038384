/**
 * `PUT /1.0/instances/<name>/state` and `DELETE /1.0/instances/<name>` (LXD instance_state.go,
 * instance_delete.go) as operations: the agent of the instance's member does the work (keyed by
 * the operation id), and the observed status it reports is written to the instances table after
 * every call — also after a failed one, re-read from the agent, so the table never keeps a
 * status the host no longer has.
 */
import { ErrorCode, ShoalError, errors } from '../../shared/index.js';
import { isTrue } from '../query.js';
import { instances, type InstanceRecord } from '../../state/index.js';
import type * as pb from '../../../proto/gen/shoal/agent/v1/agent.js';
import { LifecycleAction, type EventLifecycleRequestor, type InstanceStatePut, type Operation } from '../types/index.js';
import { updateSettled, writeStatus } from './commit.js';
import { instanceEvent, type InstanceContext } from './context.js';
import { isNotFound, observedStatus, withVolatile, type Agent } from './host.js';
import { instanceUrl } from './render.js';

/** The instance's record, NOT_FOUND `Instance "x" not found` (LXD's words) when absent. */
export async function requireInstance(ctx: InstanceContext, project: string, name: string): Promise<InstanceRecord> {
  const r = (await ctx.store.view()).get(instances, project, name)?.record;
  if (!r) throw errors.notFound(`Instance "${name}" not found`);
  return r;
}

/** Refuses work on an instance whose creation is still being carried out. */
export function checkCreated(r: InstanceRecord): void {
  if (r.status === 'Creating') throw errors.precondition(`Instance "${r.name}" is still being created`);
}

/** LXD `timeout` (seconds, -1 or 0 = the default / forever) → agent `timeout_ms` (0 = 30 s). */
function timeoutMsOf(timeout: number | undefined): number {
  if (timeout === undefined || timeout <= 0) return timeout === -1 ? 0xffff_ffff : 0;
  return Math.min(timeout * 1000, 0xffff_ffff);
}

/**
 * Starts the state change. Sync refusals: stateful (not supported), an instance being created.
 * The operation refuses what LXD refuses inside its operation ("The instance is already running"…).
 */
export async function changeState(
  ctx: InstanceContext,
  project: string,
  name: string,
  body: InstanceStatePut,
  requestId: string,
  requestor: EventLifecycleRequestor,
): Promise<Operation> {
  if (body.stateful) throw errors.invalid('Stateful start and stop are not supported');
  const r = await requireInstance(ctx, project, name);
  checkCreated(r);
  const url = instanceUrl(project, name);
  const description = { start: 'Starting instance', stop: 'Stopping instance', restart: 'Restarting instance', freeze: 'Freezing instance', unfreeze: 'Unfreezing instance' }[body.action];
  return ctx.operations.createTask({
    type: `instance-${body.action}`,
    description,
    project,
    resources: { instances: [url] },
    requestId,
    run: async (op) => {
      const agent = ctx.agent(r.location);
      const ref = { project, name };
      const callOpts = { signal: op.signal, timeoutMs: body.timeout !== undefined && body.timeout > 0 ? body.timeout * 1000 + 30_000 : body.timeout === -1 ? 0 : 300_000 };
      try {
        const current = observedStatus((await agent.unary('getInstance', ref, { signal: op.signal })).instance);
        checkTransition(body.action, current);
        let inst: pb.Instance | undefined;
        let action: string;
        switch (body.action) {
          case 'start':
            inst = (await agent.unary('startInstance', { operationId: op.id, ...ref }, callOpts)).instance;
            action = LifecycleAction.InstanceStarted;
            break;
          case 'stop': {
            const res = await agent.unary('stopInstance', { operationId: op.id, ...ref, force: body.force ?? false, timeoutMs: timeoutMsOf(body.timeout) }, callOpts);
            if (res.deleted) {
              // An ephemeral instance is gone once stopped (LXD deletes it too).
              await deleteRecord(ctx, project, name);
              instanceEvent(ctx, project, LifecycleAction.InstanceDeleted, url, requestor);
              return;
            }
            inst = res.instance;
            action = body.force ? LifecycleAction.InstanceStopped : LifecycleAction.InstanceShutdown;
            break;
          }
          case 'restart':
            inst = (await agent.unary('restartInstance', { operationId: op.id, ...ref, force: body.force ?? false, timeoutMs: timeoutMsOf(body.timeout) }, callOpts)).instance;
            action = LifecycleAction.InstanceRestarted;
            break;
          case 'freeze':
            inst = (await agent.unary('freezeInstance', { operationId: op.id, ...ref }, callOpts)).instance;
            action = LifecycleAction.InstancePaused;
            break;
          case 'unfreeze':
            inst = (await agent.unary('unfreezeInstance', { operationId: op.id, ...ref }, callOpts)).instance;
            action = LifecycleAction.InstanceResumed;
            break;
        }
        await writeStatus(ctx.store, ctx.clock, project, name, observedStatus(inst), (cur) => withVolatile(cur, inst));
        instanceEvent(ctx, project, action, url, requestor);
      } catch (err) {
        await refreshStatus(ctx, agent, r);
        throw err;
      }
    },
  });
}

/** LXD's refusals of a pointless transition (lxd/instance_state.go). */
function checkTransition(action: InstanceStatePut['action'], status: string): void {
  const refuse = (m: string): never => {
    throw new ShoalError(ErrorCode.FailedPrecondition, m);
  };
  switch (action) {
    case 'start':
      if (status === 'Running') refuse('The instance is already running');
      if (status === 'Frozen') refuse('The instance is frozen: unfreeze it');
      break;
    case 'stop':
      if (status === 'Stopped') refuse('The instance is already stopped');
      break;
    case 'restart':
      if (status !== 'Running') refuse('The instance cannot be restarted: it is not running');
      break;
    case 'freeze':
      if (status === 'Frozen') refuse('The instance is already frozen');
      if (status !== 'Running') refuse('The instance is not running');
      break;
    case 'unfreeze':
      if (status !== 'Frozen') refuse('The instance is not frozen');
      break;
  }
}

/** After a failed call: record what the agent now reports (best effort; the reconciler catches up otherwise). */
async function refreshStatus(ctx: InstanceContext, agent: Agent, r: InstanceRecord): Promise<void> {
  try {
    const inst = (await agent.unary('getInstance', { project: r.project, name: r.name }, { timeoutMs: 10_000 })).instance;
    await writeStatus(ctx.store, ctx.clock, r.project, r.name, observedStatus(inst));
  } catch (err) {
    // The operation reports the original failure; instance-status.ts corrects the table later.
    ctx.log.warn({ err, instance: r.name, project: r.project }, 'could not refresh instance status after a failed call');
  }
}

/**
 * `DELETE /1.0/instances/<name>`. Sync refusals as LXD: a running instance ("Instance is
 * running"), `security.protection.delete`. The operation deletes on the agent (absent = done),
 * then the record and its snapshots.
 */
export async function deleteInstance(ctx: InstanceContext, project: string, name: string, requestId: string, requestor: EventLifecycleRequestor): Promise<Operation> {
  const r = await requireInstance(ctx, project, name);
  checkCreated(r);
  if (r.status === 'Running' || r.status === 'Frozen') throw errors.precondition('Instance is running');
  if (isTrue(r.config['security.protection.delete'])) throw errors.precondition('Instance is protected from being deleted');
  const url = instanceUrl(project, name);
  return ctx.operations.createTask({
    type: 'instance-delete',
    description: 'Deleting instance',
    project,
    resources: { instances: [url] },
    requestId,
    run: async (op) => {
      const agent = ctx.agent(r.location);
      try {
        await agent.unary('deleteInstance', { operationId: op.id, project, name }, { signal: op.signal, timeoutMs: 300_000 });
      } catch (err) {
        if (!isNotFound(err)) {
          await refreshStatus(ctx, agent, r);
          throw err;
        }
      }
      await deleteRecord(ctx, project, name);
      instanceEvent(ctx, project, LifecycleAction.InstanceDeleted, url, requestor);
    },
  });
}

/** Deletes the record (and with it its snapshots); survives a cut-off commit. */
export async function deleteRecord(ctx: InstanceContext, project: string, name: string): Promise<void> {
  await updateSettled(
    ctx.store,
    ctx.clock,
    (tx) => {
      if (tx.get(instances, project, name)) tx.delete(instances, project, name);
    },
    (view) => !view.get(instances, project, name),
  );
}
