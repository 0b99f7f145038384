/**
 * The load generator: a separate Node process, forked by the benchmark driver, that drives either
 * system through the same Target interface with the same client behaviour:
 * - writes of unique 8–16 byte keys with 256-byte values, `inflight` requests outstanding at once;
 * - writes go to the leader, found by asking every member's status; on any failure (a 500 ms
 *   deadline without an answer, an unreachable member, NOT_LEADER) the client re-discovers the
 *   leader, following a NOT_LEADER hint first when there is one.
 * It talks to the driver over the fork IPC channel (see LoadgenRequest / LoadgenReply).
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { etcdTarget, shoalTarget, type ClientTls, type Endpoint, type Target } from './targets.js';

/** Milliseconds since the epoch with sub-millisecond precision (comparable across processes). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export type LoadgenRequest =
  | { readonly type: 'init'; readonly system: 'shoal' | 'etcd'; readonly endpoints: readonly Endpoint[]; readonly tls: ClientTls }
  | { readonly type: 'run'; readonly inflight: number; readonly warmupMs: number; readonly durationMs: number }
  | { readonly type: 'leader' }
  | { readonly type: 'load-start'; readonly inflight: number }
  | { readonly type: 'killed'; readonly at: number; readonly endpoint: number; readonly timeoutMs: number }
  | { readonly type: 'load-stop' }
  | { readonly type: 'await-member'; readonly endpoint: number; readonly timeoutMs: number }
  | { readonly type: 'exit' };

export interface RunResult {
  readonly writes: number;
  readonly seconds: number;
  readonly writesPerS: number;
  /** null when nothing completed (NaN does not survive the IPC channel). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly failures: number;
}

export type LoadgenReply =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: RunResult }
  | { readonly type: 'leader'; readonly endpoint: number }
  | { readonly type: 'failover'; readonly ms: number | null }
  | { readonly type: 'stopped' }
  | { readonly type: 'member'; readonly ok: boolean }
  | { readonly type: 'error'; readonly message: string };

const DEADLINE_MS = 500;
const VALUE = randomBytes(256);

class Load {
  private leader = -1;
  private discovery: Promise<void> | undefined;
  private running = false;
  private workers: Promise<void>[] = [];
  private seq = 0;
  private readonly prefix = randomBytes(2).toString('hex');
  /** Completed writes: end time, latency and endpoint, recorded while `recording`. */
  private recording = false;
  latencies: number[] = [];
  acks: { at: number; endpoint: number }[] = [];
  failures = 0;
  private idToEndpoint = new Map<string, number>();

  constructor(private readonly target: Target) {}

  start(inflight: number): void {
    this.running = true;
    for (let w = 0; w < inflight; w++) this.workers.push(this.worker());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
  }

  record(on: boolean): void {
    this.recording = on;
    this.latencies = [];
    this.acks = [];
    this.failures = 0;
  }

  async currentLeader(): Promise<number> {
    while (this.leader < 0) await this.discover();
    return this.leader;
  }

  private key(): Buffer {
    // 8–16 bytes: "k" + 4 hex chars of run prefix + a base-36 sequence number.
    return Buffer.from(`k${this.prefix}${(this.seq++).toString(36)}`, 'latin1');
  }

  private async worker(): Promise<void> {
    while (this.running) {
      if (this.leader < 0) {
        await this.discover();
        continue;
      }
      const i = this.leader;
      const t0 = nowMs();
      const failure = await this.target.put(i, this.key(), VALUE, DEADLINE_MS);
      const t1 = nowMs();
      if (failure === undefined) {
        if (this.recording) {
          this.latencies.push(t1 - t0);
          this.acks.push({ at: t1, endpoint: i });
        }
        continue;
      }
      if (this.recording) this.failures++;
      if (this.leader !== i) continue; // someone already switched
      const hinted = failure.leaderHint === undefined ? undefined : this.idToEndpoint.get(failure.leaderHint);
      this.leader = hinted !== undefined && hinted !== i ? hinted : -1;
    }
  }

  /** Asks every member for its status until one names a leader that answers too. Single-flight. */
  discover(): Promise<void> {
    this.discovery ??= (async () => {
      try {
        for (;;) {
          const answers = await Promise.all(
            this.target.endpoints.map((_, i) => this.target.status(i, DEADLINE_MS).then((s) => ({ i, s }), () => undefined)),
          );
          for (const a of answers) if (a) this.idToEndpoint.set(a.s.memberId, a.i);
          const votes = answers.filter((a) => a && a.s.leaderId !== '0').map((a) => a!.s.leaderId);
          const leaderId = votes.find((id) => answers.some((a) => a && a.s.memberId === id));
          if (leaderId !== undefined) {
            this.leader = this.idToEndpoint.get(leaderId)!;
            return;
          }
          if (!this.running && this.workers.length > 0) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        this.discovery = undefined;
      }
    })();
    return this.discovery;
  }
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(load: Load, inflight: number, warmupMs: number, durationMs: number): Promise<RunResult> {
  load.start(inflight);
  await new Promise((r) => setTimeout(r, warmupMs));
  load.record(true);
  const t0 = nowMs();
  await new Promise((r) => setTimeout(r, durationMs));
  const seconds = (nowMs() - t0) / 1000;
  const lat = load.latencies.slice().sort((a, b) => a - b);
  const failures = load.failures;
  load.record(false);
  await load.stop();
  return { writes: lat.length, seconds, writesPerS: lat.length / seconds, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), failures };
}

async function failover(load: Load, at: number, endpoint: number, timeoutMs: number): Promise<number | null> {
  const deadline = nowMs() + timeoutMs;
  while (nowMs() < deadline) {
    const ack = load.acks.find((a) => a.at > at && a.endpoint !== endpoint);
    if (ack) return ack.at - at;
    await new Promise((r) => setTimeout(r, 5));
  }
  return null;
}

/** Waits until member `i` answers its status and names a leader. */
async function awaitMember(target: Target, i: number, timeoutMs: number): Promise<boolean> {
  const deadline = nowMs() + timeoutMs;
  while (nowMs() < deadline) {
    const s = await target.status(i, DEADLINE_MS).catch(() => undefined);
    if (s && s.leaderId !== '0') return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function main(): void {
  let target: Target | undefined;
  let load: Load | undefined;
  const reply = (m: LoadgenReply): void => {
    process.send?.(m);
  };
  process.on('message', (raw) => {
    const m = raw as LoadgenRequest;
    void (async () => {
      try {
        switch (m.type) {
          case 'init':
            target = m.system === 'shoal' ? shoalTarget(m.endpoints, m.tls) : etcdTarget(m.endpoints, m.tls);
            load = new Load(target);
            reply({ type: 'ready' });
            return;
          case 'run':
            reply({ type: 'result', result: await run(load!, m.inflight, m.warmupMs, m.durationMs) });
            return;
          case 'leader':
            reply({ type: 'leader', endpoint: await load!.currentLeader() });
            return;
          case 'load-start':
            load!.record(true);
            load!.start(m.inflight);
            reply({ type: 'ready' });
            return;
          case 'killed':
            reply({ type: 'failover', ms: await failover(load!, m.at, m.endpoint, m.timeoutMs) });
            return;
          case 'load-stop':
            await load!.stop();
            load!.record(false);
            reply({ type: 'stopped' });
            return;
          case 'await-member':
            reply({ type: 'member', ok: await awaitMember(target!, m.endpoint, m.timeoutMs) });
            return;
          case 'exit':
            target?.close();
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
