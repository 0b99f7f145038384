/**
 * The state benchmark's load generator: a separate Node process, forked by bench/state/main.ts,
 * driving one Shoal cluster with one of two workloads through the same gRPC clients (mutual TLS,
 * one channel per member), `inflight` operations outstanding at once:
 * - `put`: a plain Raft put (KvService.Put) of a unique key with a 256-byte value (the raft
 *   benchmark's workload);
 * - `txn`: an instance creation as the API leader runs it (StateStore.update): read the target
 *   member's record from the leader's applied state (StateService.Range, serializable — a stale
 *   read cannot do harm because the write compares the record's revision), check it is a usable
 *   member, then one transaction that creates the instance, its root volume and its operation
 *   (3 keys, ~300–400-byte JSON values) under compares that the instance and volume names are free
 *   and the member record is unchanged;
 * - `txn-lin`: the same with a linearizable read (a ReadIndex round first), the stricter variant.
 * Operations go to the leader (found through KvService.Status; re-discovered on NOT_LEADER or an
 * error). Latency of a `txn` covers its read and its transaction.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { KvServiceClient } from '../../proto/gen/shoal/kv/v1/kv.js';
import { StateServiceClient, type RangeResponse, type TxnResponse } from '../../proto/gen/shoal/state/v1/state.js';
import { cmp, txnToProto, type Txn } from '../../src/state/index.js';

export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface Endpoint {
  readonly address: string;
  readonly serverName: string;
}

export type StateLoadRequest =
  | { readonly type: 'init'; readonly endpoints: readonly Endpoint[]; readonly tls: { ca: string; cert: string; key: string } }
  | { readonly type: 'run'; readonly workload: Workload; readonly inflight: number; readonly warmupMs: number; readonly durationMs: number }
  | { readonly type: 'exit' };

export type Workload = 'put' | 'txn' | 'txn-lin';

export interface StateRunResult {
  readonly workload: Workload;
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerS: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Errors and transactions whose compares failed (neither counts as done). */
  readonly failures: number;
}

export type StateLoadReply = { readonly type: 'ready' } | { readonly type: 'result'; readonly result: StateRunResult } | { readonly type: 'error'; readonly message: string };

const DEADLINE_MS = 2000;
const VALUE = randomBytes(256);

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown;

