/**
 * The two systems under test as the load generator sees them: Shoal's KvService and etcd's v3 API,
 * both reached over gRPC with mutual TLS, both loaded the same way (@grpc/proto-loader), one
 * channel per member. Every call takes a deadline; a Shoal follower answers writes with NOT_LEADER
 * and a leader hint (metadata), while an etcd follower forwards writes to its leader itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The repository root (works from bench/raft via tsx and from dist/bench/raft when compiled). */
export const repoRoot = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
})();

/** Paths of the client's TLS material (PEM files). */
export interface ClientTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A member to dial: `127.0.0.1:port`, verified against the name in its certificate. */
export interface Endpoint {
  readonly address: string;
  readonly serverName: string;
}

/** What a member says about the cluster. `leaderId` 0 = no leader known. */
export interface MemberStatus {
  readonly memberId: string;
  readonly leaderId: string;
}

/** The outcome of a write that did not succeed. */
export interface WriteFailure {
  /** `notLeader`: the member refused and named the leader (id as a decimal string) if it knows it. */
  readonly kind: 'notLeader' | 'timeout' | 'unavailable' | 'other';
  readonly leaderHint?: string;
  readonly message: string;
}

/** A system the load generator can drive: one member (endpoint) at a time. */
export interface Target {
  readonly name: 'shoal' | 'etcd';
  readonly endpoints: readonly Endpoint[];
  /** Writes `value` at `key` on endpoint `i`; resolves undefined on success. Never rejects. */
  put(i: number, key: Buffer, value: Buffer, deadlineMs: number): Promise<WriteFailure | undefined>;
  /** Asks endpoint `i` for its status; rejects on any error. */
  status(i: number, deadlineMs: number): Promise<MemberStatus>;
  close(): void;
}

type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void;
type ClientCtor = new (address: string, creds: grpc.ChannelCredentials, options: grpc.ClientOptions) => grpc.Client;

function loadService(file: string, name: string): ClientCtor {
  const def = protoLoader.loadSync(file, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def);
  let node: unknown = pkg;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function') throw new Error(`service ${name} not found in ${file}`);
  return node as ClientCtor;
}

function connect(Ctor: ClientCtor, endpoints: readonly Endpoint[], tls: ClientTls): grpc.Client[] {
  const creds = grpc.credentials.createSsl(readFileSync(tls.ca), readFileSync(tls.key), readFileSync(tls.cert));
  return endpoints.map(
    (e) =>
      new Ctor(e.address, creds, {
        'grpc.ssl_target_name_override': e.serverName,
        'grpc.default_authority': e.serverName,
        'grpc.max_receive_message_length': 64 << 20,
        'grpc.enable_channelz': 0,
      }),
  );
}

function call(client: grpc.Client, method: string, req: object, deadlineMs: number, md = new grpc.Metadata()): Promise<unknown> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (!fn) throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, req, md, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function classify(err: unknown): WriteFailure {
  const e = err as Partial<grpc.ServiceError>;
  const message = e.details ?? String(err);
  if (e.metadata?.get('shoal-error-code')[0] === 'NOT_LEADER') {
    const hint = e.metadata.get('shoal-leader-id')[0];
    return { kind: 'notLeader', message, ...(hint !== undefined && String(hint) !== '0' ? { leaderHint: String(hint) } : {}) };
  }
  if (e.code === grpc.status.DEADLINE_EXCEEDED) return { kind: 'timeout', message };
  if (e.code === grpc.status.UNAVAILABLE) return { kind: 'unavailable', message };
  return { kind: 'other', message };
}

/** Shoal's KvService (proto/shoal/kv/v1/kv.proto). */
export function shoalTarget(endpoints: readonly Endpoint[], tls: ClientTls): Target {
  const clients = connect(loadService(join(repoRoot, 'proto/shoal/kv/v1/kv.proto'), 'shoal.kv.v1.KvService'), endpoints, tls);
  return {
    name: 'shoal',
    endpoints,
    async put(i, key, value, deadlineMs) {
      try {
        await call(clients[i]!, 'put', { key: key.toString('latin1'), value }, deadlineMs);
        return undefined;
      } catch (err) {
        return classify(err);
      }
    },
    async status(i, deadlineMs) {
      const res = (await call(clients[i]!, 'status', {}, deadlineMs)) as { id: string; leader: string };
      return { memberId: res.id, leaderId: res.leader };
    },
    close() {
      for (const c of clients) c.close();
    },
  };
}

/** etcd's v3 API (bench/raft/etcd.proto, a subset with etcd's field numbers). */
export function etcdTarget(endpoints: readonly Endpoint[], tls: ClientTls): Target {
  const file = join(repoRoot, 'bench/raft/etcd.proto');
  const kv = connect(loadService(file, 'etcdserverpb.KV'), endpoints, tls);
  const maint = connect(loadService(file, 'etcdserverpb.Maintenance'), endpoints, tls);
  return {
    name: 'etcd',
    endpoints,
    async put(i, key, value, deadlineMs) {
      try {
        await call(kv[i]!, 'put', { key, value }, deadlineMs);
        return undefined;
      } catch (err) {
        return classify(err);
      }
    },
    async status(i, deadlineMs) {
      const res = (await call(maint[i]!, 'status', {}, deadlineMs)) as { header?: { memberId: string }; leader: string };
      return { memberId: res.header?.memberId ?? '0', leaderId: res.leader };
    },
    close() {
      for (const c of [...kv, ...maint]) c.close();
    },
  };
}
