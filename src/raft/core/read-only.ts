/**
 * ReadOnly: the leader's queue of ReadIndex requests awaiting quorum confirmation (Raft thesis
 * §6.4, etcd `read_only.go`).
 *
 * Each request gets a position (1, 2, 3, ... in arrival order) and the commit index at arrival.
 * Heartbeats carry the position of the newest request as an 8-byte context; a voter echoing
 * position p acks every request up to p. Requests up to the position acked by a majority are
 * confirmed in order — so concurrent requests batch behind one heartbeat round.
 */
import type { Message, NodeId } from '../types.js';
import { committedIndex } from './quorum.js';

export type ReadOnlyOption = 'Safe' | 'LeaseBased';

export interface ReadIndexRequest {
  /** The ReadIndex message (from this node, or forwarded by a follower). */
  readonly req: Message;
  /** The leader's commit index when the request arrived. */
  readonly index: number;
}

export class ReadOnly {
  private acks = new Map<NodeId, number>();
  private unconfirmed: ReadIndexRequest[] = [];
  /** Number of requests confirmed so far (positions 1..confirmed). */
  private confirmed = 0;

  constructor(readonly option: ReadOnlyOption) {}

  get pending(): number {
    return this.unconfirmed.length;
  }

  addRequest(commitIndex: number, req: Message): void {
    this.unconfirmed.push({ req, index: commitIndex });
  }

  /** Records that `from` echoed heartbeat context `ctx`. */
  recvAck(from: NodeId, ctx: Uint8Array): void {
    const pos = decodePosition(ctx);
    if (pos === undefined) return;
    const prev = this.acks.get(from) ?? 0;
    if (pos > prev) this.acks.set(from, pos);
  }

  /** Confirms (and removes) the requests acked by a majority of `voters`, oldest first. */
  maybeAdvance(voters: readonly NodeId[]): ReadIndexRequest[] {
    const acked = committedIndex(voters, (id) => this.acks.get(id));
    if (acked <= this.confirmed) return [];
    const n = acked - this.confirmed;
    const done = this.unconfirmed.slice(0, n);
    this.unconfirmed = this.unconfirmed.slice(n);
    this.confirmed = acked;
    return done;
  }

  /** The heartbeat context confirming every queued request, or an empty array if none. */
  heartbeatCtx(): Uint8Array {
    if (this.unconfirmed.length === 0) return EMPTY;
    return encodePosition(this.confirmed + this.unconfirmed.length);
  }
}

const EMPTY = new Uint8Array(0);

function encodePosition(pos: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, pos % 0x1_0000_0000, true);
  v.setUint32(4, Math.floor(pos / 0x1_0000_0000), true);
  return b;
}

function decodePosition(ctx: Uint8Array): number | undefined {
  if (ctx.byteLength !== 8) return undefined;
  const v = new DataView(ctx.buffer, ctx.byteOffset, 8);
  return v.getUint32(0, true) + v.getUint32(4, true) * 0x1_0000_0000;
}
