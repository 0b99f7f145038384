/**
 * `POST /1.0/cluster/members/<name>/state {action: evacuate|restore}` (LXD clusterNodeStatePost),
 * an async task operation. Evacuate marks the member `Evacuated` (status "Unavailable due to
 * maintenance"; the scheduler places nothing there) and restore marks it `Created` again.
 *
 * Not yet: moving the member's instances away (stop, copy, start through the agents, planned by the
 * scheduler's planEvacuation) needs instance copy between members, which the instance routes do
 * not offer yet; until then evacuating a member that holds instances is refused and says so.
 */
import { errors } from '../../../shared/index.js';
import { instances, members, type WriteTx } from '../../../state/index.js';

/** Applies `action` to member `name` in `tx` (FAILED_PRECONDITION when it makes no sense now). */
export function changeMemberState(tx: WriteTx, name: string, action: 'evacuate' | 'restore'): void {
  const found = tx.get(members, name);
  if (!found) throw errors.notFound(`Member "${name}" not found`);
  const cur = found.record;
  if (cur.state === 'Pending') throw errors.precondition(`Member "${name}" is still joining`);
  if (action === 'restore') {
    if (cur.state !== 'Evacuated') throw errors.precondition(`Member "${name}" is not evacuated`);
    tx.update(members, { ...cur, state: 'Created' });
    return;
  }
  if (cur.state === 'Evacuated') throw errors.precondition(`Member "${name}" is already evacuated`);
  const here = tx.list(instances).filter((i) => i.record.location === name);
  if (here.length > 0) {
    throw errors.precondition(`Member "${name}" still has ${here.length} instance(s): moving instances between members is not available yet; stop and move or delete them first`);
  }
  tx.update(members, { ...cur, state: 'Evacuated' });
}
