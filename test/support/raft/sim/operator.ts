/**
 * The operator: membership changes and leadership transfers during a run, the way the cluster
 * layer will issue them. One change at a time (mostly; sometimes a second is proposed while one
 * is pending, which the core must refuse): add a learner (a brand-new node id, never reused),
 * promote a caught-up learner, remove a voter (possibly the leader) or a learner, keeping the
 * voter count within [minVoters, maxVoters]. A node whose removal is applied anywhere is stopped
 * for good shortly after. Proposals go to the current leader; a refused or lost one is retried on a
 * later round.
 */
import { ConfChangeType, type ConfChange, type NodeId } from '../../../../src/raft/index.js';
import type { EventQueue } from './event-queue.js';
import type { SimRandom } from './random.js';
import type { SimNode } from './sim-node.js';
import type { Trace } from './trace.js';

export interface OperatorTarget {
  readonly queue: EventQueue;
  readonly trace: Trace;
  leader(): SimNode | undefined;
  /** Creates and starts a node with a fresh id and an empty disk. */
  createNode(): SimNode;
  /** Stops a node for good. */
  retireNode(id: NodeId): void;
}

export class Operator {
  private active = true;
  private pending: { cc: ConfChange; since: number } | undefined;
  private readonly retiring = new Set<NodeId>();
  readonly stats = { proposed: 0, applied: 0, transfers: 0 };

  constructor(
    private readonly target: OperatorTarget,
    private readonly rng: SimRandom,
    private readonly etMs: number,
    private readonly opts: { minVoters: number; maxVoters: number; membership: boolean; transfers: boolean },
  ) {}

  start(): void {
    if (this.opts.membership || this.opts.transfers) this.scheduleNext();
  }

  stop(): void {
    this.active = false;
  }

  /** Called by every node when it applies a ConfChange. */
  onConfChangeApplied(node: SimNode, cc: ConfChange): void {
    const p = this.pending;
    if (p !== undefined && p.cc.type === cc.type && p.cc.nodeId === cc.nodeId) {
      this.pending = undefined;
      this.stats.applied++;
    }
    if (cc.type === ConfChangeType.RemoveNode && !this.retiring.has(cc.nodeId)) {
      this.retiring.add(cc.nodeId);
      const t = this.target;
      const delay = this.rng.between(0, 2) * this.etMs;
      t.queue.after(
        delay,
        () => `operator: retire n${cc.nodeId}`,
        () => t.retireNode(cc.nodeId),
      );
    }
    void node;
  }

  private scheduleNext(): void {
    this.target.queue.after(
      this.rng.between(1, 5) * this.etMs,
      () => 'operator tick',
      () => {
        if (!this.active) return;
        this.act();
        this.scheduleNext();
      },
    );
  }

  private act(): void {
    const t = this.target;
    const leader = t.leader();
    if (leader === undefined) return;
    if (this.opts.transfers && this.rng.chance(this.opts.membership ? 0.25 : 1)) {
      // Mostly a voter; sometimes a learner, which the core must refuse to hand leadership to.
      const cs = leader.status.confState;
      const pool =
        this.rng.chance(0.15) && cs.learners.length > 0 ? cs.learners : cs.voters.filter((v) => v !== leader.id);
      if (pool.length > 0) {
        const to = this.rng.pick(pool);
        t.trace.add(t.queue.now, () => `operator: transfer leadership n${leader.id} → n${to}`);
        leader.act((raw) => raw.transferLeader(to));
        this.stats.transfers++;
      }
      return;
    }
    if (!this.opts.membership) return;
    // Usually one change at a time; sometimes impatient, so the core's own guard (one unapplied
    // change at most) is exercised too.
    const impatient = this.rng.chance(0.3);
    if (!impatient && this.pending !== undefined && t.queue.now - this.pending.since < 10 * this.etMs) return;
    // Impatient: sometimes a second change right behind the first, which the core must refuse
    // while the first is unapplied.
    const count = impatient && this.rng.chance(0.5) ? 2 : 1;
    for (let k = 0; k < count; k++) {
      const cc = this.chooseChange(leader);
      if (cc === undefined) return;
      const r = leader.act((raw) => raw.proposeConfChange(cc));
      t.trace.add(
        t.queue.now,
        () => `operator: propose ${cc.type} n${cc.nodeId} on n${leader.id}: ${r?.ok ? 'ok' : JSON.stringify(r)}`,
      );
      if (r?.ok) {
        this.pending = { cc, since: t.queue.now };
        this.stats.proposed++;
      } else if (cc.type === ConfChangeType.AddLearner) {
        t.retireNode(cc.nodeId); // never became a member
      }
    }
  }

  private chooseChange(leader: SimNode): ConfChange | undefined {
    const cs = leader.status.confState;
    const progress = leader.status.progress;
    const commit = leader.status.hardState.commit;
    const ctx = new Uint8Array(0);
    const options: [() => ConfChange | undefined, number][] = [];
    if (cs.voters.length + cs.learners.length < this.opts.maxVoters + 1 && cs.learners.length === 0) {
      options.push([() => ({ type: ConfChangeType.AddLearner, nodeId: this.target.createNode().id, context: ctx }), 3]);
    }
    const caughtUp = cs.learners.filter((l) => (progress?.get(l)?.match ?? 0) >= commit - 5);
    if (caughtUp.length > 0 && cs.voters.length < this.opts.maxVoters) {
      options.push([() => ({ type: ConfChangeType.AddNode, nodeId: this.rng.pick(caughtUp), context: ctx }), 4]);
    }
    if (cs.voters.length > this.opts.minVoters) {
      options.push([() => ({ type: ConfChangeType.RemoveNode, nodeId: this.rng.pick(cs.voters), context: ctx }), 4]);
    }
    if (cs.learners.length > 0) {
      options.push([() => ({ type: ConfChangeType.RemoveNode, nodeId: this.rng.pick(cs.learners), context: ctx }), 1]);
    }
    if (options.length === 0) return undefined;
    return this.rng.weighted(options)();
  }
}
