/**
 * Start-up recovery: the agent brings its host back to its local desired state on its own.
 *
 * 1. Mount pools, start networks (both idempotent).
 * 2. Instances left mid-operation: a `creating` one is rolled back (nothing of it remains), a
 *    `deleting` one is deleted to the end.
 * 3. Operations left running are closed in the ledger: a DeleteInstance finished in step 2 is
 *    recorded as succeeded; a CreateNetwork without a network record is rolled back; all others
 *    fail with ABORTED (retryable): the leader re-drives them with the same operation id, which
 *    runs them again (drivers are idempotent).
 * 4. Instances: running ones are adopted; a stopped ephemeral instance is deleted (LXD deletes
 *    them on stop); then the instance driver plans the autostarts (`boot.autostart` true, or unset
 *    and last asked to run: LXD's `volatile.last_state.power` rule, with priority and delay) and
 *    each one goes through the service's start path (lock, network entries, `start` templates).
 *
 * Steps 2 and 4 hold each instance's lock and re-read its record under it: stop events are
 * handled concurrently (an ephemeral instance that stopped while the agent was down is reported
 * at once and removed by its handler), and whichever comes second finds nothing left to do.
 *
 * A failure on one object is logged and does not stop the others.
 */
import { ErrorCode, errorMessage, errors } from '../shared/index.js';
import { allValues } from './agent-db.js';
import { currentStatus, instanceLocks, removeInstance } from './instance-common.js';
import { instanceKey, type InstanceRecord } from './local-records.js';
import { LifecycleService } from './service-lifecycle.js';
import type { ServiceContext } from './service-context.js';
import { InstanceStatus } from './types.js';

/** What recovery did, for logs and tests. */
export interface RecoveryReport {
  readonly poolsMounted: readonly string[];
  readonly networksStarted: readonly string[];
  readonly rolledBack: readonly string[];
  readonly deleted: readonly string[];
  readonly autostarted: readonly string[];
  readonly adopted: readonly string[];
  readonly operationsClosed: readonly string[];
  readonly failures: readonly string[];
}

export async function recover(ctx: ServiceContext, signal: AbortSignal): Promise<RecoveryReport> {
  const log = ctx.log.child({ phase: 'recovery' });
  const report = {
    poolsMounted: [] as string[],
    networksStarted: [] as string[],
    rolledBack: [] as string[],
    deleted: [] as string[],
    autostarted: [] as string[],
    adopted: [] as string[],
    operationsClosed: [] as string[],
    failures: [] as string[],
  };
  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      // Recovery goes on with the other objects; the failure is reported and logged.
      report.failures.push(`${what}: ${errorMessage(err)}`);
      log.error({ err, what }, 'recovery step failed');
    }
  };

  // 1. Pools and networks.
  for (const pool of await allValues(ctx.db.pools)) {
    await attempt(`mount pool "${pool.spec.name}"`, async () => {
      await ctx.storage(pool.spec).mountPool(pool.spec, signal);
      report.poolsMounted.push(pool.spec.name);
    });
  }
  for (const net of await allValues(ctx.db.networks)) {
    await attempt(`start network "${net.spec.name}"`, async () => {
      await ctx.drivers.network.start(net.spec, signal);
      report.networksStarted.push(net.spec.name);
    });
  }

  /** Runs `fn` under the instance's lock with its current record; nothing when it is gone. */
  const withRecord = (seen: InstanceRecord, fn: (rec: InstanceRecord) => Promise<void>): Promise<void> =>
    ctx.locks.with(instanceLocks(seen.spec), async () => {
      const rec = await ctx.db.instances.get(instanceKey(seen.spec.project, seen.spec.name));
      if (rec && rec.hostName === seen.hostName) await fn(rec);
    });

  // 2. Instances left mid-create or mid-delete.
  for (const seen of await allValues(ctx.db.instances)) {
    if (seen.phase === 'created') continue;
    await attempt(`${seen.phase === 'creating' ? 'roll back' : 'finish deleting'} instance "${seen.spec.name}"`, () =>
      withRecord(seen, async (rec) => {
        if (rec.phase === 'created') return;
        await removeInstance(ctx, rec, signal);
        (rec.phase === 'creating' ? report.rolledBack : report.deleted).push(rec.spec.name);
      }),
    );
  }

  // 3. Operations left running by the previous process.
  for (const op of await ctx.ledger.unfinished()) {
    await attempt(`close operation "${op.id}"`, async () => {
      const req = (op.request ?? {}) as Readonly<Record<string, unknown>>;
      if (op.method === 'DeleteInstance') {
        const gone = !(await ctx.db.instances.get(instanceKey(String(req['project']), String(req['name']))));
        if (gone) {
          await ctx.ledger.complete(op.id, null);
          report.operationsClosed.push(op.id);
          return;
        }
      }
      if (op.method === 'CreateNetwork' && typeof req['name'] === 'string' && !(await ctx.db.networks.get(req['name']))) {
        await ctx.drivers.network.delete(req['name'], signal);
      }
      await ctx.ledger.abandon(op.id, {
        code: ErrorCode.Aborted,
        message: `Operation ${op.method} was interrupted by an agent restart`,
        retryable: true,
      });
      report.operationsClosed.push(op.id);
    });
  }

  // 4. Adopt running instances, delete stopped ephemeral ones, then let the driver autostart
  //    (boot.autostart, last power state, priority and delay are the driver's: it saw every stop).
  for (const seen of await allValues(ctx.db.instances)) {
    if (seen.phase !== 'created') continue;
    await attempt(`recover instance "${seen.spec.name}"`, () =>
      withRecord(seen, async (rec) => {
        if (rec.phase !== 'created') return;
        const status = await currentStatus(ctx, rec.hostName, signal);
        if (status !== InstanceStatus.Stopped) {
          report.adopted.push(rec.spec.name);
        } else if (rec.spec.ephemeral) {
          await removeInstance(ctx, rec, signal);
          report.deleted.push(rec.spec.name);
        }
      }),
    );
  }
  // Autostart through the service's start path (agent-findings F2): the driver only plans and paces.
  const lifecycle = new LifecycleService(ctx);
  const startOne = async (hostName: string, startSignal: AbortSignal): Promise<void> => {
    const seen = (await allValues(ctx.db.instances)).find((r) => r.hostName === hostName && r.phase === 'created');
    if (!seen) throw errors.notFound(`Instance "${hostName}" not found`);
    await withRecord(seen, async (rec) => {
      if (rec.phase === 'created') await lifecycle.startLocked(rec, startSignal);
    });
  };
  await attempt('autostart', async () => {
    for (const r of await ctx.drivers.instance.autostart(signal, startOne)) {
      if (r.started) report.autostarted.push(r.hostName);
      else report.failures.push(`autostart "${r.hostName}": ${errorMessage(r.error)}`);
    }
  });

  log.info(report, 'recovery finished');
  return report;
}
