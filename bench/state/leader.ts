/**
 * The state benchmark's in-process member: member 1 of the cluster (the same startKvMember as the
 * kv-member program, same flags), forked by bench/state/main.ts, that also runs workloads inside
 * its own process once it leads — the way the API server runs StateStore.update on the leader:
 * - `local-put`: a plain Raft put proposed in-process (KvService.Put's path without the RPC);
 * - `local-txn`: StateStore.update creating an instance, its root volume and its operation with
 *   the typed tables (integrity rules included: project, profile, member and pool are read and
 *   compared) after reading and checking the member record from the leader's applied state.
 * Both through the same Raft, the same fsynced LevelDB, `inflight` operations outstanding at once.
 * Talks to main.ts over the fork IPC channel (LeaderRequest / LeaderReply).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { startKvMember, type KvMember } from '../../src/daemon/kv-member.js';
import { parseKvMemberArgs } from '../../src/daemon/kv-member-config.js';
import { createLogger } from '../../src/shared/index.js';
import { encodeCommand, instances, members, operations, storagePools, storageVolumes } from '../../src/state/index.js';
import type { StateRunResult } from './loadgen.js';

export type LocalWorkload = 'local-put' | 'local-txn';

export type LeaderRequest =
  | { readonly type: 'lead' }
  | { readonly type: 'run'; readonly workload: LocalWorkload; readonly inflight: number; readonly warmupMs: number; readonly durationMs: number }
  | { readonly type: 'exit' };

export type LeaderReply =
  | { readonly type: 'ready' }
  | { readonly type: 'leading' }
  | { readonly type: 'result'; readonly result: Omit<StateRunResult, 'workload'> & { readonly workload: LocalWorkload } }
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string };

const VALUE = randomBytes(256);
const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Becomes leader (transferring leadership here if needed) and makes sure pool `default` exists. */
async function lead(m: KvMember): Promise<void> {
  for (let t = 0; m.raft.leader !== m.raft.id; t++) {
    if (t > 100) throw new Error('member 1 did not become leader');
    if (m.raft.leader !== 0) await m.raft.transferLeadership(m.raft.id).catch(() => undefined);
    await sleep(100);
  }
  await m.store.update((tx) => {
    if (!tx.get(storagePools, 'default')) tx.create(storagePools, { name: 'default', driver: 'dir', description: '', config: {}, status: 'Created' });
  });
}

async function run(m: KvMember, workload: LocalWorkload, inflight: number, warmupMs: number, durationMs: number): Promise<LeaderReply> {
  let running = true;
  let recording = false;
  let seq = 0;
  let failures = 0;
  const latencies: number[] = [];
  const prefix = randomBytes(3).toString('hex');
  const once = async (): Promise<boolean> => {
    const n = seq++;
    if (workload === 'local-put') {
      await m.raft.propose(encodeCommand({ kind: 'put', key: `k${prefix}${n.toString(36)}`, value: VALUE }));
      return true;
    }
    const member = `m${(n % 3) + 1}`;
    const name = `c${prefix}${n.toString(36)}`;
    const now = new Date().toISOString();
    const { result } = await m.store.update((tx) => {
      // Read and check: the member exists and takes instances.
      const rec = tx.get(members, member);
      if (rec?.record.state !== 'Created') return false;
      // Conditional write of 3 records (compares on everything read, the rules' reads included).
      tx.create(instances, {
        name, project: 'default', type: 'container', architecture: 'x86_64', description: '', config: { 'limits.cpu': '1' }, devices: {},
        profiles: ['default'], ephemeral: false, stateful: false, location: member, status: 'Creating', created_at: now, last_used_at: null,
      });
      tx.create(storageVolumes, { name, pool: 'default', project: 'default', type: 'container', description: '', config: {}, location: member, content_type: 'filesystem', created_at: now });
      tx.create(operations, {
        id: randomUUID(), class: 'task', description: 'Creating instance', created_at: now, updated_at: now, status: 'Running', status_code: 103,
        resources: { instances: [`/1.0/instances/${name}`] }, metadata: null, may_cancel: false, err: '', location: member, project: 'default', request_id: '',
      });
      return true;
    });
    return result;
  };
  const worker = async (): Promise<void> => {
    while (running) {
      const t0 = nowMs();
      let ok: boolean;
      try {
        ok = await once();
      } catch {
        ok = false;
      }
      if (!recording) continue;
      if (ok) latencies.push(nowMs() - t0);
      else failures++;
    }
  };
  const workers = Array.from({ length: inflight }, () => worker());
  await sleep(warmupMs);
  recording = true;
  const t0 = nowMs();
  await sleep(durationMs);
  const seconds = (nowMs() - t0) / 1000;
  recording = false;
  running = false;
  await Promise.all(workers);
  const lat = latencies.slice().sort((a, b) => a - b);
  const pct = (p: number): number | null => (lat.length === 0 ? null : lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!);
  return { type: 'result', result: { workload, ops: lat.length, seconds, opsPerS: lat.length / seconds, p50Ms: pct(50), p99Ms: pct(99), failures } };
}

async function main(): Promise<void> {
  const cfg = parseKvMemberArgs(process.argv.slice(2));
  const destination = cfg.logFile ? pino.destination({ dest: cfg.logFile, sync: false, mkdir: true }) : undefined;
  const log = createLogger({ level: cfg.logLevel, base: { member: `m${cfg.id}` }, ...(destination ? { destination } : {}) });
  const member = await startKvMember(cfg, log);
  const reply = (m: LeaderReply): void => void process.send?.(m);
  process.on('message', (raw) => {
    const req = raw as LeaderRequest;
    void (async () => {
      try {
        switch (req.type) {
          case 'lead':
            await lead(member);
            reply({ type: 'leading' });
            return;
          case 'run':
            reply(await run(member, req.workload, req.inflight, req.warmupMs, req.durationMs));
            return;
          case 'exit':
            await member.stop();
            reply({ type: 'stopped' });
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

await main();
