/**
 * Records every cluster has (LXD creates them at init): project `default` with its `default`
 * profile, cluster group `default`, and the cluster configuration record; and a member's own record
 * with the schema it supports (what `shoald init`/join will write; the cluster issue grows this).
 */
import { clusterConfig, clusterGroups, members, type MemberRecord } from './tables/cluster.js';
import { profiles } from './tables/instances.js';
import { projects } from './tables/projects.js';
import type { WriteTx } from './store/write-tx.js';

/** Creates the default project, profile, cluster group and config when missing. Idempotent. */
export function ensureDefaults(tx: WriteTx): void {
  if (!tx.get(projects, 'default')) {
    tx.create(projects, {
      name: 'default',
      description: 'Default project',
      config: { 'features.images': 'true', 'features.profiles': 'true', 'features.storage.volumes': 'true', 'features.networks': 'true' },
    });
  }
  if (!tx.get(profiles, 'default', 'default')) tx.create(profiles, { name: 'default', project: 'default', description: 'Default profile', config: {}, devices: {} });
  if (!tx.get(clusterConfig)) tx.create(clusterConfig, { config: {} });
  if (!tx.get(clusterGroups, 'default')) tx.create(clusterGroups, { name: 'default', description: 'Default cluster group', members: [], config: {} });
}

/** What a member says about itself. */
export type MemberAdvertisement = Pick<MemberRecord, 'server_name' | 'raft_id' | 'url' | 'architecture' | 'schema_max' | 'resources' | 'last_heartbeat'>;

/**
 * Records `ad` in the member's record (creating it, in group `default`, when missing; then
 * `last_heartbeat` is taken from `ad`, later heartbeats are the cluster's business). Returns false,
 * writing nothing, when the record already says the same. Fails (FAILED_PRECONDITION) when the
 * member supports an older schema than the cluster's.
 */
export function advertiseMember(tx: WriteTx, ad: MemberAdvertisement): boolean {
  ensureDefaults(tx);
  const cur = tx.get(members, ad.server_name);
  if (!cur) {
    tx.create(members, { ...ad, description: '', roles: [], failure_domain: 'default', config: {}, state: 'Created' });
    const g = tx.require(clusterGroups, 'default');
    if (!g.record.members.includes(ad.server_name)) tx.update(clusterGroups, { ...g.record, members: [...g.record.members, ad.server_name] });
    return true;
  }
  const r = cur.record;
  const resources = { ...ad.resources, storage_pools: { ...r.resources.storage_pools, ...ad.resources.storage_pools } };
  if (r.raft_id === ad.raft_id && r.url === ad.url && r.architecture === ad.architecture && r.schema_max === ad.schema_max && JSON.stringify(r.resources) === JSON.stringify(resources)) return false;
  tx.update(members, { ...r, raft_id: ad.raft_id, url: ad.url, architecture: ad.architecture, schema_max: ad.schema_max, resources });
  return true;
}
