/*
 * Seeded random schedules against the core (a small cousin of test/sim/raft): five nodes with ticks,
 * proposals, reads, loss/duplication/reordering, partitions, crashes, compaction, transfers and
 * membership changes; election, state machine, leader completeness and ReadIndex safety are checked
 * after every event, convergence after healing. SEED=n replays a seed; FUZZ_SEEDS=n runs more.
 */
import { strict as assert } from 'node:assert';
import {
  ConfChangeType,
  EntryType,
  MemoryLogStorage,
  MessageType,
  RaftRole,
  RawNode,
  decodeConfChange,
  type ConfChange,
  type Entry,
  type Message,
  type RaftConfig,
} from '../../../../src/raft/index.js';
import { seededRng, type Rng } from '../../../../src/shared/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const VOTERS = [1, 2, 3, 4, 5];

interface Node {
  id: number;
  rn: RawNode;
  storage: MemoryLogStorage;
  applied: number;
}

class Sim {
  readonly nodes: Node[];
  queue: Message[] = [];
  groups: number[][] | undefined;
  readonly leaders = new Map<number, number>(); // term → leader
  readonly committed = new Map<number, Entry>(); // index → first applied entry
  private proposals = 0;
  readsAnswered = 0;

  constructor(
    readonly rng: Rng,
    readonly seed: number,
  ) {
    this.nodes = VOTERS.map((id) => {
      const storage = new MemoryLogStorage({
        snapshot: { meta: { index: 1, term: 1, confState: { voters: VOTERS, learners: [] } }, data: new Uint8Array(0) },
        hardState: { term: 1, vote: 0, commit: 1 },
      });
      return { id, storage, applied: 1, rn: this.makeNode(id, storage, 1) };
    });
  }

  /** A brand-new, empty node (ids are never reused). */
  private addNode(): Node {
    const id = this.nodes.length + 1;
    const storage = new MemoryLogStorage();
    const n = { id, storage, applied: 0, rn: this.makeNode(id, storage, 0) };
    this.nodes.push(n);
    return n;
  }

  /** The leader of the highest term (a removed node may linger as a leader of an old term). */
  private leader(): Node | undefined {
    let best: Node | undefined;
    for (const n of this.nodes) {
      const st = n.rn.status();
      if (st.softState.role !== RaftRole.Leader) continue;
      if (best === undefined || st.hardState.term > best.rn.status().hardState.term) best = n;
    }
    return best;
  }

  /** One membership step on the leader: promote a learner, remove a voter, or add a learner. */
  private changeMembership(): void {
    const l = this.leader();
    if (l === undefined) return;
    const { voters, learners } = l.rn.status().confState;
    let cc: ConfChange;
    if (learners.length > 0) cc = { type: ConfChangeType.AddNode, nodeId: learners[0]!, context: new Uint8Array(0) };
    else if (voters.length > 3 && this.rng() < 0.5) {
      cc = { type: ConfChangeType.RemoveNode, nodeId: this.pick(voters), context: new Uint8Array(0) };
    } else {
      if (this.nodes.length >= 9) return;
      cc = { type: ConfChangeType.AddLearner, nodeId: this.nodes.length + 1, context: new Uint8Array(0) };
    }
    if (l.rn.proposeConfChange(cc).ok && cc.type === ConfChangeType.AddLearner) this.addNode();
  }

  /** Snapshot at the applied index and drop the log before it, keeping a short tail. */
  private compact(n: Node): void {
    const at = n.applied - 3;
    if (at <= n.storage.firstIndex()) return;
    n.storage.compact(at);
  }

