// Helpers for tests and benchmarks of the gRPC raft transport: start a member (transport + its own
// mTLS server on loopback), build raft messages, and wait for a condition.
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, seededRng } from '../../src/shared/index.js';
import {
  EntryType,
  GrpcTransport,
  MessageType,
  startRaftServer,
  type GrpcTransportLimits,
  type Message,
  type NodeId,
  type RaftLogger,
  type RaftServer,
  type TransportReport,
} from '../../src/raft/index.js';
import type { MemberTls } from './pki.js';

export const quietLogger: RaftLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export interface Member {
  readonly id: NodeId;
  readonly name: string;
  readonly tls: MemberTls;
  readonly transport: GrpcTransport;
  readonly server: RaftServer;
  readonly address: string;
  readonly received: Message[];
  readonly reports: TransportReport[];
  close(): Promise<void>;
}

/** Starts a member listening on 127.0.0.1 (`port` 0 = any free port). */
export async function startMember(
  id: NodeId,
  name: string,
  tls: MemberTls,
  opts: { port?: number; limits?: Partial<GrpcTransportLimits>; logger?: RaftLogger } = {},
): Promise<Member> {
  const transport = new GrpcTransport({
    id,
    tls,
    clock: systemClock,
    rng: seededRng(id),
    logger: opts.logger ?? quietLogger,
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const received: Message[] = [];
  const reports: TransportReport[] = [];
  transport.onMessage((m) => received.push(m));
  transport.onReport((r) => reports.push(r));
  let server: RaftServer;
  try {
    server = await startRaftServer(transport, { address: `127.0.0.1:${opts.port ?? 0}`, tls });
  } catch (err) {
    await transport.close();
    throw err;
  }
  return {
    id,
    name,
    tls,
    transport,
    server,
    address: `127.0.0.1:${server.port}`,
    received,
    reports,
    async close() {
      await transport.close();
      await server.close();
    },
  };
}

/** Makes every member a peer of every other. */
export function connectAll(members: readonly Member[]): void {
  for (const a of members) for (const b of members) if (a !== b) a.transport.setPeer(b.id, b.address, b.name);
}

/** An App message carrying `entries` entries of `size` bytes, numbered from `index`. */
export function appMessage(from: NodeId, to: NodeId, index: number, entries = 1, size = 256): Message {
  const es = [];
  for (let k = 0; k < entries; k++) {
    es.push({ term: 1, index: index + k, type: EntryType.Normal, data: new Uint8Array(size).fill((index + k) & 0xff) });
  }
  return {
    type: MessageType.App,
    from,
    to,
    term: 1,
    logTerm: 1,
    index,
    entries: es,
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
  };
}

/** Polls `cond` every 10 ms until it holds; throws after `timeoutMs` with `what`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
}
