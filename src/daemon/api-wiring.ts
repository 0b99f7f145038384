/**
 * The daemon's implementations of the API's ports (src/api/ports.ts) that need cluster knowledge
 * — Leadership, MemberDirectory, ServerInfo — plus interim state-backed ServerConfig and
 * TrustStore and an in-memory TrustTokenStore/OperationStore until the api branch's
 * `createApiDeps` (src/api/adapters) replaces them. Reads use this member's applied state (stale
 * views): the API's leader serves writes, and a follower forwards.
 */
import { readFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import type { ApiDeps, LeaderState, MemberAddress, PendingTrustToken, TrustedCertificate } from '../api/index.js';
import { EventHub, Forwarder, MemoryOperationStore, OperationManager } from '../api/index.js';
import type { api } from '../api/index.js';
import { certificateFingerprint } from '../cluster/index.js';
import type { RaftNode } from '../raft/index.js';
import { errors, systemClock, type Disposable, type Logger } from '../shared/index.js';
import { certificates, clusterConfig, members, type KvApplyResult, type StateStore } from '../state/index.js';
import type { MemberIdentity } from './paths.js';

/** The members' API addresses, refreshed from this member's applied state. */
export class MemberCache implements Disposable {
  private byName = new Map<string, MemberAddress>();
  private byRaftId = new Map<number, MemberAddress>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: StateStore,
    private readonly log: Logger,
    intervalMs = 500,
  ) {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      const view = await this.store.view({ stale: true });
      const byName = new Map<string, MemberAddress>();
      const byRaftId = new Map<number, MemberAddress>();
      for (const m of view.list(members)) {
        const a = { name: m.record.server_name, address: m.record.url.replace(/^https:\/\//, '') };
        byName.set(a.name, a);
        byRaftId.set(m.record.raft_id, a);
      }
      this.byName = byName;
      this.byRaftId = byRaftId;
    } catch (err) {
      this.log.debug({ err }, 'member cache refresh failed');
    }
  }

  lookup(name: string): MemberAddress | undefined {
    return this.byName.get(name);
  }

  byRaft(id: number): MemberAddress | undefined {
    return this.byRaftId.get(id);
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}

/** What {@link createDaemonApiDeps} needs. */
export interface DaemonApiOptions {
  readonly identity: MemberIdentity;
  readonly raft: RaftNode<KvApplyResult>;
  readonly store: StateStore;
  readonly memberCache: MemberCache;
  readonly tls: { readonly certPem: string; readonly keyPem: string; readonly caPem: string };
  readonly log: Logger;
  readonly cluster: ApiDeps['cluster'];
}

/** Builds the ApiDeps of a clustered member. `close()` the returned operations/events/forwarder on stop. */
export function createDaemonApiDeps(o: DaemonApiOptions): ApiDeps & { readonly forwarder: Forwarder } {
  const clock = systemClock;
  const memberName = (): string => o.identity.name;
  const events = new EventHub({ clock, memberName, log: o.log.child({ component: 'events' }) });
  const operations = new OperationManager({ store: new MemoryOperationStore(), events, clock, log: o.log.child({ component: 'operations' }), memberName });
  const forwarder = new Forwarder(o.tls, memberName, o.log.child({ component: 'forward' }));
  const fingerprint = certificateFingerprint(o.tls.certPem);
  const env = environmentBase(o.identity, o.tls.certPem, fingerprint);
  return {
    log: o.log,
    clock,
    serverInfo: { memberName, environment: (project) => ({ ...env, project }) },
    serverConfig: stateServerConfig(o.store),
    trust: stateTrustStore(o.store),
    trustTokens: new MemoryTrustTokens(),
    leadership: {
      state: (): LeaderState => {
        const leader = o.raft.leader;
        if (leader === o.raft.id) return { role: 'leader' };
        if (leader === 0) return { role: 'unknown', reason: 'election in progress or quorum lost' };
        const addr = o.memberCache.byRaft(leader);
        return addr ? { role: 'follower', leader: addr } : { role: 'unknown', reason: `leader ${leader} has no known API address yet` };
      },
    },
    members: { lookup: (name) => o.memberCache.lookup(name) },
    operations,
    events,
    forwarder,
    ...(o.cluster ? { cluster: o.cluster } : {}),
  };
}

function environmentBase(id: MemberIdentity, certPem: string, fingerprint: string): Omit<api.ServerEnvironment, 'project'> {
  let osName = 'Linux';
  let osVersion = '';
  try {
    const osr = readFileSync('/etc/os-release', 'utf8');
    osName = /^NAME="?([^"\n]*)"?/m.exec(osr)?.[1] ?? osName;
    osVersion = /^VERSION_ID="?([^"\n]*)"?/m.exec(osr)?.[1] ?? '';
  } catch {
    // not every host has /etc/os-release; the fields stay generic
  }
  const lxdArch = arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch();
  return {
    addresses: [id.apiAddress],
    architectures: [lxdArch],
    certificate: certPem,
    certificate_fingerprint: fingerprint,
    driver: 'lxc',
    driver_version: '',
    firewall: 'nftables',
    kernel: 'Linux',
    kernel_architecture: lxdArch,
    kernel_features: {},
    kernel_version: release(),
    lxc_features: {},
    os_name: osName,
    os_version: osVersion,
    server: 'shoal',
    server_clustered: true,
    server_event_mode: 'full-mesh',
    server_name: id.name,
    server_pid: process.pid,
    server_version: '0.1.0',
    storage: 'dir',
    storage_version: '',
    storage_supported_drivers: [
      { Name: 'dir', Version: '1', Remote: false },
      { Name: 'btrfs', Version: '1', Remote: false },
    ],
  };
}

