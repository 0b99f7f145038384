// Covers src/raft/transport/grpc-transport.ts on real loopback sockets with mutual TLS (certs from
// test/support/pki.ts): ordered delivery on every link of three members, refusal of a foreign CA
// and of a spoofed `from`, reconnect after a peer restart, a bounded send queue, and snapshots
// streamed in chunks with size and SHA-256 verification. Each test closes what it started and the
// last one checks that no socket handle is left.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, ShoalError } from '../../../src/shared/index.js';
import { MessageType, type Message } from '../../../src/raft/index.js';
import * as pb from '../../../proto/gen/shoal/raft/v1/raft.js';
import { toProtoMessage, toSnapshotHeader } from '../../../src/raft/transport/codec.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { createTestPki, type MemberTls, type TestPki } from '../../support/pki.js';
import { appMessage, connectAll, startMember, waitFor, type Member } from '../../support/raft-transport-harness.js';

/** A raw client for InstallSnapshot/SendMessages that presents `tls` and expects server `name`. */
function rawClient(address: string, tls: MemberTls, name: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createSsl(tls.caPem, tls.keyPem, tls.certPem), {
    'grpc.ssl_target_name_override': name,
  });
}

/** Writes `reqs` on a client stream of `method` and resolves with the final status. */
function clientStream<T>(
  client: grpc.Client,
  method: 'sendMessages' | 'installSnapshot',
  reqs: readonly T[],
): Promise<grpc.status> {
  const def = pb.RaftServiceService[method] as unknown as grpc.MethodDefinition<T, unknown>;
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest<T, unknown>(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      new grpc.Metadata(),
      {},
      (err) => resolve(err ? err.code : grpc.status.OK),
    );
    for (const r of reqs) call.write(r);
    call.end();
  });
}

