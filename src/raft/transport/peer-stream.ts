/**
 * PeerStream: everything one raft node sends to one peer. It owns the gRPC client (channel) to
 * the peer, ONE long-lived SendMessages stream, a bounded send queue, and the snapshot sender.
 *
 *   send(msg) ─▶ queue ─(next macrotask)─▶ one stream write per batch (all queued messages)
 *                  │ over limit: drop oldest App/Heartbeat, report unreachable (raft retransmits)
 *   stream breaks ─▶ report unreachable, reconnect after backoff (exponential, jittered);
 *                    while waiting, sends are dropped and reported unreachable
 *
 * Writes respect backpressure: after `write()` returns false nothing more is written until
 * 'drain'; messages wait in the queue meanwhile. The stream is opened lazily, on the first send.
 */
import * as grpc from '@grpc/grpc-js';
import type { Clock, Disposable, Rng } from '../../shared/index.js';
import type { RaftLogger, TransportReport } from '../ports.js';
import { MessageType, entrySize, type Message, type NodeId } from '../types.js';
import * as pb from '../../../proto/gen/shoal/raft/v1/raft.js';
import { toProtoMessage } from './codec.js';
import { peerChannelOptions, type GrpcTransportLimits } from './options.js';
import { sendSnapshot } from './snapshot-stream.js';
import type { LatencyTrace } from '../runtime/latency-trace.js';

/** Counters of one outbound link (monotonic). */
export interface PeerMetrics {
  messagesSent: number;
  batchesSent: number;
  /** Serialized bytes of SendMessages writes. */
  bytesSent: number;
  messagesDropped: number;
  /** Streams opened after a broken one. */
  reconnects: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  snapshotBytesSent: number;
}

export interface PeerStreamDeps {
  readonly credentials: grpc.ChannelCredentials;
  readonly limits: GrpcTransportLimits;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: RaftLogger;
  readonly report: (r: TransportReport) => void;
  /** Debug: marks 'sentApp' / 'sentAck' when App entries and acks are written to the stream. */
  readonly trace?: LatencyTrace | undefined;
}

const MESSAGE_OVERHEAD = 64;
/** A stream that lived this long after being accepted counts as healthy (backoff restarts). */
const STABLE_STREAM_MS = 1000;
const SEND_PATH = pb.RaftServiceService.sendMessages.path;

function messageSize(m: Message): number {
  let n = MESSAGE_OVERHEAD + m.context.byteLength;
  for (const e of m.entries) n += entrySize(e);
  return n;
}

const isDroppable = (m: Message): boolean => m.type === MessageType.App || m.type === MessageType.Heartbeat;

export class PeerStream {
  readonly metrics: PeerMetrics = {
    messagesSent: 0,
    batchesSent: 0,
    bytesSent: 0,
    messagesDropped: 0,
    reconnects: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
    snapshotBytesSent: 0,
  };
  private readonly client: grpc.Client;
  private queue: Message[] = [];
  private queuedBytes = 0;
  private call: grpc.ClientWritableStream<pb.SendMessagesRequest> | undefined;
  private waitingDrain = false;
  private flushScheduled = false;
  private backoff: Disposable | undefined;
  private attempt = 0;
  /** When the current stream was accepted by the server (clock ms), if it was. */
  private acceptedAt: number | undefined;
  private broken = false;
  private snapshotInFlight: AbortController | undefined;
  private closed = false;

  constructor(
    readonly id: NodeId,
    readonly address: string,
    readonly name: string,
    private readonly deps: PeerStreamDeps,
  ) {
    this.client = new grpc.Client(address, deps.credentials, peerChannelOptions(name, deps.limits));
  }

  /** Queues `msg` (not a Snap) for the stream. Never throws and never blocks. */
  enqueue(msg: Message): void {
    if (this.closed) return;
    if (this.backoff) {
      // The link is known broken: drop now rather than flush stale messages later (etcd does the
      // same); raft probes again on its next heartbeat.
      this.metrics.messagesDropped++;
      this.deps.report({ kind: 'unreachable', peer: this.id });
      return;
    }
    this.queue.push(msg);
    this.queuedBytes += messageSize(msg);
    const { maxQueuedMessages, maxQueuedBytes } = this.deps.limits;
    let dropped = 0;
    while (this.queue.length > 1 && (this.queue.length > maxQueuedMessages || this.queuedBytes > maxQueuedBytes)) {
      const at = this.queue.findIndex(isDroppable);
      const [gone] = this.queue.splice(at < 0 ? 0 : at, 1);
      this.queuedBytes -= messageSize(gone!);
      dropped++;
    }
    if (dropped > 0) {
      this.metrics.messagesDropped += dropped;
      this.deps.logger.debug({ peer: this.id, dropped }, 'raft send queue full, dropped messages');
      this.deps.report({ kind: 'unreachable', peer: this.id });
    }
    this.scheduleFlush();
  }