/** Server configuration over the cluster config record. */
function stateServerConfig(store: StateStore): ApiDeps['serverConfig'] {
  return {
    async get() {
      const view = await store.view({ stale: true });
      return { ...(view.get(clusterConfig)?.record.config ?? {}) };
    },
    async update(changes, mode, check) {
      await store.update((tx) => {
        const cur = tx.get(clusterConfig)?.record.config ?? {};
        check?.(cur);
        const next: Record<string, string> = mode === 'replace' ? {} : { ...cur };
        for (const [k, v] of Object.entries(changes)) {
          if (v === '') delete next[k];
          else next[k] = v;
        }
        tx.put(clusterConfig, { config: next });
      });
    },
  };
}

/** The trust store over the certificates table. */
function stateTrustStore(store: StateStore): ApiDeps['trust'] {
  const toPort = (r: { fingerprint: string; type: TrustedCertificate['type']; name: string; certificate: string; restricted: boolean; projects: readonly string[] }): TrustedCertificate => ({
    fingerprint: r.fingerprint,
    type: r.type,
    name: r.name,
    certificate: r.certificate,
    restricted: r.restricted,
    projects: [...r.projects],
  });
  return {
    async get(fp) {
      const rec = (await store.view({ stale: true })).get(certificates, fp);
      return rec ? toPort(rec.record) : undefined;
    },
    async list() {
      return (await store.view({ stale: true })).list(certificates).map((c) => toPort(c.record));
    },
    async add(cert) {
      await store.update((tx) => {
        if (tx.get(certificates, cert.fingerprint)) throw errors.exists('Certificate already in trust store');
        tx.create(certificates, { ...cert, projects: [...cert.projects] });
      });
    },
    async update(fp, mutate) {
      const { result } = await store.update((tx) => {
        const cur = tx.get(certificates, fp);
        if (!cur) throw errors.notFound('Certificate not found');
        const next = mutate(toPort(cur.record));
        if (next.fingerprint !== fp) {
          if (tx.get(certificates, next.fingerprint)) throw errors.exists('Certificate already in trust store');
          tx.delete(certificates, fp);
        }
        tx.put(certificates, { ...next, projects: [...next.projects] });
        return next;
      });
      return result;
    },
    async remove(fp) {
      await store.update((tx) => {
        if (!tx.get(certificates, fp)) throw errors.notFound('Certificate not found');
        tx.delete(certificates, fp);
      });
    },
  };
}

/** Interim: pending trust tokens in memory (the api branch stores them in the database). */
class MemoryTrustTokens {
  private readonly tokens = new Map<string, PendingTrustToken>();
  add(t: PendingTrustToken): Promise<void> {
    this.tokens.set(t.secretHash, t);
    return Promise.resolve();
  }
  take(hash: string): Promise<PendingTrustToken | undefined> {
    const t = this.tokens.get(hash);
    this.tokens.delete(hash);
    return Promise.resolve(t);
  }
  remove(operationId: string): Promise<void> {
    for (const [k, t] of this.tokens) if (t.operationId === operationId) this.tokens.delete(k);
    return Promise.resolve();
  }
  list(): Promise<readonly PendingTrustToken[]> {
    return Promise.resolve([...this.tokens.values()]);
  }
}
