/**
 * `GET /1.0/metrics` (LXD lxd/api_metrics.go): Prometheus text for the instances of the member
 * that serves it (LXD: scrape every member; `?target=` forwards to one), from its node agent, plus
 * server figures. `?project=` narrows to one project. Callers with a `metrics` certificate may
 * read it (access level `metrics`). Served locally, never forwarded to the leader.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiDeps } from '../../deps.js';
import { renderMetrics, type InstanceSample } from '../../metrics/render.js';
import { CommonQuery, commonParams } from '../../query.js';
import { requireAgents } from '../../storage/fan-out.js';
import { ErrorCode, isShoalError } from '../../../shared/index.js';
import { warnings, type StateStore } from '../../../state/index.js';

/** Route of `/1.0/metrics`. */
export function metricsRoutes(deps: ApiDeps, store: StateStore): FastifyPluginAsyncTypebox {
  const log = deps.log.child({ component: 'api-metrics' });
  return async (app) => {
    app.get('/1.0/metrics', { config: { access: 'metrics', local: true, memberTarget: true }, schema: { querystring: CommonQuery } }, async (req, reply) => {
      const q = commonParams(req.query);
      const self = deps.serverInfo.memberName();
      const agent = requireAgents(deps.agents, 'Metrics').client(self);
      const [listed, resources] = await Promise.all([agent.unary('listInstances', req.query.project ? { project: q.project } : {}), agent.unary('getResources', {})]);
      const wanted = listed.instances.filter((i) => i.status?.status === 'Running' && (!req.query.project || i.spec?.project === q.project));
      const samples = await Promise.all(
        wanted.map(async (i): Promise<InstanceSample | undefined> => {
          const project = i.spec?.project ?? 'default';
          const name = i.spec?.name ?? '';
          try {
            const s = (await agent.unary('getInstanceState', { project, name })).state;
            if (!s) return undefined;
            return {
              name,
              project,
              type: 'container',
              cpuSeconds: (s.cpu?.usageNs ?? 0) / 1e9,
              memTotalBytes: s.memory?.limitBytes || resources.memoryTotalBytes,
              memUsedBytes: s.memory?.usageBytes ?? 0,
              processes: s.processes,
              network: Object.entries(s.network)
                .filter(([dev]) => dev !== 'lo')
                .map(([device, n]) => ({
                  device,
                  rxBytes: n.counters?.bytesReceived ?? 0,
                  txBytes: n.counters?.bytesSent ?? 0,
                  rxPackets: n.counters?.packetsReceived ?? 0,
                  txPackets: n.counters?.packetsSent ?? 0,
                })),
              filesystems: Object.entries(s.disk)
                .filter(([, d]) => d.totalBytes > 0)
                .map(([device, d]) => ({ device, mountpoint: device === 'root' ? '/' : device, sizeBytes: d.totalBytes, usedBytes: d.usageBytes })),
            };
          } catch (err) {
            // Stopped or deleted between the listing and this call: not running, no sample (LXD skips it too).
            if (isShoalError(err, ErrorCode.NotFound) || isShoalError(err, ErrorCode.FailedPrecondition)) return undefined;
            log.warn({ err, instance: name, project }, 'instance state for metrics failed');
            return undefined;
          }
        }),
      );
      const view = await store.view({ stale: true });
      const active = view.list(warnings).filter((w) => w.record.status !== 'resolved').length;
      const running = deps.operations.list({ project: 'default', allProjects: true }).filter((o) => o.status_code < 200).length;
      const body = renderMetrics(
        samples.filter((s): s is InstanceSample => s !== undefined),
        { warnings: active, operations: running, uptimeSeconds: Math.round(process.uptime()) },
      );
      return reply.type('text/plain; version=0.0.4').send(body);
    });
  };
}
