/**
 * Managed bridge networks across the cluster (LXD lxd/networks.go), with the same two-phase create
 * as storage pools: `POST ?target=<member>` records a Pending member part, the final `POST` creates
 * the bridge on every member through its node agent. The first member resolves `auto` values
 * (the subnet); the others get the concrete config, so every member's bridge has the same subnet
 * and gateway (LXD). All or nothing: a member failure deletes the network where it was created
 * and leaves it Errored. Bridge networks live in the `default` project (LXD refuses them elsewhere).
 */
import { errorMessage, errors, newOperationId, type Clock, type Logger } from '../../shared/index.js';
import {
  configKey,
  instances,
  networkMembers,
  networks,
  profiles,
  validateConfig,
  type NetworkRecord,
  type StateStore,
  type StateView,
  type WriteTx,
} from '../../state/index.js';
import type { MemberAgents } from '../ports.js';
import { fanOutError, onEveryMember, requireAgents } from '../storage/fan-out.js';
import { raiseWarningTx, resolveWarningsTx } from '../warnings/warnings.js';
import { activeMembers } from '../storage/pools.js';
import type { Network } from '../types/index.js';

type Reader = StateView | WriteTx;

/** The project bridge networks live in. */
export const NETWORK_PROJECT = 'default';

/** Keys the agents' bridge driver implements (besides `user.*`). */
const BRIDGE_KEYS = new Set([
  'ipv4.address',
  'ipv4.nat',
  'ipv4.dhcp',
  'ipv4.dhcp.ranges',
  'ipv4.dhcp.expiry',
  'ipv4.routing',
  'ipv4.firewall',
  'ipv6.address',
  'ipv6.nat',
  'ipv6.dhcp',
  'ipv6.dhcp.stateful',
  'ipv6.routing',
  'ipv6.firewall',
  'dns.domain',
  'dns.mode',
  'bridge.mtu',
  'bridge.hwaddr',
  'bridge.driver',
  'raw.dnsmasq',
]);

const HOST_WORK_MS = 60_000;

/** INVALID_ARGUMENT for a bad network name (an interface name: ≤ 15 characters). */
export function checkNetworkName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,14}$/.test(name)) throw errors.invalid(`Invalid network name "${name}": at most 15 letters, digits, - or _, starting with a letter`);
}

/** INVALID_ARGUMENT for a type other than bridge. */
export function checkNetworkType(type: string | undefined): void {
  if (type !== undefined && type !== '' && type !== 'bridge') throw errors.invalid(`Network type "${type}" is not supported (supported: bridge)`);
}

/** Registry validation plus what the bridge driver implements. */
export function checkNetworkConfig(config: Readonly<Record<string, string>>): void {
  validateConfig('network', config);
  for (const [k, v] of Object.entries(config)) {
    if (!k.startsWith('user.') && !BRIDGE_KEYS.has(k)) throw errors.invalid(`Config key "${k}" is not supported by bridge networks`);
    if (k === 'ipv6.address' && v !== '' && v !== 'none') throw errors.invalid('IPv6 is not implemented yet: "ipv6.address" must be "none"');
  }
}

const suffix = (project: string): string => (project === 'default' ? '' : `?project=${project}`);
const usesNetwork = (devs: Readonly<Record<string, Readonly<Record<string, string>>>>, name: string): boolean =>
  Object.values(devs).some((d) => d['type'] === 'nic' && (d['network'] === name || d['parent'] === name));

/** LXD's `used_by`: profiles and instances with a nic on the network. */
export function networkUsedBy(view: Reader, name: string): string[] {
  return [
    ...view.list(profiles).filter((p) => usesNetwork(p.record.devices, name)).map((p) => `/1.0/profiles/${p.record.name}${suffix(p.record.project)}`),
    ...view.list(instances).filter((i) => usesNetwork(i.record.devices, name)).map((i) => `/1.0/instances/${i.record.name}${suffix(i.record.project)}`),
  ];
}

/** The API view of a managed network (`target`: that member's keys and state). */
export function toApiNetwork(view: Reader, r: NetworkRecord, target?: string): Network {
  const parts = view.list(networkMembers, r.project, r.name).map((s) => s.record);
  let config: Record<string, string> = { ...r.config };
  let status: string = r.status;
  if (target !== undefined) {
    const part = parts.find((p) => p.member === target);
    if (!part) throw errors.notFound(`Network "${r.name}" is not defined on member "${target}"`);
    config = { ...config, ...part.config };
    status = part.state;
  }
  return {
    name: r.name,
    type: r.type,
    description: r.description,
    config,
    managed: true,
    status,
    used_by: networkUsedBy(view, r.name),
    locations: parts.filter((p) => p.state === 'Created').map((p) => p.member).sort(),
  };
}

