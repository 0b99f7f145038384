/**
 * The nemesis: random faults during a run's fault phase, drawn from a FaultProfile. Every fault
 * has a duration and undoes itself (heal a partition, restart a node, resume a paused one);
 * `stop()` ends the phase and undoes everything at once.
 * Faults: symmetric partitions (random split, isolate the leader, a "bridge" node both sides
 * reach), one-way blocks (leader→peer or peer→leader), flaky links, process crashes, power loss
 * (unsynced writes lost, torn at a batch boundary), pauses (SIGSTOP/GC), slow disks, and forced
 * elections (a random node campaigns now, as an operator or a confused node might make it).
 */
import type { NodeId } from '../../../../src/raft/index.js';
import type { EventQueue } from './event-queue.js';
import type { LinkParams, SimNetwork } from './network.js';
import type { SimRandom } from './random.js';
import type { SimNode } from './sim-node.js';
import type { Trace } from './trace.js';

export type FaultKind =
  | 'partition'
  | 'isolateLeader'
  | 'bridge'
  | 'oneWay'
  | 'flakyLink'
  | 'crash'
  | 'powerLoss'
  | 'pause'
  | 'slowDisk'
  | 'campaign';

export interface FaultProfile {
  readonly name: string;
  /** Link quality during the fault phase. */
  readonly link: LinkParams;
  /** Mean time between nemesis actions in election timeouts (0 = no actions). */
  readonly meanGapEt: number;
  readonly weights: Readonly<Partial<Record<FaultKind, number>>>;
  /** Membership changes (add learner / promote / remove, including the leader) during the phase. */
  readonly membership: boolean;
  /** Leadership transfers during the phase. */
  readonly transfers: boolean;
}

export interface NemesisTarget {
  readonly queue: EventQueue;
  readonly trace: Trace;
  readonly net: SimNetwork;
  /** Nodes that are members or may become members (not removed). */
  liveNodes(): readonly SimNode[];
  leader(): SimNode | undefined;
}

export class Nemesis {
  private active = true;
  private partitionEpoch = 0;
  readonly stats: Record<string, number> = {};

  constructor(
    private readonly target: NemesisTarget,
    private readonly profile: FaultProfile,
    private readonly rng: SimRandom,
    /** One election timeout in ms (fault durations and gaps scale with it). */
    private readonly etMs: number,
  ) {}

  start(): void {
    if (this.profile.meanGapEt > 0) this.scheduleNext();
  }

  /** Ends the fault phase: heals the network, resumes and restarts every node, restores disks. */
  stop(calm: LinkParams): void {
    this.active = false;
    this.partitionEpoch++;
    const t = this.target;
    t.net.heal(calm);
    for (const n of t.liveNodes()) {
      n.diskSlowdown = 1;
      if (n.state === 'paused') n.resume();
      if (n.state === 'down') n.restart();
    }
    t.trace.add(t.queue.now, () => 'nemesis: stop, everything healed');
  }

  private scheduleNext(): void {
    const gap = this.rng.exp(this.profile.meanGapEt * this.etMs);
    this.target.queue.after(
      gap,
      () => 'nemesis tick',
      () => {
        if (!this.active) return;
        this.act();
        this.scheduleNext();
      },
    );
  }

