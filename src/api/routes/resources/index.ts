/**
 * `GET /1.0/resources` (LXD lxd/resources.go): the serving member's hardware inventory in LXD's
 * shape, from its node agent (GetResources, GetMemberInfo); `?target=` forwards to that member.
 * The agents report CPU count, memory and architecture; GPU, USB, PCI, disks and network cards
 * are reported empty rather than guessed. Served locally, never forwarded to the leader.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../../deps.js';
import { CommonQuery } from '../../query.js';
import { sync } from '../../response.js';
import { requireAgents } from '../../storage/fan-out.js';
import { Resources, SyncResponse, type Resources as ResourcesT } from '../../types/index.js';

/** Route of `/1.0/resources`. */
export function resourceRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/1.0/resources',
      { config: { access: 'trusted', local: true, memberTarget: true }, schema: { querystring: CommonQuery, response: { 200: SyncResponse(Resources) } } },
      async () => {
        const agent = requireAgents(deps.agents, 'Resources').client(deps.serverInfo.memberName());
        const [r, info] = await Promise.all([agent.unary('getResources', {}), agent.unary('getMemberInfo', {})]);
        const cores = Array.from({ length: r.cpuCount }, (_, i) => ({ core: i, die: 0, threads: [{ id: i, numa_node: 0, thread: 0, online: true, isolated: false }] }));
        const out: ResourcesT = {
          cpu: { architecture: lxdArchitecture(info.architecture), sockets: [{ socket: 0, cores }], total: r.cpuCount },
          memory: { hugepages_total: 0, hugepages_used: 0, hugepages_size: 0, used: r.memoryUsedBytes, total: r.memoryTotalBytes },
          gpu: { cards: [], total: 0 },
          network: { cards: [], total: 0 },
          storage: { disks: [], total: 0 },
          usb: { devices: [], total: 0 },
          pci: { devices: [], total: 0 },
          system: { uuid: '', vendor: '', product: '', family: '', version: '', sku: '', serial: '', type: 'unknown', firmware: null, chassis: null, motherboard: null },
        };
        return sync(out);
      },
    );
  };
}

/** LXD's architecture names (Node's x64/arm64 → x86_64/aarch64). */
function lxdArchitecture(a: string): string {
  return a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a;
}