/** A network creation request. */
export interface NetworkCreate {
  readonly name: string;
  readonly type: string | undefined;
  readonly description: string;
  readonly config: Readonly<Record<string, string>>;
}

function split(config: Readonly<Record<string, string>>): { cluster: Record<string, string>; member: Record<string, string> } {
  checkNetworkConfig(config);
  const cluster: Record<string, string> = {};
  const member: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) (configKey('network', k)?.scope === 'member' ? member : cluster)[k] = v;
  return { cluster, member };
}

/** `POST ?target=<member>`: the member's Pending part (member-specific keys only). */
export async function defineNetworkOnMember(store: StateStore, req: NetworkCreate, member: string): Promise<void> {
  checkNetworkName(req.name);
  checkNetworkType(req.type);
  const { cluster, member: own } = split(req.config);
  const bad = Object.keys(cluster)[0];
  if (bad !== undefined) throw errors.invalid(`Config key "${bad}" may not be used as member-specific key`);
  await store.update((tx) => {
    const cur = tx.get(networks, NETWORK_PROJECT, req.name)?.record;
    if (cur && cur.status !== 'Pending') throw errors.exists(`Network "${req.name}" already exists`);
    if (tx.get(networkMembers, NETWORK_PROJECT, req.name, member)) throw errors.exists(`Network "${req.name}" is already defined on member "${member}"`);
    if (!cur) tx.create(networks, { name: req.name, project: NETWORK_PROJECT, type: 'bridge', description: req.description, config: {}, status: 'Pending' });
    tx.create(networkMembers, { network: req.name, project: NETWORK_PROJECT, member, config: own, state: 'Pending' });
  });
}

