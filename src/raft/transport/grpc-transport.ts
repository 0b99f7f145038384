/**
 * GrpcTransport: the raft Transport over gRPC with mutual TLS (swarmkit `transport`, etcd
 * `rafthttp` in spirit). Outbound, one PeerStream per peer (peer-stream.ts): a long-lived
 * SendMessages stream with batching, a bounded queue and reconnect backoff, plus InstallSnapshot
 * for Snap messages. Inbound, the RaftService handlers authenticate the caller by its client
 * certificate (CN = member name), refuse any message whose `from` is not that member's raft node
 * or whose `to` is not us, and hand messages to `onMessage` in arrival order.
 *
 * Mount the service on a shared server with {@link addRaftServiceToServer} (create that server
 * with {@link raftServerOptions} and {@link raftServerCredentials}), or let
 * {@link startRaftServer} create one.
 */
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, ShoalError, type Clock, type Rng } from '../../shared/index.js';
import type { RaftLogger, Transport, TransportReport } from '../ports.js';
import { MessageType, type Message, type NodeId } from '../types.js';
import * as pb from '../../../proto/gen/shoal/raft/v1/raft.js';
import { fromProtoMessage } from './codec.js';
import { toGrpcStatus } from '../../shared/grpc-status.js';
import {
  DEFAULT_TRANSPORT_LIMITS,
  raftChannelCredentials,
  raftServerCredentials,
  raftServerOptions,
  type GrpcTransportLimits,
  type TlsMaterial,
} from './options.js';
import { PeerStream, type PeerMetrics } from './peer-stream.js';
import { SnapshotAssembler } from './snapshot-stream.js';
import type { LatencyTrace } from '../runtime/latency-trace.js';

export interface GrpcTransportOptions {
  /** This raft node's id; inbound messages must be addressed to it. */
  readonly id: NodeId;
  /** This member's certificate and key, and the cluster CA that every peer must chain to. */
  readonly tls: TlsMaterial;
  readonly clock: Clock;
  /** Jitter of the reconnect backoff. */
  readonly rng: Rng;
  readonly logger: RaftLogger;
  readonly limits?: Partial<GrpcTransportLimits>;
  /** Debug: stage marks of App entries and acks as they are written (latency-trace.ts). */
  readonly trace?: LatencyTrace;
}

/** Counters for benchmarks and status (monotonic). */
export interface TransportMetrics {
  readonly peers: ReadonlyMap<NodeId, Readonly<PeerMetrics>>;
  readonly messagesReceived: number;
  readonly batchesReceived: number;
  readonly bytesReceived: number;
  readonly snapshotsReceived: number;
  /** Inbound streams ended with an error by us (authentication, spoofed `from`, bad data). */
  readonly streamsRejected: number;
}

interface Inbound {
  fail(err: ShoalError): void;
}

/**
 * A {@link Transport} over gRPC + mTLS. `send` never blocks or throws: messages to unknown peers
 * and messages that cannot be queued are dropped and reported `unreachable`. All methods must be
 * called from one thread of control (the raft loop); handlers run on the event loop.
 */
export class GrpcTransport implements Transport {
  readonly id: NodeId;
  readonly limits: GrpcTransportLimits;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly peers = new Map<NodeId, PeerStream>();
  private readonly inbound = new Set<Inbound>();
  private messageHandler: ((msg: Message) => void) | undefined;
  private reportHandler: ((r: TransportReport) => void) | undefined;
  private readonly counters = {
    messagesReceived: 0,
    batchesReceived: 0,
    bytesReceived: 0,
    snapshotsReceived: 0,
    streamsRejected: 0,
  };
  private closed = false;

