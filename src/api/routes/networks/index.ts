/**
 * `/1.0/networks` (LXD lxd/networks.go): managed bridge networks from the database (two-phase
 * create with `?target=`, PUT/PATCH, delete from every member) listed together with this member's
 * own interfaces as unmanaged ones, `/state` (a member's bridge through its agent, or a host
 * interface) and `/leases` (DHCP leases of every member, or of `?target=`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkProjectAccess, requestorOf, type Identity } from '../../auth.js';
import type { ApiDeps } from '../../deps.js';
import { matchFilter } from '../../filter.js';
import { findHostInterface, hostInterfaceState, listHostInterfaces, type HostInterface } from '../../networks/host-interfaces.js';
import { updateNetwork } from '../../networks/network-update.js';
import { NETWORK_PROJECT, createNetworkEverywhere, defineNetworkOnMember, deleteNetworkEverywhere, toApiNetwork } from '../../networks/networks.js';
import { CommonQuery, commonParams } from '../../query.js';
import { checkIfMatch, created, sync, syncEmpty, withEtag } from '../../response.js';
import { requireAgents } from '../../storage/fan-out.js';
import { errors } from '../../../shared/index.js';
import { members, networkMembers, networks, type StateStore } from '../../../state/index.js';
import { EmptySyncResponse, LifecycleAction, Network, NetworkLease, NetworkPost, NetworkPut, NetworkState, NetworksPost, SyncResponse, type Network as NetworkT } from '../../types/index.js';

const NameParams = Type.Object({ name: Type.String() });

function access(identity: Identity, project: string): void {
  const denied = checkProjectAccess(identity, project);
  if (denied) throw denied;
}

const etagOf = (n: { description: string; config: Readonly<Record<string, string>> }): unknown => ({ description: n.description, config: n.config });

function unmanaged(i: HostInterface): NetworkT {
  return { name: i.name, type: i.type, description: '', config: {}, managed: false, status: '', used_by: [], locations: [] };
}

/** Routes of `/1.0/networks`. */
export function networkRoutes(deps: ApiDeps, store: StateStore): FastifyPluginAsyncTypebox {
  const log = deps.log.child({ component: 'api-networks' });
  const agents = () => requireAgents(deps.agents, 'Networks');
  const createdOn = (name: string, view: Awaited<ReturnType<StateStore['view']>>): string[] =>
    view.list(networkMembers, NETWORK_PROJECT, name).filter((p) => p.record.state === 'Created').map((p) => p.record.member);

  return async (app) => {
    app.get(
      '/1.0/networks',
      { config: { access: 'trusted' }, schema: { querystring: CommonQuery, response: { 200: SyncResponse(Type.Union([Type.Array(Network), Type.Array(Type.String())])) } } },
      async (req) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        const view = await store.view();
        const target = q.target;
        const records = view.list(networks, NETWORK_PROJECT).map((s) => s.record);
        const shown = target === undefined ? records : records.filter((r) => view.get(networkMembers, NETWORK_PROJECT, r.name, target) !== undefined);
        const managed = shown.map((r) => toApiNetwork(view, r, target));
        const names = new Set(managed.map((n) => n.name));
        const host = (await listHostInterfaces()).filter((i) => !names.has(i.name)).map(unmanaged);
        const all = [...managed, ...host].sort((a, b) => a.name.localeCompare(b.name)).filter((n) => matchFilter(n, q.filter));
        return sync(q.recursion > 0 ? all : all.map((n) => `/1.0/networks/${n.name}`));
      },
    );

    app.post('/1.0/networks', { config: { access: 'admin' }, schema: { querystring: CommonQuery, body: NetworksPost } }, async (req, reply) => {
      const q = commonParams(req.query);
      const b = req.body;
      const spec = { name: b.name, type: b.type, description: b.description ?? '', config: { ...(b.config ?? {}) } };
      if (q.project !== NETWORK_PROJECT) throw errors.invalid(`Bridge networks can only be created in the "default" project`);
      if (q.target !== undefined) {
        const view = await store.view();
        if (!view.get(members, q.target)) throw errors.notFound(`Cluster member "${q.target}" not found`);
        await defineNetworkOnMember(store, spec, q.target);
        return created(reply, `/1.0/networks/${b.name}`);
      }
      if ((await findHostInterface(b.name)) !== undefined) throw errors.exists(`Network "${b.name}" already exists as an unmanaged interface`);
      await createNetworkEverywhere(store, deps.agents, spec, log, deps.clock);
      deps.events.lifecycle(NETWORK_PROJECT, LifecycleAction.NetworkCreated, `/1.0/networks/${b.name}`, undefined, requestorOf(req.identity));
      return created(reply, `/1.0/networks/${b.name}`);
    });

    app.get(
      '/1.0/networks/:name',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(Network) } } },
      async (req, reply) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        const view = await store.view();
        if (q.target !== undefined && !view.get(members, q.target)) throw errors.notFound(`Cluster member "${q.target}" not found`);
        const rec = view.get(networks, NETWORK_PROJECT, req.params.name)?.record;
        if (!rec) {
          const i = await findHostInterface(req.params.name);
          if (!i) throw errors.notFound(`Network "${req.params.name}" not found`);
          return sync(unmanaged(i));
        }
        const n = toApiNetwork(view, rec, q.target);
        return withEtag(reply, etagOf(n), sync(n));
      },
    );

    for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
      app[method](
        '/1.0/networks/:name',
        { config: { access: 'admin' }, schema: { params: NameParams, querystring: CommonQuery, body: NetworkPut, response: { 200: EmptySyncResponse } } },
        async (req) => {
          const q = commonParams(req.query);
          if (q.target !== undefined && Object.keys(req.body.config ?? {}).length > 0) throw errors.invalid('Bridge networks have no member-specific keys the agents implement');
          await updateNetwork(store, deps.agents, {
            name: req.params.name,
            mode,
            description: req.body.description,
            config: req.body.config ?? undefined,
            check: (cur) => checkIfMatch(req, etagOf(cur)),
            log,
          });
          deps.events.lifecycle(NETWORK_PROJECT, LifecycleAction.NetworkUpdated, `/1.0/networks/${req.params.name}`, undefined, requestorOf(req.identity));
          return syncEmpty();
        },
      );
    }

    app.post('/1.0/networks/:name', { config: { access: 'admin' }, schema: { params: NameParams, querystring: CommonQuery, body: NetworkPost } }, async () => {
      throw errors.invalid('Renaming clustered network not supported');
    });

    app.delete(
      '/1.0/networks/:name',
      { config: { access: 'admin' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: EmptySyncResponse } } },
      async (req) => {
        await deleteNetworkEverywhere(store, deps.agents, req.params.name, log);
        deps.events.lifecycle(NETWORK_PROJECT, LifecycleAction.NetworkDeleted, `/1.0/networks/${req.params.name}`, undefined, requestorOf(req.identity));
        return syncEmpty();
      },
    );

    app.get(
      '/1.0/networks/:name/state',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(NetworkState) } } },
      async (req) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        const view = await store.view();
        if (!view.get(networks, NETWORK_PROJECT, req.params.name)) return sync(await hostInterfaceState(req.params.name));
        const on = createdOn(req.params.name, view);
        const self = deps.serverInfo.memberName();
        const member = q.target ?? (on.includes(self) ? self : on[0]);
        if (member === undefined || !on.includes(member)) throw errors.notFound(`Network "${req.params.name}" is not created on member "${member ?? self}"`);
        const s = (await agents().client(member).unary('getNetworkState', { name: req.params.name })).state;
        return sync({
          addresses: (s?.addresses ?? []).map((a) => ({ family: a.family, address: a.address, netmask: a.netmask, scope: a.scope })),
          counters: {
            bytes_received: s?.counters?.bytesReceived ?? 0,
            bytes_sent: s?.counters?.bytesSent ?? 0,
            packets_received: s?.counters?.packetsReceived ?? 0,
            packets_sent: s?.counters?.packetsSent ?? 0,
          },
          hwaddr: s?.hwaddr ?? '',
          mtu: s?.mtu ?? 0,
          state: s?.state ?? 'down',
          type: 'broadcast',
          bond: null,
          bridge: null,
          vlan: null,
          ovn: null,
        });
      },
    );

    app.get(
      '/1.0/networks/:name/leases',
      { config: { access: 'trusted' }, schema: { params: NameParams, querystring: CommonQuery, response: { 200: SyncResponse(Type.Array(NetworkLease)) } } },
      async (req) => {
        const q = commonParams(req.query);
        access(req.identity, q.project);
        const view = await store.view();
        view.require(networks, NETWORK_PROJECT, req.params.name);
        const on = createdOn(req.params.name, view).filter((m) => q.target === undefined || m === q.target);
        if (q.target !== undefined && on.length === 0) throw errors.notFound(`Network "${req.params.name}" is not created on member "${q.target}"`);
        const per = await Promise.all(
          on.map(async (member) => {
            const r = await agents().client(member).unary('listNetworkLeases', { name: req.params.name });
            return r.leases.map((l) => ({ hostname: l.hostname, hwaddr: l.hwaddr, address: l.address, type: l.type, location: member }));
          }),
        );
        return sync(per.flat());
      },
    );
  };
}
