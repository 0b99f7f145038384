/**
 * Inflights: the flow-control window of one follower in the Replicate state (etcd
 * `tracker.Inflights`). Each in-flight App message is recorded by the index of its last entry and
 * its byte size; an ack for index i frees every message whose last index is <= i.
 *
 * The window is full when it holds `maxMessages` messages, or when `maxBytes` (> 0) is reached.
 * The byte limit is soft: one message may take the total from below the limit to above it.
 */
import { RaftInvariantError } from '../types.js';

export class Inflights {
  private start = 0;
  private n = 0;
  private totalBytes = 0;
  // Ring buffer, grown on demand up to maxMessages (most followers never fill it).
  private indexes: number[] = [];
  private sizes: number[] = [];

  /**
   * @param maxMessages at most this many messages in flight (> 0)
   * @param maxBytes at most this many bytes in flight; 0 means no byte limit
   */
  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {
    if (!(maxMessages > 0)) throw new RaftInvariantError(`maxInflightMsgs must be > 0 (got ${maxMessages})`);
  }

  /** Number of messages in flight. */
  get count(): number {
    return this.n;
  }

  /** Bytes in flight. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** True when no more messages may be sent until some are acked. */
  full(): boolean {
    return this.n === this.maxMessages || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  /**
   * Records a message whose last entry is `index`. Indexes must be added in increasing order and
   * the window must not be full.
   */
  add(index: number, bytes: number): void {
    if (this.full()) throw new RaftInvariantError('cannot add into a full inflights window');
    let next = this.start + this.n;
    if (next >= this.maxMessages) next -= this.maxMessages;
    if (next >= this.indexes.length) this.grow();
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.n++;
    this.totalBytes += bytes;
  }

  /** Frees all messages whose last index is <= `to`. */
  freeLE(to: number): void {
    if (this.n === 0 || to < this.indexes[this.start]!) return;
    let idx = this.start;
    let i = 0;
    let freed = 0;
    for (; i < this.n; i++) {
      if (to < this.indexes[idx]!) break;
      freed += this.sizes[idx]!;
      if (++idx >= this.maxMessages) idx -= this.maxMessages;
    }
    this.n -= i;
    this.totalBytes -= freed;
    this.start = this.n === 0 ? 0 : idx;
  }

  /** Frees everything. */
  reset(): void {
    this.start = 0;
    this.n = 0;
    this.totalBytes = 0;
  }

  private grow(): void {
    // Double up to maxMessages. The ring only wraps at maxMessages, so while the buffer is shorter
    // the used region [start, start + n) is contiguous and extending the arrays keeps it valid.
    const size = Math.min(Math.max(this.indexes.length * 2, 1), this.maxMessages);
    this.indexes.length = size;
    this.sizes.length = size;
  }
}