  private act(): void {
    const choices = Object.entries(this.profile.weights).filter(([, w]) => (w ?? 0) > 0) as [FaultKind, number][];
    if (choices.length === 0) return;
    const kind = this.rng.weighted(choices);
    this.stats[kind] = (this.stats[kind] ?? 0) + 1;
    const duration = this.rng.between(0.5, 6) * this.etMs;
    const t = this.target;
    const nodes = t.liveNodes();
    const ids = nodes.map((n) => n.id);
    const note = (what: string): void =>
      t.trace.add(t.queue.now, () => `nemesis: ${what} for ${duration.toFixed(0)}ms`);
    switch (kind) {
      case 'partition': {
        const shuffled = this.rng.shuffle(ids);
        const cut = this.rng.int(1, Math.max(2, shuffled.length));
        const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
        this.setPartition(duration, () => t.net.partition(groups));
        note(`partition ${groups.map((g) => `{${g.join(' ')}}`).join(' | ')}`);
        return;
      }
      case 'isolateLeader': {
        const l = t.leader();
        if (l === undefined) return;
        this.setPartition(duration, () => t.net.isolate(l.id, ids));
        note(`isolate leader n${l.id}`);
        return;
      }
      case 'bridge': {
        if (ids.length < 3) return;
        const [bridge, ...rest] = this.rng.shuffle(ids);
        const cut = this.rng.int(1, rest.length);
        const a = rest.slice(0, cut);
        const b = rest.slice(cut);
        this.setPartition(duration, () => t.net.partition([a, b]));
        note(`bridge n${bridge} between {${a.join(' ')}} and {${b.join(' ')}}`);
        return;
      }
      case 'oneWay': {
        const l = t.leader();
        const others = ids.filter((i) => i !== l?.id);
        if (l === undefined || others.length === 0) return;
        const peer = this.rng.pick(others);
        const outbound = this.rng.chance(0.5);
        this.setPartition(duration, () => (outbound ? t.net.blockOneWay(l.id, peer) : t.net.blockOneWay(peer, l.id)));
        note(outbound ? `one-way block n${l.id}→n${peer}` : `one-way block n${peer}→n${l.id}`);
        return;
      }
      case 'flakyLink': {
        if (ids.length < 2) return;
        const [a, b] = this.rng.shuffle(ids) as [NodeId, NodeId];
        const p: LinkParams = {
          drop: this.rng.between(0.3, 0.9),
          duplicate: 0.1,
          delayMin: 1,
          delayMean: this.rng.between(2, 20),
        };
        t.net.setLink(a, b, p);
        t.net.setLink(b, a, p);
        note(`flaky link n${a}↔n${b} drop ${p.drop.toFixed(2)}`);
        t.queue.after(
          duration,
          () => `nemesis: flaky link n${a}↔n${b} ends`,
          () => {
            t.net.clearLink(a, b);
            t.net.clearLink(b, a);
          },
        );
        return;
      }
      case 'crash':
      case 'powerLoss': {
        const n = this.pickForDowntime(nodes);
        if (n === undefined) return;
        const lost = n.crash(kind === 'powerLoss');
        note(
          `${kind === 'powerLoss' ? 'power loss' : 'crash'} n${n.id}${lost > 0 ? ` (${lost} unsynced writes lost)` : ''}`,
        );
        t.queue.after(
          duration,
          () => `nemesis: restart n${n.id}`,
          () => {
            if (this.active) n.restart();
          },
        );
        return;
      }
      case 'pause': {
        const n = this.pickForDowntime(nodes);
        if (n === undefined) return;
        n.pause();
        note(`pause n${n.id}`);
        t.queue.after(
          duration,
          () => `nemesis: resume n${n.id}`,
          () => {
            if (this.active) n.resume();
          },
        );
        return;
      }
      case 'campaign': {
        const up = nodes.filter((n) => n.state === 'up');
        if (up.length === 0) return;
        const n = this.rng.pick(up);
        t.trace.add(t.queue.now, () => `nemesis: n${n.id} campaigns`);
        n.act((raw) => raw.campaign());
        return;
      }
      case 'slowDisk': {
        const n = this.rng.pick(nodes);
        n.diskSlowdown = this.rng.between(5, 40);
        note(`slow disk n${n.id} ×${n.diskSlowdown.toFixed(0)}`);
        t.queue.after(
          duration,
          () => `nemesis: disk n${n.id} normal`,
          () => {
            n.diskSlowdown = 1;
          },
        );
        return;
      }
    }
  }

  /** A node to crash or pause; usually keeps a majority of nodes up, sometimes not. */
  private pickForDowntime(nodes: readonly SimNode[]): SimNode | undefined {
    const up = nodes.filter((n) => n.state === 'up');
    const downCount = nodes.length - up.length;
    const allowed = this.rng.chance(0.1) ? nodes.length : Math.floor((nodes.length - 1) / 2);
    if (downCount >= allowed || up.length === 0) return undefined;
    // Prefer the leader a third of the time: leader failure is the interesting path.
    const l = up.find((n) => n.status.softState.role === 'Leader');
    return l !== undefined && this.rng.chance(0.33) ? l : this.rng.pick(up);
  }

  private setPartition(duration: number, apply: () => void): void {
    const t = this.target;
    t.net.clearBlocks();
    apply();
    const epoch = ++this.partitionEpoch;
    t.queue.after(
      duration,
      () => 'nemesis: partition heals',
      () => {
        if (epoch === this.partitionEpoch) t.net.clearBlocks();
      },
    );
  }
}
