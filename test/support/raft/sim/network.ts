/**
 * SimNetwork: per directed link loss, duplication and delay with variance (so messages reorder),
 * plus partitions: symmetric groups, one-way blocks, isolation, heal. A block is checked when a
 * message is sent and again when it would be delivered (a connection cut loses what is in flight).
 */
import type { Message, NodeId } from '../../../../src/raft/index.js';
import type { EventQueue } from './event-queue.js';
import type { SimRandom } from './random.js';
import type { Trace } from './trace.js';
import { describeMessage } from './describe.js';

export interface LinkParams {
  /** Probability a message is lost. */
  readonly drop: number;
  /** Probability a message is delivered twice. */
  readonly duplicate: number;
  /** Minimum one-way delay (ms). */
  readonly delayMin: number;
  /** Mean of the exponential part added to `delayMin` (ms); variance reorders messages. */
  readonly delayMean: number;
}

export const CALM_LINK: LinkParams = { drop: 0, duplicate: 0, delayMin: 0.5, delayMean: 1 };

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  blocked: number;
  duplicated: number;
}

export class SimNetwork {
  private defaults: LinkParams;
  private readonly links = new Map<string, LinkParams>();
  private readonly blocked = new Set<string>();
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, blocked: 0, duplicated: 0 };

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: SimRandom,
    private readonly trace: Trace,
    /** Hands a message to its destination; false when nobody took it (node down or removed). */
    private readonly deliver: (msg: Message) => boolean,
    defaults: LinkParams = CALM_LINK,
    /**
     * Transport feedback: called with false when a message could not be delivered for a reason a
     * connection-oriented transport notices (blocked link, peer down; random loss is silent except
     * for snapshots), and with true when a snapshot arrived.
     */
    private readonly report: (msg: Message, delivered: boolean) => void = () => undefined,
  ) {
    this.defaults = defaults;
  }

  /** Parameters for every link without an override. */
  setDefaults(p: LinkParams): void {
    this.defaults = p;
  }

  setLink(from: NodeId, to: NodeId, p: LinkParams): void {
    this.links.set(key(from, to), p);
  }

  /** Blocks from → to only (an asymmetric partition). */
  blockOneWay(from: NodeId, to: NodeId): void {
    this.blocked.add(key(from, to));
  }

  /** Splits `groups` from each other in both directions (nodes in no group are unaffected). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (let a = 0; a < groups.length; a++) {
      for (let b = 0; b < groups.length; b++) {
        if (a === b) continue;
        for (const x of groups[a]!) for (const y of groups[b]!) this.blocked.add(key(x, y));
      }
    }
  }

  /** Cuts `id` off from every node in `others`, both directions. */
  isolate(id: NodeId, others: readonly NodeId[]): void {
    this.partition([[id], others.filter((o) => o !== id)]);
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(key(from, to));
  }

  /** Removes every block (partitions heal); per-link parameters stay. */
  clearBlocks(): void {
    this.blocked.clear();
  }

  clearLink(from: NodeId, to: NodeId): void {
    this.links.delete(key(from, to));
  }

  /** Removes every block and per-link override; optionally resets the defaults. */
  heal(defaults?: LinkParams): void {
    this.blocked.clear();
    this.links.clear();
    if (defaults) this.defaults = defaults;
  }

  /** A human summary of current blocks, for traces. */
  describeBlocks(): string {
    return [...this.blocked].sort().join(' ') || 'none';
  }

  send(msg: Message): void {
    this.stats.sent++;
    const k = key(msg.from, msg.to);
    if (this.blocked.has(k)) {
      this.stats.blocked++;
      this.trace.add(this.queue.now, () => `net  blocked ${describeMessage(msg)}`);
      this.report(msg, false);
      return;
    }
    const p = this.links.get(k) ?? this.defaults;
    if (this.rng.chance(p.drop)) {
      this.stats.dropped++;
      this.trace.add(this.queue.now, () => `net  dropped ${describeMessage(msg)}`);
      if (msg.type === 'Snap') this.report(msg, false);
      return;
    }
    const copies = this.rng.chance(p.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      const delay = p.delayMin + this.rng.exp(p.delayMean);
      this.queue.after(
        delay,
        () => `recv ${describeMessage(msg)}`,
        () => {
          if (this.blocked.has(k)) {
            this.stats.blocked++;
            this.trace.add(this.queue.now, () => `net  cut in flight ${describeMessage(msg)}`);
            this.report(msg, false);
            return;
          }
          this.stats.delivered++;
          const ok = this.deliver(msg);
          if (!ok || msg.type === 'Snap') this.report(msg, ok);
        },
      );
    }
  }
}

function key(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
