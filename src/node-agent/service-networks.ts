/**
 * Managed networks. Deleting a network that an instance's nic uses is refused with
 * FAILED_PRECONDITION naming the instances; creating one that exists with the same config returns
 * it (the same call twice has the effect of one).
 */
import { checkObjectName, errors } from '../shared/index.js';
import { allValues } from './agent-db.js';
import { managedNetworksOf } from './devices.js';
import { instancesUsing, quoteList } from './instance-common.js';
import { lockKey } from './locks.js';
import { newMeta, touchMeta, type NetworkRecord, type NetworkView } from './local-records.js';
import type { ServiceContext } from './service-context.js';
import type { ConfigMap, InterfaceState, NetworkLease, NetworkSpec } from './types.js';

/** A network creation request. */
export interface NetworkRequest {
  readonly name: string;
  readonly type: string;
  readonly config: ConfigMap;
  readonly description: string;
}

export class NetworkService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Creates and starts a network; returns it with the effective config. */
  create(opId: string, req: NetworkRequest, signal: AbortSignal): Promise<NetworkView> {
    return this.ctx.ledger.run(opId, 'CreateNetwork', { ...req }, async () => {
      const spec = this.checkSpec(req.name, req.type, req.config);
      return this.ctx.locks.with([{ key: lockKey.network(req.name), mode: 'exclusive' }], async () => {
        const existing = await this.ctx.db.networks.get(req.name);
        if (existing) {
          const same = Object.entries(req.config).every(([k, v]) => existing.spec.config[k] === v);
          if (same) return this.view(existing);
          throw errors.exists(`Network "${req.name}" already exists`);
        }
        const net = this.ctx.drivers.network;
        const rec = await this.ctx.reverted(`create network "${req.name}"`, async (r) => {
          r.add(`network "${req.name}"`, () => net.delete(req.name, this.ctx.revertSignal()));
          const effective = await net.create(spec, signal);
          const created: NetworkRecord = {
            spec: { ...spec, config: { ...req.config, ...effective } },
            description: req.description,
            meta: newMeta(this.ctx.clock.now()),
          };
          await this.ctx.db.networks.put(req.name, created, { sync: true });
          return created;
        });
        this.ctx.log.info({ network: req.name }, 'network created');
        return this.view(rec);
      });
    });
  }

  /** Replaces a network's config. */
  update(opId: string, name: string, config: ConfigMap, description: string, signal: AbortSignal): Promise<NetworkView> {
    return this.ctx.ledger.run(opId, 'UpdateNetwork', { name, config, description }, () =>
      this.ctx.locks.with([{ key: lockKey.network(name), mode: 'exclusive' }], async () => {
        const rec = await this.ctx.network(name);
        const spec = this.checkSpec(name, rec.spec.type, config);
        await this.ctx.drivers.network.update(spec, signal);
        const next: NetworkRecord = { spec, description, meta: touchMeta(rec.meta, this.ctx.clock.now()) };
        await this.ctx.db.networks.put(name, next, { sync: true });
        return this.view(next);
      }),
    );
  }

  /** Deletes an unused network and everything it made on the host. */
  delete(opId: string, name: string, signal: AbortSignal): Promise<null> {
    return this.ctx.ledger.run(opId, 'DeleteNetwork', { name }, () =>
      this.ctx.locks.with([{ key: lockKey.network(name), mode: 'exclusive' }], async () => {
        await this.ctx.network(name);
        const users = await this.users(name);
        if (users.length > 0) throw errors.precondition(`Network "${name}" is in use by ${quoteList('instances', users)}`);
        await this.ctx.drivers.network.delete(name, signal);
        await this.ctx.db.networks.del(name, { sync: true });
        this.ctx.log.info({ network: name }, 'network deleted');
        return null;
      }),
    );
  }

  /** This member's networks, sorted by name. */
  async list(): Promise<NetworkView[]> {
    return Promise.all((await allValues(this.ctx.db.networks)).map((n) => this.view(n)));
  }

  /** The bridge's state. */
  async state(name: string, signal: AbortSignal): Promise<InterfaceState> {
    await this.ctx.network(name);
    return this.ctx.drivers.network.state(name, signal);
  }

  /** DHCP leases. */
  async leases(name: string, signal: AbortSignal): Promise<readonly NetworkLease[]> {
    await this.ctx.network(name);
    return this.ctx.drivers.network.leases(name, signal);
  }

  private checkSpec(name: string, type: string, config: ConfigMap): NetworkSpec {
    const bad = checkObjectName('network', name);
    if (bad) throw bad;
    if ((type || 'bridge') !== 'bridge') throw errors.invalid(`Unsupported network type "${type}"`);
    const spec: NetworkSpec = { name, type: 'bridge', config };
    this.ctx.drivers.network.validate(spec);
    return spec;
  }

  private users(name: string): Promise<string[]> {
    return instancesUsing(this.ctx, (spec) => managedNetworksOf(spec).includes(name));
  }

  private async view(rec: NetworkRecord): Promise<NetworkView> {
    const users = await this.users(rec.spec.name);
    return { spec: rec.spec, description: rec.description, usedBy: users.map((u) => `instance:${u}`), meta: rec.meta };
  }
}
