/**
 * ClientService: the client-facing side of a simulated node (what the API layer will do over
 * raft). Writes are proposed on the leader and answered when their entry is applied HERE at the
 * same index AND term (the payload's identity ties the entry to the request); reads go through
 * ReadIndex and are answered once the state machine has applied up to the read's index. Two
 * deliberately broken modes exist to prove the checks catch them (NodeOptions.unsafe*).
 */
import type { Entry, NodeId, RawNode, ReadState } from '../../../../src/raft/index.js';
import type { KvInput, KvOutput } from '../../../support/lincheck/index.js';
import type { SimDisk } from './disk.js';
import { encodeCommand, readKey, requestKey } from './kv-state-machine.js';
import type { NodeEnv } from './sim-node.js';

/** A client's request as it arrives at a node. */
export interface ClientRequest {
  readonly client: number;
  readonly seq: number;
  readonly attempt: number;
  readonly op: KvInput;
}

export type ClientReply =
  | { readonly kind: 'done'; readonly output: KvOutput }
  | { readonly kind: 'notLeader'; readonly hint: NodeId }
  /** Definitely not applied by this attempt's proposal path (dropped, overwritten, node restarted). */
  | { readonly kind: 'retry'; readonly why: string };

interface PendingWrite {
  readonly req: ClientRequest;
  index: number;
  term: number;
}
interface PendingRead {
  readonly req: ClientRequest;
  readonly key: string;
  readonly minIndex: number;
  index: number;
}

/** What the service needs from its node. */
export interface ServedNode {
  readonly id: NodeId;
  readonly incarnation: number;
  readonly raw: RawNode;
  readonly disk: SimDisk;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class ClientService {
  private readonly writes = new Map<string, PendingWrite>();
  /** Proposed payloads → request key (the core keeps the payload's identity in its entries). */
  private readonly proposed = new WeakMap<Uint8Array, string>();
  private readonly reads = new Map<string, PendingRead>();
  private readCounter = 0;

  constructor(
    private readonly node: ServedNode,
    private readonly env: NodeEnv,
  ) {}

  /** Serves a client request arriving at the node. */
  handle(req: ClientRequest): void {
    const st = this.node.raw.status();
    const isLeader = st.softState.role === 'Leader';
    if (req.op.kind === 'get') {
      if (this.env.options.unsafeLocalReads) {
        // BROKEN on purpose: a leader that may be deposed serves from local state.
        if (isLeader)
          this.env.reply(this.node.id, req, {
            kind: 'done',
            output: { kind: 'value', value: readKey(this.node.disk.view.sm, req.op.key) },
          });
        else this.env.reply(this.node.id, req, { kind: 'notLeader', hint: st.softState.lead });
        return;
      }
      if (!isLeader && st.softState.lead === 0) {
        this.env.reply(this.node.id, req, { kind: 'retry', why: 'no leader' });
        return;
      }
      const ctx = `${this.node.id}.${this.node.incarnation}.${++this.readCounter}`;
      this.reads.set(ctx, { req, key: req.op.key, minIndex: this.env.observer.maxCommitted, index: -1 });
      this.node.raw.readIndex(enc.encode(ctx));
      return;
    }
    if (!isLeader) {
      this.env.reply(this.node.id, req, { kind: 'notLeader', hint: st.softState.lead });
      return;
    }
    const data = encodeCommand({ c: req.client, s: req.seq, op: req.op });
    const r = this.node.raw.propose(data);
    if (!r.ok) {
      this.env.reply(
        this.node.id,
        req,
        r.reason === 'NotLeader' ? { kind: 'notLeader', hint: r.leaderHint } : { kind: 'retry', why: r.detail },
      );
      return;
    }
    if (this.env.options.unsafeAckOnPropose && req.op.kind === 'put') {
      // BROKEN on purpose: acknowledged before it is committed.
      this.env.reply(this.node.id, req, { kind: 'done', output: { kind: 'ok' } });
      return;
    }
    const key = requestKey(req.client, req.seq);
    this.proposed.set(data, key);
    this.writes.set(key, { req, index: -1, term: -1 });
  }

  /** Learns the index and term the leader gave to proposals (from a Ready's entries). */
  noteEntries(ents: readonly Entry[]): void {
    if (this.writes.size === 0) return;
    for (const e of ents) {
      const key = this.proposed.get(e.data);
      const p = key === undefined ? undefined : this.writes.get(key);
      if (p !== undefined) {
        p.index = e.index;
        p.term = e.term;
      }
    }
  }

  /** An applied Normal entry carrying command (c, s) with `result`: answers its proposer if here. */
  onApplied(e: Entry, c: number, s: number, result: KvOutput): void {
    const key = requestKey(c, s);
    const p = this.writes.get(key);
    if (p === undefined || p.index !== e.index) return;
    this.writes.delete(key);
    this.env.reply(
      this.node.id,
      p.req,
      p.term === e.term ? { kind: 'done', output: result } : { kind: 'retry', why: 'entry overwritten' },
    );
  }

  /** Proposals at or below `index` not answered by now lost their slot. */
  dropUpTo(index: number, why: string): void {
    for (const [k, p] of this.writes) {
      if (p.index >= 0 && p.index <= index) {
        this.writes.delete(k);
        this.env.reply(this.node.id, p.req, { kind: 'retry', why });
      }
    }
  }

  noteReadStates(rss: readonly ReadState[]): void {
    for (const rs of rss) {
      const ctx = dec.decode(rs.requestCtx);
      const p = this.reads.get(ctx);
      if (p === undefined) continue;
      this.env.observer.onReadState(this.node.id, rs.index, p.minIndex);
      p.index = rs.index;
    }
  }

  /** Answers the reads whose index the state machine has reached. */
  serveReads(): void {
    const sm = this.node.disk.view.sm;
    for (const [ctx, p] of this.reads) {
      if (p.index < 0 || p.index > sm.applied) continue;
      this.reads.delete(ctx);
      this.env.reply(this.node.id, p.req, { kind: 'done', output: { kind: 'value', value: readKey(sm, p.key) } });
    }
  }
}
