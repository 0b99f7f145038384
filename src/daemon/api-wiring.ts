/**
 * The daemon's implementations of the API's ports (src/api/ports.ts) that need cluster knowledge
 * — Leadership, MemberDirectory, ServerInfo, MemberAgents — handed to the api's `createApiDeps`
 * (which owns the state-backed trust store, trust tokens, operation store and server config),
 * plus the cluster routes' ClusterMembership. Reads use this member's applied state.
 */
import { readFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import type { ApiDeps, EventRelay, LeaderState, MemberAddress } from '../api/index.js';
import { Forwarder, createApiDeps } from '../api/index.js';
import type { api } from '../api/index.js';
import { certificateFingerprint } from '../cluster/index.js';
import type { RaftNode } from '../raft/index.js';
import { systemClock, type Disposable, type Logger } from '../shared/index.js';
import { members, type KvApplyResult, type StateStore } from '../state/index.js';
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

  /** Every member's API address. */
  all(): readonly MemberAddress[] {
    return [...this.byName.values()];
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
  readonly agents: NonNullable<ApiDeps['agents']>;
  /** Carries this member's events to the other members. */
  readonly relay?: EventRelay;
}

/** Builds the ApiDeps of a clustered member over the api branch's `createApiDeps`. `close()` the operations/events/forwarder on stop. */
export function createDaemonApiDeps(o: DaemonApiOptions): ApiDeps & { readonly forwarder: Forwarder } {
  const memberName = (): string => o.identity.name;
  const forwarder = new Forwarder(o.tls, memberName, o.log.child({ component: 'forward' }));
  const fingerprint = certificateFingerprint(o.tls.certPem);
  const env = environmentBase(o.identity, o.tls.certPem, fingerprint);
  const leaderless = leaderlessReason(o.raft);
  const deps = createApiDeps({
    store: o.store,
    log: o.log,
    clock: systemClock,
    serverInfo: { memberName, environment: (project) => ({ ...env, project }) },
    leadership: {
      state: (): LeaderState => {
        const leader = o.raft.leader;
        if (leader === o.raft.id) return { role: 'leader' };
        if (leader === 0) return { role: 'unknown', reason: leaderless() };
        const addr = o.memberCache.byRaft(leader);
        return addr ? { role: 'follower', leader: addr } : { role: 'unknown', reason: `leader ${leader} has no known API address yet` };
      },
    },
    members: { lookup: (name) => o.memberCache.lookup(name) },
    agents: o.agents,
    forwarder,
    ...(o.relay ? { relay: o.relay } : {}),
  });
  return { ...deps, forwarder, ...(o.cluster ? { cluster: o.cluster } : {}) };
}

/** Grace before a missing leader is reported as a quorum loss: a few election timeouts. */
const QUORUM_LOST_AFTER_MS = 5000;

/**
 * Why there is no leader, for the 503 answer: an election for the first seconds, then quorum loss
 * with what to do about it (LXD users otherwise see requests hang).
 */
function leaderlessReason(raft: RaftNode<KvApplyResult>): () => string {
  let since = raft.leader === 0 ? systemClock.now() : 0;
  raft.onLeaderChange((c) => {
    if (c.leader === 0) since ||= systemClock.now();
    else since = 0;
  }); // lives as long as the node
  return () => {
    const ms = since === 0 ? 0 : systemClock.now() - since;
    if (ms < QUORUM_LOST_AFTER_MS) return 'election in progress';
    const voters = raft.status().confState.voters.length;
    return (
      `quorum lost: no leader for ${Math.round(ms / 1000)}s; a majority (${Math.floor(voters / 2) + 1} of ${voters}) of the database members must be up. ` +
      'Writes are refused until then; if the lost members will not come back, run `shoald cluster recover` on a surviving database member'
    );
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
