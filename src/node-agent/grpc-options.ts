/**
 * What both ends of an AgentService connection share: the TLS material type and channel options.
 * No service imports, so a client (cluster/agent-client.ts) can use it alone.
 */
import type * as grpc from '@grpc/grpc-js';

/** PEM material for mutual TLS with the cluster CA. */
export interface AgentTls {
  readonly caPem: Buffer;
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
}

/** gRPC channel options both ends use (keepalive detects dead peers). */
export const AGENT_GRPC_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
};