  constructor(private readonly options: GrpcTransportOptions) {
    this.id = options.id;
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...options.limits };
    this.credentials = raftChannelCredentials(options.tls);
  }

  // ---- Transport ----

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (!peer) {
        this.options.logger.debug({ peer: m.to, type: m.type }, 'message for unknown peer dropped');
        this.report({ kind: 'unreachable', peer: m.to });
        continue;
      }
      if (m.type === MessageType.Snap) peer.sendSnapshot(m);
      else peer.enqueue(m);
    }
  }

  onMessage(handler: (msg: Message) => void): void {
    this.messageHandler = handler;
  }

  onReport(handler: (report: TransportReport) => void): void {
    this.reportHandler = handler;
  }

  /**
   * Adds or updates peer `id` at `address` (`host:port`). `name` is the member name in the peer's
   * certificate; it may instead be given in the address as `name@host:port` (useful when the
   * address travels in a ConfChange context). Throws INVALID_ARGUMENT when no name is given.
   */
  setPeer(id: NodeId, address: string, name?: string): void {
    if (this.closed) return;
    const at = address.indexOf('@');
    const peerName = name ?? (at > 0 ? address.slice(0, at) : undefined);
    const hostPort = name === undefined && at > 0 ? address.slice(at + 1) : address;
    if (!peerName) {
      throw new ShoalError(ErrorCode.InvalidArgument, `Raft peer ${id} at "${address}" has no member name`);
    }
    const existing = this.peers.get(id);
    if (existing && existing.address === hostPort && existing.name === peerName) return;
    existing?.close();
    this.peers.set(
      id,
      new PeerStream(id, hostPort, peerName, {
        credentials: this.credentials,
        limits: this.limits,
        clock: this.options.clock,
        rng: this.options.rng,
        logger: this.options.logger,
        report: (r) => this.report(r),
        trace: this.options.trace,
      }),
    );
  }

  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  /** Closes every outbound stream and channel and ends inbound streams with UNAVAILABLE. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    const shutdown = new ShoalError(ErrorCode.Unavailable, `Raft node ${this.id} is shutting down`);
    for (const call of [...this.inbound]) call.fail(shutdown);
    this.inbound.clear();
    await Promise.resolve();
  }

  metrics(): TransportMetrics {
    const peers = new Map<NodeId, PeerMetrics>();
    for (const [id, p] of this.peers) peers.set(id, { ...p.metrics });
    return { peers, ...this.counters };
  }

  // ---- Server side ----

  /** The RaftService handlers bound to this transport (see {@link addRaftServiceToServer}). */
  serviceImplementation(): pb.RaftServiceServer {
    return {
      sendMessages: (call, callback) => this.handleSendMessages(call, callback),
      installSnapshot: (call, callback) => this.handleInstallSnapshot(call, callback),
    };
  }

  /** Counts bytes of inbound SendMessages requests (called by the deserializer). */
  countReceivedBytes(n: number): void {
    this.counters.bytesReceived += n;
  }

  private handleSendMessages(
    call: grpc.ServerReadableStream<pb.SendMessagesRequest, pb.SendMessagesResponse>,
    callback: grpc.sendUnaryData<pb.SendMessagesResponse>,
  ): void {
    const conn = this.accept(call, callback);
    if (!conn) return;
    call.sendMetadata(new grpc.Metadata()); // Tells the sender its stream is accepted.
    call.on('data', (req: pb.SendMessagesRequest) => {
      if (conn.done) return;
      this.counters.batchesReceived++;
      for (const p of req.messages) {
        const msg = this.admit(() => fromProtoMessage(p));
        if (msg instanceof ShoalError) return conn.fail(msg);
        const refused = this.checkSender(conn.peerName, msg);
        if (refused) return conn.fail(refused);
        if (msg.type === MessageType.Snap) {
          return conn.fail(new ShoalError(ErrorCode.InvalidArgument, 'Snap messages travel via InstallSnapshot'));
        }
        this.deliver(msg);
      }
    });
    call.on('end', () => conn.succeed({}));
    call.on('error', () => conn.drop()); // The sender cancelled or the connection died.
  }

  private handleInstallSnapshot(
    call: grpc.ServerReadableStream<pb.InstallSnapshotRequest, pb.InstallSnapshotResponse>,
    callback: grpc.sendUnaryData<pb.InstallSnapshotResponse>,
  ): void {
    const conn = this.accept(call, callback);
    if (!conn) return;
    const assembler = new SnapshotAssembler(this.limits.maxSnapshotBytes);
    let checked = false;
    call.on('data', (req: pb.InstallSnapshotRequest) => {
      if (conn.done) return;
      const result = this.admit(() => {
        const done = assembler.accept(req);
        const header = assembler.headerMessage;
        if (!checked && header) {
          checked = true;
          const err = this.checkSender(conn.peerName, header);
          if (err) throw err;
        }
        return done;
      });
      if (result instanceof ShoalError) return conn.fail(result);
      if (!result) return;
      this.counters.snapshotsReceived++;
      this.options.logger.info(
        { peer: result.from, index: result.snapshot.meta.index, sizeBytes: result.snapshot.data.byteLength },
        'snapshot received',
      );
      this.deliver(result);
      conn.succeed({});
    });
    call.on('end', () =>
      conn.fail(new ShoalError(ErrorCode.InvalidArgument, 'Snapshot stream ended before its trailer')),
    );
    call.on('error', () => conn.drop());
  }

  /** Authenticates an inbound call; on failure ends it and returns undefined. */
  private accept<Res>(
    call: Pick<grpc.ServerReadableStream<unknown, unknown>, 'getAuthContext'>,
    callback: grpc.sendUnaryData<Res>,
  ): (Inbound & { peerName: string; done: boolean; succeed(res: Res): void; drop(): void }) | undefined {
    const conn = {
      peerName: '',
      done: false,
      fail: (err: ShoalError): void => {
        if (conn.done) return;
        conn.done = true;
        this.inbound.delete(conn);
        this.counters.streamsRejected++;
        this.options.logger.warn({ err, member: conn.peerName || undefined }, 'raft stream refused');
        callback(toGrpcStatus(err), null);
      },
      succeed: (res: Res): void => {
        if (conn.done) return;
        conn.done = true;
        this.inbound.delete(conn);
        callback(null, res);
      },
      drop: (): void => {
        conn.done = true;
        this.inbound.delete(conn);
      },
    };
    if (this.closed) {
      conn.fail(new ShoalError(ErrorCode.Unavailable, `Raft node ${this.id} is shutting down`));
      return undefined;
    }
    const name = peerCertificateName(call);
    if (!name) {
      conn.fail(new ShoalError(ErrorCode.Unauthenticated, 'Raft peer presented no client certificate name'));
      return undefined;
    }
    conn.peerName = name;
    if (![...this.peers.values()].some((p) => p.name === name)) {
      conn.fail(new ShoalError(ErrorCode.PermissionDenied, `Member "${name}" is not a raft peer of node ${this.id}`));
      return undefined;
    }
    this.inbound.add(conn);
    return conn;
  }

  /** Runs `decode`; a thrown error becomes a value (INVALID_ARGUMENT unless it is a ShoalError). */
  private admit<T>(decode: () => T): T | ShoalError {
    try {
      return decode();
    } catch (err) {
      if (err instanceof ShoalError) return err;
      return new ShoalError(ErrorCode.InvalidArgument, 'Undecodable raft message', { cause: err });
    }
  }

  /** `from` must be the raft node of the authenticated member, `to` must be us. */
  private checkSender(peerName: string, msg: Message): ShoalError | undefined {
    const sender = this.peers.get(msg.from);
    if (!sender || sender.name !== peerName) {
      return new ShoalError(
        ErrorCode.PermissionDenied,
        `Member "${peerName}" may not send raft messages from raft node ${msg.from}`,
      );
    }
    if (msg.to !== this.id) {
      return new ShoalError(
        ErrorCode.FailedPrecondition,
        `Message for raft node ${msg.to} arrived at raft node ${this.id}`,
      );
    }
    return undefined;
  }

  private deliver(msg: Message): void {
    this.counters.messagesReceived++;
    if (this.messageHandler) this.messageHandler(msg);
    else this.options.logger.debug({ peer: msg.from, type: msg.type }, 'message before a handler was set dropped');
  }

  private report(r: TransportReport): void {
    this.reportHandler?.(r);
  }
}

