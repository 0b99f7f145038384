/**
 * `PUT|PATCH /1.0/cluster/members/<name>` inside one transaction (LXD clusterNodePut/Patch):
 * description, `failure_domain` (empty = `default`; the leader prefers voters in distinct domains,
 * src/cluster/duties.ts), member `config` (validated by the table), `groups` (membership in
 * existing groups) and `roles`: the automatic roles (`database*`) stay what the cluster made them,
 * the manual one (`event-hub`) is the caller's. PUT replaces, PATCH merges.
 */
import { errors } from '../../../shared/index.js';
import { clusterGroups, members, type MemberRecord, type WriteTx } from '../../../state/index.js';
import { ClusterMemberRole, type ClusterMemberPut } from '../../types/index.js';

const AUTOMATIC: readonly string[] = [ClusterMemberRole.Database, ClusterMemberRole.DatabaseLeader, ClusterMemberRole.DatabaseStandby];
/** `ovn-chassis` is not offered: Shoal has no OVN networks. */
const MANUAL: readonly string[] = [ClusterMemberRole.EventHub];

/** What the ETag of a member covers (LXD: the editable fields). */
export function memberEditable(r: MemberRecord, groups: readonly string[]): unknown {
  return { roles: [...r.roles], failure_domain: r.failure_domain, description: r.description, config: { ...r.config }, groups: [...groups] };
}

/** Applies `b` to member `name` in `tx`; `check(editable)` runs first (If-Match). */
export function updateMember(tx: WriteTx, name: string, b: ClusterMemberPut, method: 'PUT' | 'PATCH', check: (editable: unknown) => void): void {
  const found = tx.get(members, name);
  if (!found) throw errors.notFound(`Member "${name}" not found`);
  const cur = found.record;
  const allGroups = tx.list(clusterGroups);
  check(memberEditable(cur, allGroups.filter((g) => g.record.members.includes(name)).map((g) => g.record.name)));
  const put = method === 'PUT';
  let roles = cur.roles;
  if (b.roles !== undefined || put) {
    const asked = b.roles ?? [];
    const bad = asked.find((r) => !AUTOMATIC.includes(r) && !MANUAL.includes(r));
    if (bad !== undefined) throw errors.invalid(`Invalid cluster role "${bad}"`);
    roles = [...cur.roles.filter((r) => AUTOMATIC.includes(r)), ...new Set(asked.filter((r) => MANUAL.includes(r)))] as MemberRecord['roles'];
  }
  const domain = b.failure_domain ?? (put ? '' : cur.failure_domain);
  tx.update(members, {
    ...cur,
    roles,
    failure_domain: domain === '' ? 'default' : domain,
    description: b.description ?? (put ? '' : cur.description),
    config: b.config ?? (put ? {} : cur.config),
  });
  if (b.groups !== undefined) {
    const want = new Set(b.groups);
    for (const g of want) if (!allGroups.some((x) => x.record.name === g)) throw errors.notFound(`Cluster group "${g}" not found`);
    for (const g of allGroups) {
      const has = g.record.members.includes(name);
      if (want.has(g.record.name) && !has) tx.update(clusterGroups, { ...g.record, members: [...g.record.members, name] });
      if (!want.has(g.record.name) && has) tx.update(clusterGroups, { ...g.record, members: g.record.members.filter((m) => m !== name) });
    }
  }
}
