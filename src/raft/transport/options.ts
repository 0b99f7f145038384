/**
 * Tunables of the gRPC raft transport, the gRPC channel and server options derived from them, and
 * mutual-TLS credentials. Defaults suit a LAN cluster with 100 ms raft ticks.
 */
import * as grpc from '@grpc/grpc-js';

/** PEM material of a member: the cluster CA, the member's certificate chain and private key. */
export interface TlsMaterial {
  readonly caPem: Buffer;
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
}

export interface GrpcTransportLimits {
  /** Messages waiting for one peer; beyond it the oldest App/Heartbeat is dropped. */
  readonly maxQueuedMessages: number;
  /** Bytes (entry data + overhead) waiting for one peer; same drop policy. */
  readonly maxQueuedBytes: number;
  /** Soft cap of one stream write (a batch always holds at least one message). */
  readonly maxBatchBytes: number;
  /** Largest gRPC message a server accepts (a batch or a snapshot chunk). */
  readonly maxReceiveMessageBytes: number;
  /** Size of InstallSnapshot data chunks. */
  readonly snapshotChunkBytes: number;
  /** Largest snapshot a receiver assembles in memory. */
  readonly maxSnapshotBytes: number;
  /** Reconnect backoff: first delay and cap (exponential, with jitter in [0.5, 1)). */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** HTTP/2 pings: a dead peer is detected within keepaliveTimeMs + keepaliveTimeoutMs. */
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
}

export const DEFAULT_TRANSPORT_LIMITS: GrpcTransportLimits = Object.freeze({
  maxQueuedMessages: 4096,
  maxQueuedBytes: 64 * 1024 * 1024,
  maxBatchBytes: 1024 * 1024,
  maxReceiveMessageBytes: 64 * 1024 * 1024,
  snapshotChunkBytes: 512 * 1024,
  maxSnapshotBytes: 1024 * 1024 * 1024,
  backoffInitialMs: 100,
  backoffMaxMs: 5000,
  keepaliveTimeMs: 1000,
  keepaliveTimeoutMs: 2000,
});

/**
 * Options for the channel to peer `name`. TLS verifies the server's certificate for `name` (its SAN
 * DNS), not the dialled IP (grpc.ssl_target_name_override), so members are dialled by address and
 * authenticated by member name. Channel-level reconnects are kept short: our own stream backoff
 * decides the pace.
 */
export function peerChannelOptions(name: string, limits: GrpcTransportLimits): grpc.ChannelOptions {
  return {
    'grpc.ssl_target_name_override': name,
    'grpc.default_authority': name,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': limits.backoffInitialMs,
    'grpc.max_reconnect_backoff_ms': limits.backoffMaxMs,
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.max_send_message_length': -1,
    // One channel per peer: never share the subchannel with another transport in this process.
    'grpc.use_local_subchannel_pool': 1,
  };
}

/**
 * Server options the raft service needs (batches up to `maxReceiveMessageBytes`, keepalive pings
 * so half-open client connections are dropped). Pass them to `new grpc.Server(...)` when the raft
 * service shares a server with other services.
 */
export function raftServerOptions(limits: GrpcTransportLimits = DEFAULT_TRANSPORT_LIMITS): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
  };
}

/** Server credentials requiring a client certificate signed by the cluster CA (mutual TLS). */
export function raftServerCredentials(tls: TlsMaterial): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(tls.caPem, [{ private_key: tls.keyPem, cert_chain: tls.certPem }], true);
}

/** Client credentials presenting the member's certificate and trusting only the cluster CA. */
export function raftChannelCredentials(tls: TlsMaterial): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(tls.caPem, tls.keyPem, tls.certPem);
}
