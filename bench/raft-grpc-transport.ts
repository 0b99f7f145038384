// Figures: raft messages/s over ONE GrpcTransport stream (mTLS, loopback, both ends in this
// process) and snapshot MiB/s over InstallSnapshot.
//  - ours, open loop: N App messages (1 entry of 256 B each) handed to send() in groups of 64;
//    the transport batches whatever is queued into one stream write.
//  - ours, windowed: like raft in Replicate state, at most 256 Apps in flight; the receiver
//    answers each with an AppResp over its own stream (so both directions are exercised).
//  - anchor: the same messages over a plain grpc-js client stream of the same service, one raft
//    message per stream write (what an unbatched transport does), same mTLS, same server.
//  - snapshots: 128 MiB in 256 KiB / 512 KiB / 1 MiB chunks, SHA-256 verified by the receiver.
// Run: npx tsx bench/raft-grpc-transport.ts [messages]
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { MessageType, toProtoMessage, type Message } from '../src/raft/index.js';
import * as pb from '../proto/gen/shoal/raft/v1/raft.js';
import { createTestPki } from '../test/support/pki.js';
import { appMessage, connectAll, startMember, waitFor, type Member } from '../test/support/raft-transport-harness.js';

const N = Number(process.argv[2] ?? 100_000);
const pki = await createTestPki();
const tls1 = await pki.issue('m1');
const tls2 = await pki.issue('m2');
const bigQueue = { maxQueuedMessages: 10 * N, maxQueuedBytes: 4 * 1024 * 1024 * 1024 };

async function pair(limits: Record<string, number> = {}): Promise<[Member, Member]> {
  const a = await startMember(1, 'm1', tls1, { limits: { ...bigQueue, ...limits } });
  const b = await startMember(2, 'm2', tls2, { limits: { ...bigQueue, ...limits } });
  connectAll([a, b]);
  return [a, b];
}

async function openLoop(): Promise<number> {
  const [a, b] = await pair();
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i += 64) {
      const group: Message[] = [];
      for (let k = i; k < Math.min(N, i + 64); k++) group.push(appMessage(1, 2, k + 1));
      a.transport.send(group);
      if ((i / 64) % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => b.received.length >= N, 'open-loop delivery', 600_000);
    const s = (performance.now() - t0) / 1000;
    const m = a.transport.metrics().peers.get(2)!;
    console.log(`  (${m.batchesSent} stream writes, ${(m.bytesSent / 1048576).toFixed(1)} MiB)`);
    return N / s;
  } finally {
    await a.close();
    await b.close();
  }
}

async function windowed(window: number): Promise<number> {
  const [a, b] = await pair();
  try {
    let acked = 0;
    let sent = 0;
    b.transport.onMessage((m) => {
      b.transport.send([{ ...appMessage(2, 1, m.index, 0), type: MessageType.AppResp }]);
    });
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        const group: Message[] = [];
        while (sent < N && sent - acked < window) group.push(appMessage(1, 2, ++sent));
        if (group.length > 0) a.transport.send(group);
      };
      a.transport.onMessage(() => {
        acked++;
        if (acked >= N) resolve();
        else pump();
      });
      pump();
    });
    return N / ((performance.now() - t0) / 1000);
  } finally {
    await a.close();
    await b.close();
  }
}

async function unbatchedAnchor(): Promise<number> {
  const [a, b] = await pair();
  const client = new grpc.Client(b.address, grpc.credentials.createSsl(tls1.caPem, tls1.keyPem, tls1.certPem), {
    'grpc.ssl_target_name_override': 'm2',
  });
  try {
    const def = pb.RaftServiceService.sendMessages;
    const call = client.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, new grpc.Metadata(), {}, () => {});
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      if (!call.write({ messages: [toProtoMessage(appMessage(1, 2, i + 1))] })) {
        await new Promise((r) => call.once('drain', r));
      }
    }
    await waitFor(() => b.received.length >= N, 'unbatched delivery', 600_000);
    const rate = N / ((performance.now() - t0) / 1000);
    call.end();
    return rate;
  } finally {
    client.close();
    await a.close();
    await b.close();
  }
}

async function snapshot(chunk: number, size: number): Promise<number> {
  const [a, b] = await pair({ snapshotChunkBytes: chunk });
  try {
    const data = randomBytes(size);
    const msg: Message = {
      ...appMessage(1, 2, 0, 0),
      type: MessageType.Snap,
      snapshot: { meta: { index: 1, term: 1, confState: { voters: [1, 2], learners: [] } }, data },
    };
    const t0 = performance.now();
    a.transport.send([msg]);
    await waitFor(() => a.reports.some((r) => r.kind === 'snapshot'), 'snapshot report', 600_000);
    if (!a.reports.some((r) => r.kind === 'snapshot' && r.ok)) throw new Error('snapshot failed');
    return size / 1048576 / ((performance.now() - t0) / 1000);
  } finally {
    await a.close();
    await b.close();
  }
}

try {
  console.log(`GrpcTransport, mTLS over loopback, one process, ${N} App messages with one 256 B entry`);
  console.log(`ours, open loop (batched):        ${(await openLoop()).toFixed(0)} msgs/s`);
  console.log(`ours, windowed 256 + AppResp:     ${(await windowed(256)).toFixed(0)} msgs/s`);
  console.log(`anchor, 1 message per write:      ${(await unbatchedAnchor()).toFixed(0)} msgs/s`);
  const size = 128 * 1048576;
  for (const chunk of [256 * 1024, 512 * 1024, 1024 * 1024]) {
    console.log(`snapshot 128 MiB, ${chunk / 1024} KiB chunks:  ${(await snapshot(chunk, size)).toFixed(0)} MiB/s`);
  }
} finally {
  await pki.remove();
}
