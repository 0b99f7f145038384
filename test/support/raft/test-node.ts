/**
 * Programmatic raft test helpers (etcd raft_test.go's newTestRaft/newNetwork, over RawNode):
 * TestNode wraps a RawNode and a MemoryLogStorage and handles Readys like the runtime does;
 * TestNetwork delivers messages among TestNodes until quiet, with cuts and isolation.
 */
import {
  EntryType,
  MemoryLogStorage,
  MessageType,
  RawNode,
  decodeConfChange,
  type Entry,
  type Message,
  type RaftConfig,
  type RaftStatus,
  type Ready,
} from '../../../src/raft/index.js';

export interface TestNodeOptions {
  id: number;
  voters: number[];
  learners?: number[];
  /** Terms of the entries at index 1, 2, ... (a preloaded stable log). */
  logTerms?: number[];
  term?: number;
  vote?: number;
  commit?: number;
  config?: Partial<RaftConfig>;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A message with empty defaults for unspecified fields. */
export function msg(m: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return {
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
    ...m,
  };
}

/** Entries with the given terms at index from, from+1, ... */
export function entries(from: number, terms: readonly number[], data = ''): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: from + i,
    type: EntryType.Normal,
    data: new TextEncoder().encode(data),
  }));
}

export class TestNode {
  readonly id: number;
  readonly storage: MemoryLogStorage;
  readonly rn: RawNode;
  /** Every committed entry handed out, in order. */
  readonly applied: Entry[] = [];

  constructor(o: TestNodeOptions) {
    this.id = o.id;
    const terms = o.logTerms ?? [];
    this.storage = new MemoryLogStorage({
      snapshot: {
        meta: { index: 0, term: 0, confState: { voters: o.voters, learners: o.learners ?? [] } },
        data: new Uint8Array(0),
      },
      entries: entries(1, terms),
      hardState: { term: o.term ?? 0, vote: o.vote ?? 0, commit: o.commit ?? 0 },
    });
    this.rn = new RawNode({
      id: o.id,
      electionTick: 10,
      heartbeatTick: 1,
      storage: this.storage,
      maxSizePerMsg: Infinity,
      maxInflightMsgs: 256,
      checkQuorum: false,
      preVote: false,
      rng: () => 0,
      logger: silent,
      ...o.config,
    });
  }

  /** Handles one Ready: persist, apply (conf changes too), advance. Returns it. */
  handle(): Ready {
    const rd = this.rn.ready();
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    for (const e of rd.committedEntries) {
      this.applied.push(e);
      if (e.type === EntryType.ConfChange) this.rn.applyConfChange(decodeConfChange(e.data));
    }
    this.rn.advance();
    return rd;
  }

  /** Handles Readys until none is left; returns all their messages. */
  drain(): Message[] {
    const out: Message[] = [];
    while (this.rn.hasReady()) out.push(...this.handle().messages);
    return out;
  }

  step(m: Message): void {
    this.rn.step(m);
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) this.rn.tick();
  }

  status(): RaftStatus {
    return this.rn.status();
  }

  get term(): number {
    return this.status().hardState.term;
  }

  get role(): string {
    return this.status().softState.role;
  }

  get committed(): number {
    return this.status().hardState.commit;
  }

  /** The whole log as `term` numbers from index 1 (stable and unstable). */
  logTerms(): number[] {
    return this.rn.logEntries(1).map((e) => e.term);
  }

  /** Campaigns and wins with votes injected from the other voters; drains the Readys. */
  elect(voters: readonly number[]): Message[] {
    this.rn.campaign();
    const out = this.drain();
    const term = this.term;
    for (const v of voters) {
      if (v !== this.id) this.step(msg({ type: MessageType.VoteResp, from: v, to: this.id, term }));
    }
    out.push(...this.drain());
    return out;
  }
}

/** Delivers messages among nodes until quiet. Messages to absent or cut-off nodes are dropped. */
export class TestNetwork {
  readonly nodes = new Map<number, TestNode>();
  private readonly cuts = new Set<string>();

  constructor(nodes: readonly TestNode[]) {
    for (const n of nodes) this.nodes.set(n.id, n);
  }

  node(id: number): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  cut(a: number, b: number): void {
    this.cuts.add(`${a}-${b}`).add(`${b}-${a}`);
  }

  isolate(id: number): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  recover(): void {
    this.cuts.clear();
  }

  /** Steps `msgs` into their recipients, then processes Readys and delivers until quiet. */
  send(...msgs: Message[]): void {
    let queue = [...msgs];
    for (let rounds = 0; rounds < 10_000; rounds++) {
      for (const m of queue) {
        if (this.cuts.has(`${m.from}-${m.to}`)) continue;
        this.nodes.get(m.to)?.step(m);
      }
      queue = [];
      for (const n of this.nodes.values()) queue.push(...n.drain());
      if (queue.length === 0) return;
    }
    throw new Error('network did not quiesce');
  }

  /** Campaign on `id` (a local Hup) and deliver until quiet. */
  campaign(id: number): void {
    this.node(id).rn.campaign();
    this.send();
  }

  propose(id: number, data: string): void {
    this.node(id).rn.propose(new TextEncoder().encode(data));
    this.send();
  }
}
