/**
 * Stops the service did not ask for (`poweroff` inside, init dying, a host reboot seen at start):
 * the instance driver reports them; an ephemeral instance is then removed, as LXD does. Runs
 * under the instance's lock and re-checks the record and the state, so a stop the service made
 * itself (already handled) or a stop followed by a start (restart) changes nothing.
 */
import { errorMessage } from '../shared/index.js';
import type { InstanceStopEvent } from './drivers/instance-driver.js';
import { currentStatus, instanceLocks, removeInstance } from './instance-common.js';
import { instanceKey, type InstanceRecord } from './local-records.js';
import type { ServiceContext } from './service-context.js';
import { InstanceStatus } from './types.js';

/** Handles one stop event. Never throws (failures are logged). */
export async function handleInstanceStop(ctx: ServiceContext, event: InstanceStopEvent, signal: AbortSignal): Promise<void> {
  try {
    let found: InstanceRecord | undefined;
    for await (const rec of ctx.db.instances.values()) if (rec.hostName === event.hostName) found = rec;
    if (!found?.spec.ephemeral) return;
    const { project, name } = found.spec;
    await ctx.locks.with(instanceLocks(found.spec), async () => {
      const rec = await ctx.db.instances.get(instanceKey(project, name));
      if (!rec || rec.phase !== 'created' || rec.hostName !== event.hostName) return;
      if ((await currentStatus(ctx, rec.hostName, signal)) !== InstanceStatus.Stopped) return;
      await removeInstance(ctx, rec, signal);
      ctx.log.info({ instance: name, project }, 'ephemeral instance removed after it stopped');
    });
  } catch (err) {
    // The instance stays (stopped); the next start-up recovery deletes it.
    ctx.log.error({ err: errorMessage(err), instance: event.hostName }, 'removing a stopped ephemeral instance failed');
  }
}
