/**
 * KvCluster: Raft KV members (src/daemon/kv-member.ts) as separate OS processes on loopback with
 * mutual TLS, for integration tests, the benchmark and the demo. Ports are chosen at runtime,
 * certificates come from the test PKI (test/support/pki.ts), each member has its own data dir and
 * log file under `dir`. Members are killed by PID; `destroy()` kills everything and removes `dir`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import {
  KvServiceClient,
  type GetResponse,
  type KeyValue,
  type PutResponse,
  type StatusResponse,
} from '../../proto/gen/shoal/kv/v1/kv.js';
import { fromGrpcError } from '../../src/shared/index.js';
import { freePorts } from './free-port.js';
import { createTestPki, type TestPki } from './pki.js';
import { ManagedProcess, type ExitStatus } from './processes.js';

const repoRoot = ((): string => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

export interface KvClusterOptions {
  readonly dir: string;
  readonly size: number;
  /** `tsx` runs the TypeScript sources; `dist` the compiled program (npm run build). Default tsx. */
  readonly runner?: 'tsx' | 'dist';
  readonly tickMs?: number;
  readonly snapshotEntries?: number;
  readonly snapshotTrailing?: number;
  readonly logLevel?: string;
  /** Extra node options for the member processes (e.g. --cpu-prof for profiling). */
  readonly nodeArgs?: readonly string[];
  /** Members outlive this process (see {@link KvCluster.detach}); default false. */
  readonly detached?: boolean;
}

export interface MemberInfo {
  readonly id: number;
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly tls: { readonly cert: string; readonly key: string };
  proc: ManagedProcess | undefined;
  client: KvServiceClient | undefined;
}

type Call<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;

export class KvCluster {
  readonly members = new Map<number, MemberInfo>();
  private clientCreds: grpc.ChannelCredentials | undefined;

  private constructor(
    readonly opts: KvClusterOptions,
    private readonly pki: TestPki,
    readonly caFile: string,
    readonly clientTls: { readonly cert: string; readonly key: string },
  ) {}

  /** Creates the PKI and `size` member slots (ids 1..size); nothing runs until start(). */
  static async create(opts: KvClusterOptions): Promise<KvCluster> {
    mkdirSync(join(opts.dir, 'pki'), { recursive: true });
    const pki = await createTestPki();
    const caFile = join(opts.dir, 'pki', 'ca.crt');
    writeFileSync(caFile, pki.caPem);
    const client = await pki.issue('client');
    const clientTls = { cert: join(opts.dir, 'pki', 'client.crt'), key: join(opts.dir, 'pki', 'client.key') };
    writeFileSync(clientTls.cert, client.certPem);
    writeFileSync(clientTls.key, client.keyPem, { mode: 0o600 });
    const c = new KvCluster(opts, pki, caFile, clientTls);
    for (let id = 1; id <= opts.size; id++) await c.addSlot(id);
    return c;
  }

  /** Allocates a port, data dir and certificate for member `id`. */
  async addSlot(id: number): Promise<MemberInfo> {
    const name = `m${id}`;
    const [port] = await freePorts(1);
    const tls = await this.pki.issue(name);
    const cert = join(this.opts.dir, 'pki', `${name}.crt`);
    const key = join(this.opts.dir, 'pki', `${name}.key`);
    writeFileSync(cert, tls.certPem);
    writeFileSync(key, tls.keyPem, { mode: 0o600 });
    const m: MemberInfo = {
      id,
      name,
      port: port!,
      dataDir: join(this.opts.dir, name),
      logFile: join(this.opts.dir, `${name}.log`),
      tls: { cert, key },
      proc: undefined,
      client: undefined,
    };
    this.members.set(id, m);
    return m;
  }