  /**
   * Streams a Snap message's snapshot through InstallSnapshot, then reports {kind:'snapshot', ok}.
   * One snapshot at a time per peer: another Snap while one is in flight is dropped (raft waits
   * for the report of the first before it sends another).
   */
  sendSnapshot(msg: Message): void {
    if (this.closed) return;
    if (this.snapshotInFlight) {
      this.deps.logger.debug({ peer: this.id }, 'snapshot already in flight, dropped another');
      return;
    }
    const abort = new AbortController();
    this.snapshotInFlight = abort;
    sendSnapshot(this.client, msg, this.deps.limits.snapshotChunkBytes, this.deps.clock, abort.signal)
      .then(
        (bytes) => {
          this.metrics.snapshotsSent++;
          this.metrics.snapshotBytesSent += bytes;
          this.deps.logger.info({ peer: this.id, sizeBytes: bytes }, 'snapshot sent');
          return true;
        },
        (err: unknown) => {
          this.metrics.snapshotsFailed++;
          this.deps.logger.warn({ peer: this.id, err }, 'snapshot send failed');
          return false;
        },
      )
      .then(
        (ok) => {
          this.snapshotInFlight = undefined;
          if (!this.closed) this.deps.report({ kind: 'snapshot', peer: this.id, ok });
        },
        (err: unknown) => this.deps.logger.error({ peer: this.id, err }, 'snapshot report failed'),
      );
  }

  /** Ends the stream, cancels a snapshot in flight and closes the channel. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backoff?.dispose();
    this.snapshotInFlight?.abort();
    this.queue = [];
    this.queuedBytes = 0;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.client.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Coalesce everything sent in this turn of the event loop into one write.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.backoff || this.waitingDrain || this.queue.length === 0) return;
    const call = this.call ?? this.open();
    while (this.queue.length > 0 && !this.waitingDrain) {
      // Take the longest prefix of the queue within maxBatchBytes (at least one message).
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && (count === 0 || bytes < this.deps.limits.maxBatchBytes)) {
        bytes += messageSize(this.queue[count]!);
        count++;
      }
      const taken = this.queue.splice(0, count);
      this.queuedBytes -= bytes;
      const batch: pb.Message[] = [];
      for (const m of taken) {
        try {
          batch.push(toProtoMessage(m));
        } catch (err) {
          // A message the codec refuses is a bug upstream; drop it rather than poison the stream.
          this.deps.logger.error({ peer: this.id, err, type: m.type }, 'unencodable raft message dropped');
        }
      }
      if (batch.length === 0) continue;
      if (this.deps.trace) this.traceSent(this.deps.trace, taken);
      this.metrics.messagesSent += batch.length;
      this.metrics.batchesSent++;
      if (!call.write({ messages: batch })) {
        this.waitingDrain = true;
        call.once('drain', () => {
          this.waitingDrain = false;
          if (call === this.call) this.flush();
        });
      }
    }
  }

  private tracedAck = 0;

  private traceSent(trace: LatencyTrace, msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (m.type === MessageType.App && m.entries.length > 0) {
        trace.mark('sentApp', m.entries[0]!.index, m.entries[m.entries.length - 1]!.index);
      } else if (m.type === MessageType.AppResp && !m.reject && m.index > this.tracedAck) {
        trace.mark('sentAck', this.tracedAck + 1, m.index);
        this.tracedAck = m.index;
      }
    }
  }

  private open(): grpc.ClientWritableStream<pb.SendMessagesRequest> {
    if (this.broken) {
      this.metrics.reconnects++;
      this.broken = false;
    }
    const serialize = (req: pb.SendMessagesRequest): Buffer => {
      const bytes = Buffer.from(pb.SendMessagesRequest.encode(req).finish());
      this.metrics.bytesSent += bytes.length;
      return bytes;
    };
    const call = this.client.makeClientStreamRequest<pb.SendMessagesRequest, pb.SendMessagesResponse>(
      SEND_PATH,
      serialize,
      (b: Buffer) => pb.SendMessagesResponse.decode(b),
      new grpc.Metadata(),
      {},
      (err) => this.onEnd(call, err),
    );
    // The server sends headers once it has authenticated us: the link works.
    this.acceptedAt = undefined;
    call.on('metadata', () => {
      if (call === this.call) this.acceptedAt = this.deps.clock.now();
    });
    this.call = call;
    return call;
  }

  private onEnd(call: grpc.ClientWritableStream<pb.SendMessagesRequest>, err: grpc.ServiceError | null): void {
    if (call !== this.call || this.closed) return;
    this.call = undefined;
    this.waitingDrain = false;
    this.broken = true;
    // Reset the backoff only after a stream that worked for a while, so a peer that accepts and
    // then refuses at once (e.g. a misconfigured identity) does not cause a reconnect storm.
    if (this.acceptedAt !== undefined && this.deps.clock.now() - this.acceptedAt >= STABLE_STREAM_MS) this.attempt = 0;
    this.acceptedAt = undefined;
    const log = this.attempt === 0 ? this.deps.logger.warn : this.deps.logger.debug;
    log.call(
      this.deps.logger,
      { peer: this.id, address: this.address, err, attempt: this.attempt },
      'raft stream to peer broken',
    );
    this.deps.report({ kind: 'unreachable', peer: this.id });
    // What was not written yet would be stale after the backoff: drop it, raft retransmits.
    this.metrics.messagesDropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
    const { backoffInitialMs, backoffMaxMs } = this.deps.limits;
    const delay = Math.min(backoffMaxMs, backoffInitialMs * 2 ** this.attempt) * (0.5 + this.deps.rng() / 2);
    this.attempt = Math.min(this.attempt + 1, 30);
    // The stream is reopened by the next send after the delay.
    this.backoff = this.deps.clock.setTimer(delay, () => {
      this.backoff = undefined;
    });
  }
}