/** The member name of an authenticated caller: the CN of its client certificate. */
function peerCertificateName(
  call: Pick<grpc.ServerReadableStream<unknown, unknown>, 'getAuthContext'>,
): string | undefined {
  const cn: unknown = call.getAuthContext()?.sslPeerCertificate?.subject?.CN;
  if (typeof cn === 'string' && cn.length > 0) return cn;
  return undefined;
}

/**
 * Mounts the raft service of `transport` on `server` (which should be created with
 * {@link raftServerOptions} and listen with {@link raftServerCredentials}, i.e. mutual TLS).
 */
export function addRaftServiceToServer(server: grpc.Server, transport: GrpcTransport): void {
  const def = pb.RaftServiceService;
  const counted = {
    ...def,
    sendMessages: {
      ...def.sendMessages,
      requestDeserialize: (b: Buffer): pb.SendMessagesRequest => {
        transport.countReceivedBytes(b.length);
        return def.sendMessages.requestDeserialize(b);
      },
    },
  };
  server.addService(counted, transport.serviceImplementation());
}

/** A gRPC server hosting only the raft service. */
export interface RaftServer {
  readonly server: grpc.Server;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stops accepting, waits up to 2 s for calls to finish, then forces the rest. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a server with mutual TLS (`tls`: this member's certificate and the cluster CA), mounts the
 * raft service and binds `address` (e.g. `127.0.0.1:0`). Throws UNAVAILABLE when binding fails.
 */
export async function startRaftServer(
  transport: GrpcTransport,
  options: { readonly address: string; readonly tls: TlsMaterial },
): Promise<RaftServer> {
  const server = new grpc.Server(raftServerOptions(transport.limits));
  addRaftServiceToServer(server, transport);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, raftServerCredentials(options.tls), (err, p) => {
      if (err)
        reject(
          new ShoalError(ErrorCode.Unavailable, `Failed binding raft server to "${options.address}"`, { cause: err }),
        );
      else resolve(p);
    });
  });
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}
