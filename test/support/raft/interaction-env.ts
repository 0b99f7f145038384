/**
 * InteractionEnv (etcd `rafttest.InteractionEnv`): N RawNodes over MemoryLogStorage, a queue of
 * in-flight messages and manual control of Ready handling, delivery and ticks. Node i has id i+1.
 * Commands are parsed in interaction-handlers.ts; this file holds the mechanics.
 */
import {
  MemoryLogStorage,
  RawNode,
  decodeConfChange,
  type ConfState,
  type Message,
  type MessageType,
  type RaftConfig,
  type Snapshot,
} from '../../../src/raft/index.js';
import { describeMessage, describeReady } from './describe.js';
import { TranscriptOutput, recordingLogger } from './recording-logger.js';

export interface EnvNode {
  readonly id: number;
  rawNode: RawNode;
  readonly storage: MemoryLogStorage;
  readonly config: RaftConfig;
  /** The replicated "state machine": applied Normal entry payloads, in order. */
  state: string[];
}

/** Options of add-nodes (etcd names). */
export interface AddNodesOptions {
  voters: number[];
  learners: number[];
  /** Bootstrap snapshot index (> 1); without it nodes start empty. */
  index?: number;
  content?: string;
  /** Terms of entries preloaded after the bootstrap snapshot (figure-style logs). */
  logTerms: number[];
  /** Initial HardState term (default: the last preloaded entry's term, or 0). */
  term?: number;
  overrides: Partial<RaftConfig>;
}

export interface Recipient {
  readonly id: number;
  readonly drop: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class InteractionEnv {
  readonly out = new TranscriptOutput();
  readonly nodes: EnvNode[] = [];
  messages: Message[] = [];
  /** When set, messages between nodes of different groups are dropped on delivery. */
  partition: number[][] | undefined;

  node(id: number): EnvNode {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new Error(`node ${id} does not exist`);
    return n;
  }

  addNodes(count: number, opts: AddNodesOptions): void {
    const bootstrap = opts.index !== undefined;
    if (bootstrap && opts.index! <= 1) throw new Error('index must be specified as > 1 due to bootstrap');
    for (let i = 0; i < count; i++) {
      const id = this.nodes.length + 1;
      const snapshot: Snapshot | undefined = bootstrap
        ? {
            meta: { index: opts.index!, term: 1, confState: { voters: opts.voters, learners: opts.learners } },
            data: encoder.encode(opts.content ?? ''),
          }
        : undefined;
      if (opts.logTerms.length > 0 && snapshot === undefined) throw new Error('log-terms needs index');
      const entries = opts.logTerms.map((term, i) => ({
        term,
        index: opts.index! + 1 + i,
        type: 'Normal' as const,
        data: new Uint8Array(0),
      }));
      const term = opts.term ?? entries[entries.length - 1]?.term ?? 0;
      const storage = new MemoryLogStorage(
        snapshot === undefined ? undefined : { snapshot, entries, hardState: { term, vote: 0, commit: opts.index! } },
      );
      const config: RaftConfig = {
        id,
        electionTick: 3,
        heartbeatTick: 1,
        storage,
        applied: opts.index ?? 0,
        maxSizePerMsg: Infinity,
        maxInflightMsgs: 2 ** 31 - 1,
        checkQuorum: false,
        preVote: false,
        // Deterministic transcripts: the randomized election timeout is exactly electionTick.
        rng: () => 0,
        logger: recordingLogger(id, this.out),
        ...opts.overrides,
      };
      const state = opts.content ? [opts.content] : [];
      this.nodes.push({ id, rawNode: new RawNode(config), storage, config, state });
    }
  }

  /** Handles one Ready of node `id` the way the runtime does: persist, send, apply, advance. */
  processReady(id: number): void {
    const n = this.node(id);
    const rd = n.rawNode.ready();
    this.out.write(describeReady(rd));
    // 1. Persist.
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    // 2. Send.
    for (const m of rd.messages) this.messages.push(m);
    // 3. Apply.
    if (rd.snapshot) {
      const text = decoder.decode(rd.snapshot.data);
      n.state = text === '' ? [] : text.split(',');
    }
    let conf: ConfState | undefined;
    for (const e of rd.committedEntries) {
      if (e.type === 'ConfChange') conf = n.rawNode.applyConfChange(decodeConfChange(e.data));
      else if (e.data.byteLength > 0) n.state.push(decoder.decode(e.data));
    }
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    if (last !== undefined) {
      // Record a snapshot of the state at the applied index (what the leader sends to laggards).
      conf ??= n.rawNode.status().confState;
      n.storage.createSnapshot(last.index, conf, encoder.encode(n.state.join(',')));
    }
    // 4. Advance.
    n.rawNode.advance();
  }

  private deliverable(m: Message): boolean {
    if (this.partition === undefined) return true;
    const g = this.partition.find((grp) => grp.includes(m.from));
    return g !== undefined && g.includes(m.to);
  }

  /** Delivers (or drops) the queued messages to each recipient, in queue order. Returns the count. */
  deliverMsgs(recipients: readonly Recipient[], type?: MessageType): number {
    let count = 0;
    for (const r of recipients) {
      const mine: Message[] = [];
      const rest: Message[] = [];
      for (const m of this.messages) {
        if (m.to === r.id && (type === undefined || m.type === type)) mine.push(m);
        else rest.push(m);
      }
      this.messages = rest;
      count += mine.length;
      for (const m of mine) {
        if (r.drop || !this.deliverable(m)) {
          this.out.write(`dropped: ${describeMessage(m)}`);
          continue;
        }
        this.out.write(describeMessage(m));
        const n = this.nodes[m.to - 1];
        if (n !== undefined) n.rawNode.step(m);
      }
    }
    return count;
  }

  /** Processes Readys and delivers messages among `ids` (default: all) until nothing is left. */
  stabilize(ids: readonly number[]): void {
    const nodes = ids.length > 0 ? ids.map((id) => this.node(id)) : this.nodes;
    for (;;) {
      let done = true;
      for (const n of nodes) {
        if (!n.rawNode.hasReady()) continue;
        done = false;
        this.out.write(`> ${n.id} handling Ready`);
        this.out.indented(() => this.processReady(n.id));
      }
      for (const n of nodes) {
        if (!this.messages.some((m) => m.to === n.id)) continue;
        done = false;
        this.out.write(`> ${n.id} receiving messages`);
        this.out.indented(() => this.deliverMsgs([{ id: n.id, drop: false }]));
      }
      if (done) return;
    }
  }

  tick(id: number, times: number): void {
    const n = this.node(id);
    for (let i = 0; i < times; i++) n.rawNode.tick();
  }

  /** `1: Leader (Voter) Term:1 Lead:1` per node. */
  raftState(): string {
    return this.nodes
      .map((n) => {
        const st = n.rawNode.status();
        const kind = st.confState.voters.includes(n.id)
          ? 'Voter'
          : st.confState.learners.includes(n.id)
            ? 'Learner'
            : 'Non-Voter';
        const { term, commit } = st.hardState;
        return `${n.id}: ${st.softState.role} (${kind}) Term:${term} Lead:${st.softState.lead} Commit:${commit}`;
      })
      .join('\n');
  }
}