  member(id: number): MemberInfo {
    const m = this.members.get(id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  /** `name@127.0.0.1:port` of member `id`. */
  address(id: number): string {
    const m = this.member(id);
    return `${m.name}@127.0.0.1:${m.port}`;
  }

  /** `127.0.0.1:port` endpoints and TLS names of the members, in id order. */
  endpoints(ids: readonly number[] = [...this.members.keys()]): { address: string; serverName: string }[] {
    return ids.map((id) => ({ address: `127.0.0.1:${this.member(id).port}`, serverName: this.member(id).name }));
  }

  /** The command line that runs member `id`. `peers` defaults to the initial members 1..size. */
  command(id: number, options: { join?: boolean; peers?: readonly number[] } = {}): { cmd: string; args: string[] } {
    const m = this.member(id);
    const peerIds = options.peers ?? Array.from({ length: this.opts.size }, (_, i) => i + 1);
    const program =
      (this.opts.runner ?? 'tsx') === 'dist'
        ? [join(repoRoot, 'dist/src/daemon/kv-member.js')]
        : ['--import', 'tsx', join(repoRoot, 'src/daemon/kv-member.ts')];
    const args = [
      ...(this.opts.nodeArgs ?? []),
      ...program,
      '--id', String(id),
      '--data-dir', m.dataDir,
      '--listen', `127.0.0.1:${m.port}`,
      '--peers', peerIds.map((p) => `${p}=${this.address(p)}`).join(','),
      '--cert', m.tls.cert,
      '--key', m.tls.key,
      '--ca', this.caFile,
      '--tick-ms', String(this.opts.tickMs ?? 100),
      '--log-level', this.opts.logLevel ?? 'info',
      '--log-file', m.logFile,
      ...(this.opts.snapshotEntries !== undefined ? ['--snapshot-entries', String(this.opts.snapshotEntries)] : []),
      ...(this.opts.snapshotTrailing !== undefined ? ['--snapshot-trailing', String(this.opts.snapshotTrailing)] : []),
      ...(options.join ? ['--join'] : []),
    ];
    return { cmd: process.execPath, args };
  }

  /** Starts member `id` (again, after a kill: same data dir). */
  start(id: number, options: { join?: boolean; peers?: readonly number[] } = {}): ManagedProcess {
    const m = this.member(id);
    const { cmd, args } = this.command(id, options);
    m.proc = ManagedProcess.spawn(m.name, cmd, args, {
      logFile: `${m.logFile}.stderr`,
      cwd: repoRoot,
      ...(this.opts.detached ? { detached: true } : {}),
    });
    return m.proc;
  }

  startAll(): void {
    for (let id = 1; id <= this.opts.size; id++) this.start(id);
  }

  /** kill -9 by PID; resolves when the process is gone. */
  async kill(id: number): Promise<ExitStatus | undefined> {
    return this.members.get(id)?.proc?.kill('SIGKILL');
  }

  /** SIGTERM (clean shutdown) by PID. */
  async stop(id: number): Promise<ExitStatus | undefined> {
    return this.members.get(id)?.proc?.kill('SIGTERM');
  }

  /** The promisified KvService client of member `id` (one channel per member, mTLS). */
  client(id: number): KvServiceClient {
    const m = this.member(id);
    this.clientCreds ??= grpc.credentials.createSsl(
      Buffer.from(this.pki.caPem),
      readFileSync(this.clientTls.key),
      readFileSync(this.clientTls.cert),
    );
    m.client ??= new KvServiceClient(`127.0.0.1:${m.port}`, this.clientCreds, {
      'grpc.ssl_target_name_override': m.name,
      'grpc.default_authority': m.name,
    });
    return m.client;
  }

  private call<Req, Res>(id: number, method: (c: KvServiceClient) => Call<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
    const c = this.client(id);
    return new Promise<Res>((resolve, reject) => {
      method(c).call(c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(fromGrpcError(err)) : resolve(res),
      );
    });
  }

  status(id: number, includeDigest = false, timeoutMs = 2000): Promise<StatusResponse> {
    return this.call(id, (c) => c.status as Call<{ includeDigest: boolean }, StatusResponse>, { includeDigest }, timeoutMs);
  }

  put(id: number, key: string, value: string | Uint8Array, timeoutMs = 5000): Promise<PutResponse> {
    const v = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value);
    return this.call(id, (c) => c.put as Call<{ key: string; value: Buffer }, PutResponse>, { key, value: v }, timeoutMs);
  }

  get(id: number, key: string, serializable = false, timeoutMs = 5000): Promise<GetResponse> {
    return this.call(id, (c) => c.get as Call<{ key: string; serializable: boolean }, GetResponse>, { key, serializable }, timeoutMs);
  }

  async list(id: number, prefix = '', timeoutMs = 10_000): Promise<KeyValue[]> {
    const res = await this.call(
      id,
      (c) => c.list as Call<{ prefix: string; limit: number }, { kvs: KeyValue[] }>,
      { prefix, limit: 0 },
      timeoutMs,
    );
    return res.kvs;
  }

  admin(id: number, rpc: 'addLearner' | 'promoteMember' | 'removeMember' | 'transferLeader', req: object, timeoutMs = 10_000): Promise<unknown> {
    return this.call(id, (c) => c[rpc] as unknown as Call<object, unknown>, req, timeoutMs);
  }

  /** Waits until the running members among `ids` agree on one leader; returns its id. */
  async waitLeader(ids: readonly number[] = this.running(), timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await Promise.all(ids.map((id) => this.status(id, false, 1000).catch(() => undefined)));
      const leaders = new Set(st.map((s) => s?.leader ?? 0));
      const [leader] = [...leaders];
      if (leaders.size === 1 && leader && ids.includes(leader) && st.find((s) => s?.id === leader)?.role === 'Leader') return leader;
      if (Date.now() > deadline) throw new Error(`no agreed leader among ${ids.join(',')}: ${JSON.stringify(st.map((s) => s && [s.id, s.leader, s.role]))}`);
      await sleep(100);
    }
  }

  /** Ids of members whose process is running. */
  running(): number[] {
    return [...this.members.values()].filter((m) => m.proc?.running).map((m) => m.id);
  }

  /** Leaves the members running (detached clusters): closes clients and removes the PKI's keys dir. */
  async detach(): Promise<void> {
    for (const m of this.members.values()) m.client?.close();
    await this.pki.remove();
  }

  /** Kills every member by PID, closes clients and removes `dir` and the PKI. Idempotent. */
  async destroy(): Promise<void> {
    for (const m of this.members.values()) m.client?.close();
    await Promise.all([...this.members.values()].map((m) => m.proc?.kill('SIGKILL')));
    await this.pki.remove();
    rmSync(this.opts.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
