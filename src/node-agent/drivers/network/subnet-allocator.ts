/**
 * Chooses and checks the IPv4 subnets of bridge networks on this host: `ipv4.address=auto` gets a
 * free /24 of the pool (LXD: a random `10.x.y.1/24` not in the routing table), a given address
 * must not overlap a subnet in use by another interface. Subnets handed out to creates that have
 * not applied them yet are held as reservations, so concurrent creates never collide.
 */
import { ErrorCode, ShoalError, errors, type Rng } from '../../../shared/index.js';
import { formatSubnet, pickFreeSubnet, subnetsOverlap, type Ipv4Interface, type Ipv4Subnet } from './addresses.js';
import { listHostSubnets } from './bridge.js';
import type { Ipv4Mode } from './bridge-config.js';

/** See the module comment. One per driver. */
export class SubnetAllocator {
  private readonly reserved = new Map<string, Ipv4Subnet>();

  constructor(
    private readonly pool: Ipv4Subnet,
    private readonly rng: Rng,
  ) {}

  /**
   * The gateway of network `name` for `mode`: null for `none`; for `auto`, `current` when given
   * (an existing network keeps its subnet) or a free /24 of the pool; a static gateway as given
   * after checking that no other interface's route or address overlaps it (ALREADY_EXISTS). The
   * result is reserved for `name` until {@link release}. RESOURCE_EXHAUSTED when the pool is full.
   */
  async allocate(
    name: string,
    mode: Ipv4Mode,
    current: Ipv4Interface | null,
    signal: AbortSignal,
  ): Promise<Ipv4Interface | null> {
    if (mode.kind === 'none') return null;
    if (mode.kind === 'auto' && current) return current;
    const onHost = await listHostSubnets(signal, name);
    // From here to the reservation there is no await: concurrent allocations see each other.
    const inUse = [...onHost, ...[...this.reserved].filter(([n]) => n !== name).map(([, s]) => s)];
    let gateway: Ipv4Interface;
    if (mode.kind === 'static') {
      const wanted = mode.gateway.subnet;
      const clash = inUse.find((s) => subnetsOverlap(s, wanted));
      if (clash) {
        throw errors.exists(
          `Subnet ${formatSubnet(wanted)} of network "${name}" overlaps ${formatSubnet(clash)} in use on this host`,
        );
      }
      gateway = mode.gateway;
    } else {
      const picked = pickFreeSubnet(this.pool, inUse, this.rng);
      if (!picked.ok) {
        throw new ShoalError(
          ErrorCode.ResourceExhausted,
          `No free /24 left in ${formatSubnet(this.pool)} for network "${name}"`,
        );
      }
      gateway = picked.gateway;
    }
    this.reserved.set(name, gateway.subnet);
    return gateway;
  }

  /** Drops the reservation of `name` (once its bridge carries the address, or when it failed). */
  release(name: string): void {
    this.reserved.delete(name);
  }
}
