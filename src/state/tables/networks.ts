/** Networks (LXD Network) and their per-member part (member-specific config and state). */
import { checkConfig, defineTable, inProject } from './define.js';
import { MEMBER_NAME, name, obj, oneOf, str, strMap } from './fields.js';

export interface NetworkRecord {
  readonly name: string;
  readonly project: string;
  readonly type: 'bridge' | 'macvlan' | 'physical' | 'ovn';
  readonly description: string;
  readonly config: Readonly<Record<string, string>>;
  readonly status: 'Pending' | 'Created' | 'Errored' | 'Unknown';
}

const netName = str({ pattern: /^[A-Za-z][A-Za-z0-9_-]{0,14}$/, what: 'an interface name (at most 15 characters)' });

export const networks = defineTable<NetworkRecord, [string, string]>({
  name: 'networks',
  noun: 'Network',
  arity: 2,
  keyOf: (r) => [r.project, r.name],
  describe: ([p, n]) => inProject('Network', n, p),
  check: obj<NetworkRecord>({
    name: netName,
    project: name,
    type: oneOf('bridge', 'macvlan', 'physical', 'ovn'),
    description: str(),
    config: strMap,
    status: oneOf('Pending', 'Created', 'Errored', 'Unknown'),
  }),
  validate: (r) => checkConfig(`network "${r.name}"`, 'network', r.config, 'cluster'),
});

export interface NetworkMemberRecord {
  readonly network: string;
  readonly project: string;
  readonly member: string;
  readonly config: Readonly<Record<string, string>>;
  readonly state: 'Pending' | 'Created' | 'Errored';
}

export const networkMembers = defineTable<NetworkMemberRecord, [string, string, string]>({
  name: 'network-members',
  noun: 'Network member',
  arity: 3,
  keyOf: (r) => [r.project, r.network, r.member],
  describe: ([p, n, m]) => `Network "${n}" (project "${p}") on member "${m}"`,
  check: obj<NetworkMemberRecord>({
    network: netName,
    project: name,
    member: str({ pattern: MEMBER_NAME }),
    config: strMap,
    state: oneOf('Pending', 'Created', 'Errored'),
  }),
  validate: (r) => checkConfig(`network "${r.network}" on member "${r.member}"`, 'network', r.config, 'member'),
});