describe('src/raft/transport/grpc-transport', () => {
  describe('GrpcTransport', function () {
    let pki: TestPki;
    let tls: Record<'m1' | 'm2' | 'm3', MemberTls>;
    const started: Array<{ close(): Promise<void> }> = [];
    const clients: grpc.Client[] = [];
    const start = async (...args: Parameters<typeof startMember>): Promise<Member> => {
      const m = await startMember(...args);
      started.push(m);
      return m;
    };
    const client = (...args: Parameters<typeof rawClient>): grpc.Client => {
      const c = rawClient(...args);
      clients.push(c);
      return c;
    };

    before(async () => {
      pki = await createTestPki();
      tls = { m1: await pki.issue('m1'), m2: await pki.issue('m2'), m3: await pki.issue('m3') };
    });
    after(() => pki.remove());
    afterEach(async () => {
      for (const c of clients.splice(0)) c.close();
      for (const m of started.splice(0).reverse()) await m.close();
    });

    it('delivers messages in order on every link among three members', async () => {
      const ms = [await start(1, 'm1', tls.m1), await start(2, 'm2', tls.m2), await start(3, 'm3', tls.m3)];
      connectAll(ms);
      const perLink = 400;
      for (let i = 0; i < perLink; i += 40) {
        for (const a of ms) {
          const batch: Message[] = [];
          for (const b of ms) if (a !== b) for (let k = i; k < i + 40; k++) batch.push(appMessage(a.id, b.id, k + 1));
          a.transport.send(batch);
        }
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => ms.every((m) => m.received.length === 2 * perLink), 'all messages');
      for (const m of ms) {
        for (const from of ms) {
          if (from === m) continue;
          const seq = m.received.filter((x) => x.from === from.id).map((x) => x.index);
          assert.deepEqual(
            seq,
            Array.from({ length: perLink }, (_, k) => k + 1),
            `link ${from.id}→${m.id}`,
          );
        }
        assert.deepEqual(m.received[0]!.entries[0]!.data, new Uint8Array(256).fill(1));
        assert.equal(m.reports.length, 0);
      }
      const metrics = ms[0]!.transport.metrics();
      assert.equal(metrics.peers.get(2)!.messagesSent, perLink);
      assert.ok(metrics.peers.get(2)!.batchesSent < perLink, 'messages are batched');
      assert.ok(ms[1]!.transport.metrics().bytesReceived > perLink * 256);
    });

    it('refuses a client whose certificate comes from another CA, and a server too', async () => {
      const other = await createTestPki('other-ca');
      try {
        const rogueTls = await other.issue('m2');
        const m1 = await start(1, 'm1', tls.m1);
        // Trusts our CA, presents a certificate of the other CA.
        const rogue = await start(2, 'm2', { ...rogueTls, caPem: tls.m1.caPem });
        m1.transport.setPeer(2, rogue.address, 'm2');
        rogue.transport.setPeer(1, m1.address, 'm1');
        rogue.transport.send([appMessage(2, 1, 1)]);
        await waitFor(() => rogue.reports.some((r) => r.kind === 'unreachable'), 'rogue reported unreachable');
        // And our member refuses a server whose certificate is not from our CA.
        m1.transport.send([appMessage(1, 2, 1)]);
        await waitFor(() => m1.reports.some((r) => r.kind === 'unreachable'), 'm1 reported unreachable');
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(m1.received, []);
        assert.deepEqual(rogue.received, []);
      } finally {
        await other.remove();
      }
    });

    it('takes the member name from a name@host:port address and requires one', async () => {
      const [m1, m2] = [await start(1, 'm1', tls.m1), await start(2, 'm2', tls.m2)];
      m1.transport.setPeer(2, `m2@${m2.address}`);
      m2.transport.setPeer(1, `m1@${m1.address}`);
      m1.transport.send([appMessage(1, 2, 7)]);
      await waitFor(() => m2.received.length === 1, 'delivery');
      assert.equal(m2.received[0]!.index, 7);
      assert.throws(
        () => m1.transport.setPeer(3, '127.0.0.1:9'),
        (err: unknown) => err instanceof ShoalError && err.code === ErrorCode.InvalidArgument,
      );
    });

    it('rejects a message whose from is not the raft node of the certificate', async () => {
      const m1 = await start(1, 'm1', tls.m1);
      m1.transport.setPeer(2, '127.0.0.1:1', 'm2');
      m1.transport.setPeer(3, '127.0.0.1:1', 'm3');
      const asM3 = client(m1.address, tls.m3, 'm1');
      const spoofed = { messages: [toProtoMessage(appMessage(2, 1, 1))] };
      assert.equal(await clientStream(asM3, 'sendMessages', [spoofed]), grpc.status.PERMISSION_DENIED);
      const misaddressed = { messages: [toProtoMessage(appMessage(3, 9, 1))] };
      assert.equal(await clientStream(asM3, 'sendMessages', [misaddressed]), grpc.status.FAILED_PRECONDITION);
      // A member that is not a peer at all is refused up front.
      m1.transport.removePeer(3);
      const honest = { messages: [toProtoMessage(appMessage(3, 1, 1))] };
      assert.equal(await clientStream(asM3, 'sendMessages', [honest]), grpc.status.PERMISSION_DENIED);
      assert.deepEqual(m1.received, []);
      assert.equal(m1.transport.metrics().streamsRejected, 3);
    });

    it('survives a peer restart by reconnecting', async () => {
      const m1 = await start(1, 'm1', tls.m1);
      let m2 = await start(2, 'm2', tls.m2);
      const port = m2.server.port;
      connectAll([m1, m2]);
      m1.transport.send([appMessage(1, 2, 1)]);
      await waitFor(() => m2.received.length === 1, 'first message');
      await m2.close();
      started.splice(started.indexOf(m2), 1);
      m1.transport.send([appMessage(1, 2, 2)]);
      await waitFor(() => m1.reports.some((r) => r.kind === 'unreachable' && r.peer === 2), 'unreachable report');
      m2 = await start(2, 'm2', tls.m2, { port });
      m2.transport.setPeer(1, m1.address, 'm1');
      // Raft retransmits: keep sending until the restarted peer hears us.
      let next = 3;
      await waitFor(
        () => {
          m1.transport.send([appMessage(1, 2, next++)]);
          return m2.received.length > 0;
        },
        'delivery after restart',
        15_000,
      );
      assert.ok(m1.transport.metrics().peers.get(2)!.reconnects >= 1);
    });

    it('detects a peer that stops answering within a few seconds (keepalive)', async () => {
      const [m1, m2] = [await start(1, 'm1', tls.m1), await start(2, 'm2', tls.m2)];
      const proxy = await startTcpProxy(m2.address);
      started.push(proxy);
      m1.transport.setPeer(2, proxy.address, 'm2');
      m2.transport.setPeer(1, m1.address, 'm1');
      m1.transport.send([appMessage(1, 2, 1)]);
      await waitFor(() => m2.received.length === 1, 'delivery through the proxy');
      proxy.freeze();
      const frozenAt = Date.now();
      await waitFor(() => m1.reports.some((r) => r.kind === 'unreachable'), 'unreachable report', 8000);
      const detectedMs = Date.now() - frozenAt;
      assert.ok(detectedMs <= 5000, `detected after ${detectedMs} ms`);
    });

    it('bounds the send queue, dropping the oldest App/Heartbeat and reporting unreachable', async () => {
      const m1 = await start(1, 'm1', tls.m1, { limits: { maxQueuedMessages: 10 } });
      m1.transport.setPeer(2, '127.0.0.1:1', 'm2'); // Nothing listens there.
      const vote: Message = { ...appMessage(1, 2, 0, 0), type: MessageType.Vote };
      const apps = Array.from({ length: 50 }, (_, k) => appMessage(1, 2, k + 1));
      m1.transport.send([vote, ...apps]);
      assert.equal(m1.transport.metrics().peers.get(2)!.messagesDropped, 41);
      assert.ok(m1.reports.some((r) => r.kind === 'unreachable' && r.peer === 2));
    });

    it('streams a 50 MiB snapshot in chunks and delivers it verified', async () => {
      const [m1, m2] = [await start(1, 'm1', tls.m1), await start(2, 'm2', tls.m2)];
      connectAll([m1, m2]);
      const data = randomBytes(50 * 1024 * 1024);
      const snap: Message = {
        ...appMessage(1, 2, 0, 0),
        type: MessageType.Snap,
        snapshot: { meta: { index: 100, term: 3, confState: { voters: [1, 2], learners: [] } }, data },
      };
      m1.transport.send([snap]);
      await waitFor(() => m1.reports.some((r) => r.kind === 'snapshot'), 'snapshot report', 30_000);
      assert.deepEqual(m1.reports, [{ kind: 'snapshot', peer: 2, ok: true }]);
      assert.equal(m2.received.length, 1);
      const got = m2.received[0]!;
      assert.equal(got.type, MessageType.Snap);
      assert.deepEqual(got.snapshot?.meta, snap.snapshot!.meta);
      const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
      assert.equal(digest(got.snapshot!.data), digest(data));
      assert.equal(m1.transport.metrics().peers.get(2)!.snapshotBytesSent, data.length);
    });

    it('rejects a snapshot whose checksum or size does not match', async () => {
      const m2 = await start(2, 'm2', tls.m2);
      m2.transport.setPeer(1, '127.0.0.1:1', 'm1');
      const data = randomBytes(300_000);
      const msg = { ...appMessage(1, 2, 0, 0), type: MessageType.Snap };
      const header = (size: number): pb.InstallSnapshotRequest => ({
        part: {
          $case: 'header',
          value: toSnapshotHeader({
            ...msg,
            snapshot: {
              meta: { index: 5, term: 1, confState: { voters: [1, 2], learners: [] } },
              data: data.subarray(0, size),
            },
          }),
        },
      });
      const chunk = (offset: number, end: number): pb.InstallSnapshotRequest => ({
        part: { $case: 'chunk', value: { offset, data: data.subarray(offset, end) } },
      });
      const trailer = (sha: Buffer): pb.InstallSnapshotRequest => ({
        part: { $case: 'trailer', value: { sha256: sha } },
      });
      const good = createHash('sha256').update(data).digest();
      const bad = Buffer.from(good);
      bad[0]! ^= 1;
      const asM1 = client(m2.address, tls.m1, 'm2');
      const install = (reqs: pb.InstallSnapshotRequest[]): Promise<grpc.status> =>
        clientStream(asM1, 'installSnapshot', reqs);
      assert.equal(
        await install([header(data.length), chunk(0, 200_000), chunk(200_000, data.length), trailer(bad)]),
        grpc.status.DATA_LOSS,
      );
      assert.equal(await install([header(data.length), chunk(0, 200_000), trailer(good)]), grpc.status.DATA_LOSS);
      assert.equal(await install([header(data.length), chunk(0, 100), chunk(200, 300)]), grpc.status.INVALID_ARGUMENT);
      assert.equal(await install([chunk(0, 100)]), grpc.status.INVALID_ARGUMENT);
      assert.deepEqual(m2.received, []);
      // The same stream with the right checksum is accepted.
      assert.equal(
        await install([header(data.length), chunk(0, 200_000), chunk(200_000, data.length), trailer(good)]),
        grpc.status.OK,
      );
      assert.equal(m2.received.length, 1);
    });

    it('leaves no socket handles after close', async () => {
      const ms = [await start(1, 'm1', tls.m1), await start(2, 'm2', tls.m2)];
      connectAll(ms);
      ms[0]!.transport.send([appMessage(1, 2, 1)]);
      ms[1]!.transport.send([appMessage(2, 1, 1)]);
      await waitFor(() => ms.every((m) => m.received.length === 1), 'traffic both ways');
      for (const m of started.splice(0).reverse()) await m.close();
      const sockets = (): string[] => process.getActiveResourcesInfo().filter((r) => /TCP|TLS/.test(r));
      await waitFor(() => sockets().length === 0, `no sockets (still: ${sockets().join(', ')})`, 5000);
    });
  });
});