  private makeNode(id: number, storage: MemoryLogStorage, applied: number): RawNode {
    const config: RaftConfig = {
      id,
      electionTick: 10,
      heartbeatTick: 2,
      storage,
      applied,
      maxSizePerMsg: 200,
      maxInflightMsgs: 4,
      maxInflightBytes: 400,
      // Seeds alternate between the four pre-vote/check-quorum combinations.
      checkQuorum: this.seed % 2 === 0,
      preVote: this.seed % 4 < 2,
      rng: seededRng(this.seed * 31 + id),
      logger: silent,
    };
    return new RawNode(config);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng() * xs.length)]!;
  }

  private connected(a: number, b: number): boolean {
    if (this.groups === undefined) return true;
    return this.groups.some((g) => g.includes(a) && g.includes(b));
  }

  step(): void {
    const r = this.rng();
    const n = this.pick(this.nodes);
    if (r < 0.06) for (const x of this.nodes) x.rn.tick();
    else if (r < 0.25) n.rn.tick();
    else if (r < 0.55) this.deliverOne();
    else if (r < 0.8) this.processReady(n, this.rng() < 0.02);
    else if (r < 0.88) {
      const target = this.rng() < 0.7 ? (this.leader() ?? n) : n;
      target.rn.propose(new TextEncoder().encode(`p${this.proposals++}`));
    } else if (r < 0.9) this.read(n);
    else if (r < 0.905) this.partition();
    else if (r < 0.9065) this.groups = undefined;
    else if (r < 0.93) n.rn.transferLeader(this.pick(VOTERS));
    else if (r < 0.935) this.restart(n);
    else if (r < 0.94) this.changeMembership();
    else if (r < 0.945) this.compact(n);
    else this.deliverOne();
    this.check();
  }

  /** ReadIndex safety: the answer covers every write committed before the read was issued. */
  private readonly reads = new Map<number, number>(); // read id → max commit when issued
  private read(n: Node): void {
    // Half the reads go to a node that believes it leads (perhaps a deposed one).
    const leaders = this.nodes.filter((x) => x.rn.status().softState.role === RaftRole.Leader);
    if (leaders.length > 0 && this.rng() < 0.5) n = this.pick(leaders);
    const id = this.reads.size + 1;
    this.reads.set(id, this.maxCommitted());
    n.rn.readIndex(new Uint8Array(new Uint32Array([id]).buffer));
  }

  private partition(): void {
    const leader = this.leader();
    if (leader !== undefined && this.rng() < 0.5) {
      // Cut the leader off with the majority on the other side: the classic stale-leader case.
      this.groups = [[leader.id], this.nodes.map((n) => n.id).filter((id) => id !== leader.id)];
      return;
    }
    const shuffled = this.nodes.map((n) => n.id).sort(() => this.rng() - 0.5);
    const cut = 1 + Math.floor(this.rng() * (shuffled.length - 1));
    this.groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
  }

  private deliverOne(): void {
    if (this.queue.length === 0) return;
    // Mostly in order, sometimes reordered, dropped or duplicated.
    const i = this.rng() < 0.8 ? 0 : Math.floor(this.rng() * this.queue.length);
    const m = this.queue[i]!;
    const x = this.rng();
    if (x >= 0.05) this.queue.splice(i, 1); // else: duplicate (left in the queue)
    const dropped = x > 0.95 || !this.connected(m.from, m.to);
    if (!dropped) this.nodes[m.to - 1]!.rn.step(m);
    // The transport reports the outcome of every snapshot it sends (as the runtime must).
    if (m.type === MessageType.Snap) this.nodes[m.from - 1]!.rn.reportSnapshot(m.to, !dropped);
  }

  /** Handles one Ready; with `crash`, the node dies before persisting anything and restarts. */
  processReady(n: Node, crash: boolean): void {
    if (!n.rn.hasReady()) return;
    const rd = n.rn.ready();
    if (crash) return this.restart(n);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    this.queue.push(...rd.messages);
    if (rd.snapshot) n.applied = rd.snapshot.meta.index;
    for (const e of rd.committedEntries) {
      assert.equal(e.index, n.applied + 1, `seed ${this.seed}: node ${n.id} applies ${e.index} after ${n.applied}`);
      const first = this.committed.get(e.index);
      if (first === undefined) this.committed.set(e.index, e);
      else assert.deepEqual([e.term, e.data], [first.term, first.data], `seed ${this.seed}: state machine safety`);
      if (e.type === EntryType.ConfChange) n.rn.applyConfChange(decodeConfChange(e.data));
      n.applied = e.index;
    }
    if (rd.committedEntries.length > 0) {
      // What the leader sends to a laggard: the state (and membership) at the applied index.
      n.storage.createSnapshot(n.applied, n.rn.status().confState, new Uint8Array(0));
    }
    if (process.env.FUZZ_STATS) this.readsAnswered += rd.readStates.length;
    for (const rs of rd.readStates) {
      const issued = this.reads.get(new Uint32Array(rs.requestCtx.slice().buffer)[0]!)!;
      assert.ok(rs.index >= issued, `seed ${this.seed}: read index ${rs.index} misses commit ${issued}`);
      assert.ok(rs.index <= this.maxCommitted(), `seed ${this.seed}: read index beyond any commit`);
    }
    n.rn.advance();
  }

  private maxCommitted(): number {
    return Math.max(...this.nodes.map((n) => n.rn.status().hardState.commit));
  }

  restart(n: Node): void {
    n.rn = this.makeNode(n.id, n.storage, n.applied);
  }

  check(): void {
    for (const n of this.nodes) {
      const st = n.rn.status();
      if (st.softState.role !== RaftRole.Leader) continue;
      const term = st.hardState.term;
      const prev = this.leaders.get(term);
      if (prev === undefined) {
        this.leaders.set(term, n.id);
        // Leader completeness: the new leader has every entry applied anywhere (or a snapshot
        // covering it).
        const first = n.storage.firstIndex();
        const log = n.rn.logEntries(first);
        for (const [index, e] of this.committed) {
          if (index < first) continue;
          const mine = log[index - first];
          assert.ok(mine !== undefined && mine.term === e.term, `seed ${this.seed}: leader ${n.id} lacks ${index}`);
        }
      } else {
        assert.equal(prev, n.id, `seed ${this.seed}: two leaders in term ${term}`);
      }
    }
  }

  /** Heals everything and runs until all nodes applied the same, nonzero, number of entries. */
  converge(): void {
    this.groups = undefined;
    for (let round = 0; round < 2000; round++) {
      for (const n of this.nodes) n.rn.tick();
      for (let k = 0; k < 50 && (this.queue.length > 0 || this.nodes.some((n) => n.rn.hasReady())); k++) {
        for (const n of this.nodes) this.processReady(n, false);
        const q = this.queue;
        this.queue = [];
        for (const m of q) {
          this.nodes[m.to - 1]!.rn.step(m);
          if (m.type === MessageType.Snap) this.nodes[m.from - 1]!.rn.reportSnapshot(m.to, true);
        }
        this.check();
      }
      const leader = this.leader();
      const { voters, learners } = leader?.rn.status().confState ?? { voters: [], learners: [] };
      const members = this.nodes.filter((n) => voters.includes(n.id) || learners.includes(n.id));
      const applied = new Set(members.map((n) => n.applied));
      if (leader !== undefined && applied.size === 1 && leader.applied === leader.rn.status().hardState.commit) {
        const last = leader.rn.logEntries(leader.applied)[0];
        if (last !== undefined && last.term === leader.rn.status().hardState.term) return;
      }
    }
    if (process.env.FUZZ_STATS) {
      for (const n of this.nodes) {
        const st = n.rn.status();
        console.log(
          n.id,
          st.softState,
          st.hardState,
          st.confState,
          n.applied,
          n.storage.firstIndex(),
          n.storage.lastIndex(),
        );
        if (st.progress) console.log(n.rn.describeProgress());
      }
    }
    assert.fail(`seed ${this.seed}: no convergence: ${this.nodes.map((n) => `${n.id}:${n.applied}`).join(' ')}`);
  }
}

describe('src/raft/core', () => {
  describe('random schedules', () => {
    const count = Number(process.env.FUZZ_SEEDS ?? 60);
    const seeds = process.env.SEED ? [Number(process.env.SEED)] : Array.from({ length: count }, (_, i) => i + 1);
    it(`keeps election and state machine safety and converges (${seeds.length} seeds × 3000 events)`, () => {
      for (const seed of seeds) {
        const sim = new Sim(seededRng(seed), seed);
        for (let i = 0; i < 3000; i++) sim.step();
        sim.converge();
        assert.ok(sim.committed.size > 0, `seed ${seed}: nothing committed`);
        if (process.env.FUZZ_STATS)
          console.log(seed, sim.committed.size, sim.leaders.size, Math.max(...sim.leaders.keys()), sim.readsAnswered);
      }
    }).timeout(0);
  });
});
