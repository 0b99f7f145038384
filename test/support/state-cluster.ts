/**
 * StateCluster: members running the cluster database (src/daemon/kv-member.ts) as separate
 * processes on loopback with mutual TLS, built on KvCluster, plus what state tests need: the
 * StateService client (Txn, Range), `shoald db` against a member's control socket, per-member extra
 * flags (e.g. --schema-max), digests and convergence waits. `destroy()` kills by PID and removes
 * everything.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { KeyValue } from '../../proto/gen/shoal/kv/v1/kv.js';
import { StateServiceClient, type RangeResponse, type TxnResponse } from '../../proto/gen/shoal/state/v1/state.js';
import { fromGrpcError } from '../../src/shared/index.js';
import { txnToProto, type Txn } from '../../src/state/index.js';
import { KvCluster, sleep, type KvClusterOptions } from './kv-cluster.js';
import { ManagedProcess } from './processes.js';

export { sleep };

export class StateCluster {
  private readonly clients = new Map<number, StateServiceClient>();
  private creds: grpc.ChannelCredentials | undefined;

  private constructor(readonly kv: KvCluster) {}

  static async create(opts: KvClusterOptions): Promise<StateCluster> {
    return new StateCluster(await KvCluster.create(opts));
  }

  /** Starts member `id` with optional extra flags (same data dir after a kill). */
  start(id: number, options: { join?: boolean; peers?: readonly number[]; extraArgs?: readonly string[] } = {}): ManagedProcess {
    const m = this.kv.member(id);
    const { cmd, args } = this.kv.command(id, { ...(options.join ? { join: true } : {}), ...(options.peers ? { peers: options.peers } : {}) });
    m.proc = ManagedProcess.spawn(m.name, cmd, [...args, ...(options.extraArgs ?? [])], { logFile: `${m.logFile}.stderr`, cwd: process.cwd() });
    return m.proc;
  }

  startAll(extra: Readonly<Record<number, readonly string[]>> = {}): void {
    for (const id of this.kv.members.keys()) this.start(id, { extraArgs: extra[id] ?? [] });
  }

  client(id: number): StateServiceClient {
    let c = this.clients.get(id);
    if (!c) {
      const m = this.kv.member(id);
      this.creds ??= grpc.credentials.createSsl(readFileSync(this.kv.caFile), readFileSync(this.kv.clientTls.key), readFileSync(this.kv.clientTls.cert));
      c = new StateServiceClient(`127.0.0.1:${m.port}`, this.creds, { 'grpc.ssl_target_name_override': m.name, 'grpc.default_authority': m.name });
      this.clients.set(id, c);
    }
    return c;
  }

  txn(id: number, txn: Txn, timeoutMs = 5000): Promise<TxnResponse> {
    const c = this.client(id);
    return new Promise((resolve, reject) =>
      c.txn(txnToProto(txn), new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res))),
    );
  }

  range(id: number, key: string, opts: { prefix?: boolean; serializable?: boolean } = {}, timeoutMs = 10_000): Promise<RangeResponse> {
    const c = this.client(id);
    return new Promise((resolve, reject) =>
      c.range({ key, prefix: opts.prefix ?? false, limit: 0, serializable: opts.serializable ?? false }, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(fromGrpcError(err)) : resolve(res),
      ),
    );
  }

  /** One key from member `id`'s local state, or undefined. */
  async getLocal(id: number, key: string): Promise<KeyValue | undefined> {
    return (await this.range(id, key, { serializable: true })).kvs[0];
  }

  /** Runs `shoald ARGS` against member `id` (SHOAL_DIR = its data dir). */
  shoald(id: number, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const dir = this.kv.member(id).dataDir;
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(process.cwd(), 'src/daemon/shoald.ts'), ...args],
        { env: { ...process.env, SHOAL_DIR: dir }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  }

  /** Waits until the running members among `ids` have the same applied index and digest; returns it. */
  async waitConverged(ids: readonly number[], timeoutMs = 60_000): Promise<{ digest: string; applied: number; keyCount: number }> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const st = await Promise.all(ids.map((id) => this.kv.status(id, true, 10_000).catch(() => undefined)));
      if (st.every((s) => s !== undefined)) {
        const [first] = st;
        if (st.every((s) => s!.digest === first!.digest && s!.applied === first!.applied)) return { digest: first!.digest, applied: first!.applied, keyCount: first!.keyCount };
        last = JSON.stringify(st.map((s) => [s!.id, s!.applied, s!.digest.slice(0, 8)]));
      }
      if (Date.now() > deadline) throw new Error(`members ${ids.join(',')} did not converge: ${last}`);
      await sleep(200);
    }
  }

  async destroy(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    await this.kv.destroy();
  }
}

/** The JSON record inside a stored value, or undefined for a non-JSON value. */
export function storedJson(kv: KeyValue | undefined): unknown {
  if (!kv) return undefined;
  return JSON.parse(kv.value.toString('utf8')) as unknown;
}
