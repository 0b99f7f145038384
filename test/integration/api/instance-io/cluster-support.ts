// Real instances on a ShoalCluster member without /1.0/instances (api-inst): the busybox image is
// imported into the member's node agent and the container created and started through the agent
// (mutual TLS with the member's own certificate), then the instance row is written through the
// leader's StateService on its control socket — what POST /1.0/instances will do. Also a REST
// helper over a member's unix socket with raw bodies and headers, and websockets over it.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import * as pb from '../../../../proto/gen/shoal/agent/v1/agent.js';
import { StateServiceClient, type RangeResponse, type TxnResponse } from '../../../../proto/gen/shoal/state/v1/state.js';
import { AgentClient } from '../../../../src/node-agent/client.js';
import { fromGrpcError, newOperationId } from '../../../../src/shared/index.js';
import { KvView, StateView, WriteTx, instances, txnToProto } from '../../../../src/state/index.js';
import { createTree } from '../../../../src/state/kv/tree.js';
import { busyboxImage } from '../../../support/agent-fixture.js';
import type { ShoalMember } from '../../../support/shoald-cluster.js';

/** The agent client of a member, authenticated with the member's own certificate. */
export async function memberAgent(m: ShoalMember): Promise<AgentClient> {
  const certs = join(m.dir, 'certs');
  const [caPem, certPem, keyPem] = await Promise.all(['cluster-ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(certs, f))));
  return new AgentClient(m.address, { caPem: caPem!, certPem: certPem!, keyPem: keyPem! }, m.name);
}

/** Writes table rows through `leader`'s StateService (control socket; retried on conflicts). */
export async function updateDb(leader: ShoalMember, fn: (tx: WriteTx) => void): Promise<void> {
  const client = new StateServiceClient(`unix:${leader.controlSocket}`, grpc.credentials.createInsecure());
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const res = await new Promise<RangeResponse>((resolve, reject) =>
        client.range({ key: '', prefix: true, limit: 0, serializable: false }, (err, r) => (err ? reject(fromGrpcError(err)) : resolve(r))),
      );
      const tree = createTree();
      for (const kv of res.kvs) tree.set(kv.key, { value: new Uint8Array(kv.value), version: kv.version, createRevision: kv.createRevision, modRevision: kv.modRevision });
      const tx = new WriteTx(new StateView(new KvView(tree, res.header!.revision, res.header!.appliedIndex)));
      fn(tx);
      const out = await new Promise<TxnResponse>((resolve, reject) =>
        client.txn(txnToProto(tx.toTxn().txn), (err, r) => (err ? reject(fromGrpcError(err)) : resolve(r))),
      );
      if (out.succeeded) return;
    }
    throw new Error('instance row write kept conflicting');
  } finally {
    client.close();
  }
}

const imported = new WeakMap<ShoalMember, Promise<string>>();

/** Imports the busybox image into `m`'s agent once; resolves with its fingerprint. */
export function ensureImage(m: ShoalMember, agent: AgentClient): Promise<string> {
  let p = imported.get(m);
  if (!p) {
    p = (async () => {
      const tarball = await busyboxImage();
      const { createHash } = await import('node:crypto');
      const fingerprint = createHash('sha256').update(tarball).digest('hex');
      async function* chunks(): AsyncGenerator<{ part: pb.ImagePart; data: Buffer }> {
        for (let i = 0; i < tarball.length; i += 256 * 1024) yield { part: pb.ImagePart.IMAGE_PART_METADATA, data: tarball.subarray(i, i + 256 * 1024) };
      }
      await agent.importImage(newOperationId(), { format: pb.ImageFormat.IMAGE_FORMAT_UNIFIED, expectedFingerprint: fingerprint }, chunks(), { timeoutMs: 120_000 });
      return fingerprint;
    })();
    imported.set(m, p);
  }
  return p;
}

/** A fresh instance name with the helper's tag. */
export function instanceName(word: string): string {
  return `ax-${word}-${randomBytes(2).toString('hex')}`;
}

/** Creates and starts a busybox container on `on` and records it in the database (via `leader`). */
export async function launch(on: ShoalMember, leader: ShoalMember, name: string): Promise<void> {
  const agent = await memberAgent(on);
  try {
    const fingerprint = await ensureImage(on, agent);
    // A joined member gets no local pool yet (no /1.0/storage-pools flow in these tests): make the dir pool.
    const pools = await agent.unary('listStoragePools', {});
    if (!pools.pools.some((p) => p.spec?.name === 'default')) {
      await agent.unary('createStoragePool', { operationId: newOperationId(), pool: { name: 'default', driver: 'dir' } });
    }
    await agent.unary(
      'createInstance',
      {
        operationId: newOperationId(),
        spec: { project: 'default', name, ephemeral: false, config: {}, devices: { root: { config: { type: 'disk', path: '/', pool: 'default' } } } },
        sourceType: pb.InstanceSourceType.INSTANCE_SOURCE_TYPE_IMAGE,
        imageFingerprint: fingerprint,
      },
      { timeoutMs: 120_000 },
    );
    await agent.unary('startInstance', { operationId: newOperationId(), project: 'default', name }, { timeoutMs: 120_000 });
  } finally {
    await agent.close();
  }
  const now = new Date().toISOString();
  await updateDb(leader, (tx) =>
    tx.create(instances, {
      name, project: 'default', type: 'container', architecture: 'x86_64', description: '', config: {}, devices: {},
      profiles: [], ephemeral: false, stateful: false, location: on.name, status: 'Running', created_at: now, last_used_at: now,
    }),
  );
}

/** A raw REST answer. */
export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  json<T = { type: string; error: string; error_code: number; metadata: unknown }>(): T;
}

/** A request over `m`'s unix socket with raw body and headers. */
export function rawRequest(m: ShoalMember, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const payload = body === undefined ? undefined : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: m.unixSocket, method, path, timeout: 60_000, headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const buf = Buffer.concat(parts);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString('utf8')) as never });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens an operation websocket over `m`'s unix socket. */
export function operationSocket(m: ShoalMember, opId: string, secret: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${m.unixSocket}:/1.0/operations/${opId}/websocket?secret=${secret}`);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
    ws.once('error', reject);
  });
}

/** Reads a client socket's stream until the barrier (or close). */
export function readUntilBarrier(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const done = (): void => resolve(Buffer.concat(parts).toString('utf8'));
    ws.on('message', (d: Buffer, isBinary: boolean) => (isBinary ? parts.push(d) : done()));
    ws.once('close', done);
  });
}