function call<Req, Res>(client: grpc.Client, fn: Unary<Req, Res>, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

class Load {
  private readonly kv: KvServiceClient[];
  private readonly state: StateServiceClient[];
  private leader = -1;
  private discovery: Promise<void> | undefined;
  private running = false;
  private recording = false;
  private workers: Promise<void>[] = [];
  private seq = 0;
  private readonly prefix = randomBytes(3).toString('hex');
  latencies: number[] = [];
  failures = 0;

  constructor(endpoints: readonly Endpoint[], tls: { ca: string; cert: string; key: string }) {
    const creds = grpc.credentials.createSsl(readFileSync(tls.ca), readFileSync(tls.key), readFileSync(tls.cert));
    const opts = (e: Endpoint): grpc.ClientOptions => ({ 'grpc.ssl_target_name_override': e.serverName, 'grpc.default_authority': e.serverName, 'grpc.enable_channelz': 0 });
    this.kv = endpoints.map((e) => new KvServiceClient(e.address, creds, opts(e)));
    this.state = endpoints.map((e) => new StateServiceClient(e.address, creds, opts(e)));
  }

  async run(workload: Workload, inflight: number, warmupMs: number, durationMs: number): Promise<StateRunResult> {
    this.running = true;
    for (let w = 0; w < inflight; w++) this.workers.push(this.worker(workload));
    await sleep(warmupMs);
    this.latencies = [];
    this.failures = 0;
    this.recording = true;
    const t0 = nowMs();
    await sleep(durationMs);
    const seconds = (nowMs() - t0) / 1000;
    this.recording = false;
    const lat = this.latencies.slice().sort((a, b) => a - b);
    const failures = this.failures;
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
    return { workload, ops: lat.length, seconds, opsPerS: lat.length / seconds, p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), failures };
  }

  private async worker(workload: Workload): Promise<void> {
    while (this.running) {
      if (this.leader < 0) {
        await this.discover();
        continue;
      }
      const i = this.leader;
      const t0 = nowMs();
      let ok: boolean;
      try {
        ok = workload === 'put' ? await this.put(i) : await this.createInstance(i, workload === 'txn-lin');
      } catch {
        ok = false;
        if (this.leader === i) this.leader = -1;
      }
      const t1 = nowMs();
      if (!this.recording) continue;
      if (ok) this.latencies.push(t1 - t0);
      else this.failures++;
    }
  }

  private async put(i: number): Promise<boolean> {
    const c = this.kv[i]!;
    await call(c, c.put as Unary<{ key: string; value: Buffer }, unknown>, { key: `k${this.prefix}${(this.seq++).toString(36)}`, value: VALUE });
    return true;
  }

  /** Read, check, conditional write of 3 keys (see the file header). */
  private async createInstance(i: number, linearizable: boolean): Promise<boolean> {
    const s = this.state[i]!;
    const n = this.seq++;
    const member = `m${(n % 3) + 1}`;
    const name = `c${this.prefix}${n.toString(36)}`;
    // Read: the member record.
    const read = await call(s, s.range as Unary<object, RangeResponse>, { key: `members/${member}`, prefix: false, limit: 0, serializable: !linearizable });
    const kv = read.kvs[0];
    // Check: the member exists and takes instances.
    if (!kv) return false;
    const rec = (JSON.parse(kv.value.toString('utf8')) as { record?: { state?: string } }).record;
    if (rec?.state !== 'Created') return false;
    // Conditional write of 3 keys.
    const now = new Date().toISOString();
    const instance = JSON.stringify({ version: 1, record: { name, project: 'default', type: 'container', architecture: 'x86_64', description: '', config: { 'limits.cpu': '1' }, devices: {}, profiles: ['default'], ephemeral: false, stateful: false, location: member, status: 'Creating', created_at: now, last_used_at: null } });
    const volume = JSON.stringify({ version: 1, record: { name, pool: 'default', project: 'default', type: 'container', description: '', config: {}, location: member, content_type: 'filesystem', created_at: now } });
    const opId = randomUuid();
    const op = JSON.stringify({ version: 1, record: { id: opId, class: 'task', description: 'Creating instance', created_at: now, updated_at: now, status: 'Running', status_code: 103, resources: { instances: [`/1.0/instances/${name}`] }, metadata: null, may_cancel: false, err: '', location: member, project: 'default', request_id: '' } });
    const ik = `instances/default/${name}`;
    const vk = `storage-volumes/default/${member}/default/container/${name}`;
    const txn: Txn = {
      compare: [cmp.absent(ik), cmp.absent(vk), cmp.modRevision(kv.key, '=', kv.modRevision)],
      success: [
        { kind: 'put', key: ik, value: Buffer.from(instance) },
        { kind: 'put', key: vk, value: Buffer.from(volume) },
        { kind: 'put', key: `operations/${opId}`, value: Buffer.from(op) },
      ],
      failure: [],
    };
    const res = await call(s, s.txn as Unary<object, TxnResponse>, txnToProto(txn));
    return res.succeeded;
  }

  /** Asks every member for its status until one names a leader. Single-flight. */
  discover(): Promise<void> {
    this.discovery ??= (async () => {
      try {
        for (;;) {
          const st = await Promise.all(
            this.kv.map((c, i) =>
              call(c, c.status as Unary<object, { id: number; leader: number }>, { includeDigest: false }).then(
                (r) => ({ i, r }),
                () => undefined,
              ),
            ),
          );
          const leaderId = st.find((x) => x && x.r.leader !== 0)?.r.leader;
          const idx = st.find((x) => x && x.r.id === leaderId)?.i;
          if (idx !== undefined) {
            this.leader = idx;
            return;
          }
          await sleep(50);
        }
      } finally {
        this.discovery = undefined;
      }
    })();
    return this.discovery;
  }

  close(): void {
    for (const c of [...this.kv, ...this.state]) c.close();
  }
}

function randomUuid(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function pct(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function main(): void {
  let load: Load | undefined;
  const reply = (m: StateLoadReply): void => void process.send?.(m);
  process.on('message', (raw) => {
    const m = raw as StateLoadRequest;
    void (async () => {
      try {
        switch (m.type) {
          case 'init':
            load = new Load(m.endpoints, m.tls);
            await load.discover();
            reply({ type: 'ready' });
            return;
          case 'run':
            reply({ type: 'result', result: await load!.run(m.workload, m.inflight, m.warmupMs, m.durationMs) });
            return;
          case 'exit':
            load?.close();
            process.disconnect?.();
            return;
        }
      } catch (err) {
        reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    })();
  });
  reply({ type: 'ready' });
}

main();