/** The final `POST`: see the module comment. Throws the failing member's error, naming it. */
export async function createNetworkEverywhere(store: StateStore, agentsOrNone: MemberAgents | undefined, req: NetworkCreate, log: Logger, clock: Clock): Promise<void> {
  checkNetworkName(req.name);
  checkNetworkType(req.type);
  const { cluster, member: own } = split(req.config);
  const agents = requireAgents(agentsOrNone, 'Networks');
  let plan: Array<{ member: string; config: Readonly<Record<string, string>> }> = [];
  await store.update((tx) => {
    const everyone = activeMembers(tx);
    const cur = tx.get(networks, NETWORK_PROJECT, req.name)?.record;
    if (cur && cur.status === 'Created') throw errors.exists(`Network "${req.name}" already exists`);
    if (cur && cur.status === 'Errored') throw errors.precondition(`Network "${req.name}" is in Errored state: delete it and create it again`);
    const memberKey = Object.keys(own)[0];
    if (memberKey !== undefined && everyone.length > 1) throw errors.invalid(`Config key "${memberKey}" is member-specific: set it per member with ?target=`);
    if (!cur) {
      if (everyone.length !== 1) throw errors.invalid(`Network "${req.name}" is not pending on any member (use --target <member> first)`);
      tx.create(networks, { name: req.name, project: NETWORK_PROJECT, type: 'bridge', description: req.description, config: cluster, status: 'Pending' });
      tx.create(networkMembers, { network: req.name, project: NETWORK_PROJECT, member: everyone[0]!, config: own, state: 'Pending' });
      plan = [{ member: everyone[0]!, config: own }];
      return;
    }
    const parts = tx.list(networkMembers, NETWORK_PROJECT, req.name).map((s) => s.record);
    const missing = everyone.filter((m) => !parts.some((p) => p.member === m));
    if (missing.length > 0) throw errors.invalid(`Network "${req.name}" is not defined on members ${missing.map((m) => `"${m}"`).join(', ')} (use --target)`);
    tx.put(networks, { ...cur, description: req.description || cur.description, config: cluster });
    plan = everyone.map((m) => ({ member: m, config: parts.find((p) => p.member === m)?.config ?? {} }));
  });

  const create = async (member: string, config: Readonly<Record<string, string>>): Promise<Record<string, string>> => {
    const own = plan.find((p) => p.member === member)?.config ?? {};
    const r = await agents.client(member).unary('createNetwork', { operationId: newOperationId(), network: { name: req.name, type: 'bridge', config: { ...config, ...own }, description: req.description } }, { timeoutMs: HOST_WORK_MS });
    return r.network?.spec?.config ?? {};
  };
  const undo = async (member: string): Promise<void> => {
    await agents.client(member).unary('deleteNetwork', { operationId: newOperationId(), name: req.name }, { timeoutMs: HOST_WORK_MS });
  };
  const [first, ...rest] = plan.map((p) => p.member);
  // The first member resolves `auto` (subnet); the others are given its concrete values.
  const head = await onEveryMember([first!], (m) => create(m, cluster), undo, log);
  let effective: Record<string, string> = { ...cluster };
  let res = head;
  if (head.ok) {
    const resolved = head.results.get(first!) ?? {};
    effective = Object.fromEntries(Object.entries({ ...cluster, ...resolved }).filter(([k]) => configKey('network', k)?.scope === 'cluster'));
    const tail = await onEveryMember(rest, (m) => create(m, effective), undo, log);
    if (!tail.ok) {
      const headUndo = await onEveryMember([first!], undo, async () => undefined, log);
      res = {
        ok: false,
        failed: tail.failed,
        reverted: headUndo.ok ? [...tail.reverted, first!] : tail.reverted,
        remaining: headUndo.ok ? tail.remaining : [...tail.remaining, ...headUndo.failed],
      };
    } else res = { ok: true, results: new Map([...head.results, ...tail.results]) };
  }
  if (!res.ok) {
    const failed = res;
    await store.update((tx) => {
      const cur = tx.get(networks, NETWORK_PROJECT, req.name)?.record;
      if (!cur) return;
      tx.put(networks, { ...cur, status: 'Errored' });
      for (const f of failed.failed) {
        const part = tx.get(networkMembers, NETWORK_PROJECT, req.name, f.member)?.record;
        if (part) tx.put(networkMembers, { ...part, state: 'Errored' });
        raiseWarningTx(tx, clock, { type: 'Network creation failed', location: f.member, entityUrl: `/1.0/networks/${req.name}`, message: errorMessage(f.err) });
      }
      for (const x of failed.remaining) {
        const part = tx.get(networkMembers, NETWORK_PROJECT, req.name, x.member)?.record;
        if (part) tx.put(networkMembers, { ...part, state: 'Created' });
      }
    });
    throw fanOutError(`creating network "${req.name}"`, failed);
  }
  const done = res.results;
  await store.update((tx) => {
    const cur = tx.require(networks, NETWORK_PROJECT, req.name).record;
    tx.put(networks, { ...cur, config: effective, status: 'Created' });
    for (const member of done.keys()) {
      const part = tx.require(networkMembers, NETWORK_PROJECT, req.name, member).record;
      tx.put(networkMembers, { ...part, state: 'Created' });
    }
  });
}

/** Deletes a network from every member where it is created, then from the database (refused while in use). */
export async function deleteNetworkEverywhere(store: StateStore, agentsOrNone: MemberAgents | undefined, name: string, log: Logger): Promise<void> {
  const view = await store.view();
  view.require(networks, NETWORK_PROJECT, name);
  const users = networkUsedBy(view, name);
  if (users.length > 0) throw errors.precondition(`Network "${name}" is currently in use by ${users.slice(0, 5).join(', ')}`);
  const on = view.list(networkMembers, NETWORK_PROJECT, name).filter((p) => p.record.state === 'Created').map((p) => p.record.member);
  if (on.length > 0) {
    const agents = requireAgents(agentsOrNone, 'Networks');
    const res = await onEveryMember(
      on,
      async (m) => {
        try {
          await agents.client(m).unary('deleteNetwork', { operationId: newOperationId(), name }, { timeoutMs: HOST_WORK_MS });
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'NOT_FOUND') throw err;
        }
      },
      async () => undefined, // a deleted bridge is not re-created: the record keeps the others
      log,
    );
    if (!res.ok) {
      const deleted = on.filter((m) => !res.failed.some((f) => f.member === m));
      await store.update((tx) => {
        for (const m of deleted) {
          const part = tx.get(networkMembers, NETWORK_PROJECT, name, m)?.record;
          if (part) tx.put(networkMembers, { ...part, state: 'Pending' });
        }
      });
      throw fanOutError(`deleting network "${name}"`, { ...res, reverted: [] });
    }
  }
  await store.update((tx) => {
    if (tx.get(networks, NETWORK_PROJECT, name)) tx.delete(networks, NETWORK_PROJECT, name);
    resolveWarningsTx(tx, { entityUrl: `/1.0/networks/${name}` });
  });
}
