/**
 * What the Raft leader does for the cluster, in the background (LXD's heartbeat and role
 * rebalancing tasks; swarmkit's dispatcher heartbeats):
 *
 * - **Heartbeats** every `cluster.offline_threshold / 2` seconds: probe every member's agent
 *   (resources: CPUs, memory, size in bytes of each storage pool) with a 2 s deadline and record
 *   `last_heartbeat` and `resources` in the members table, the scheduler's input. A member whose
 *   last heartbeat is older than the threshold is Offline (see {@link memberStatus}).
 * - **Roles** every second: a joining (Pending) member's learner that has caught up is promoted
 *   to voter while there are fewer than `cluster.max_voters` voters, otherwise it stays a
 *   standby learner; its record becomes Created with role `database` or `database-standby`.
 *   When a voter is offline and an online standby exists, the standby is promoted and the
 *   offline voter demoted to standby (so the voter count and the quorum size stay put). With
 *   fewer voters than `cluster.max_voters` (after a removal or a recovery) a standby is promoted.
 *   The `database`/`database-standby` roles of the records follow the Raft membership. Among
 *   standbys, one whose `failure_domain` no online voter is in is preferred.
 * - **Ghost cleanup**: a Pending member whose learner never caught up within `pendingTimeoutMs`
 *   (its joiner died after being admitted) is removed from Raft, the members table and the trust
 *   store, so a failed join leaves nothing behind (LXD pain point: ghost members).
 */
import type { RaftNode } from '../raft/index.js';
import { errorMessage, type Clock, type Disposable, type Logger } from '../shared/index.js';
import {
  certificates,
  clusterConfig,
  clusterGroups,
  configNumber,
  members,
  type KvApplyResult,
  type MemberRecord,
  type StateStore,
  type Stored,
} from '../state/index.js';

/** What a heartbeat learns about a member. */
export interface MemberResources {
  readonly cpu: number;
  readonly memoryBytes: number;
  /** Size in bytes of each storage pool (capacity; the scheduler subtracts root-disk reservations). */
  readonly pools: Readonly<Record<string, number>>;
}

/** How the leader reaches members (the daemon implements it over their agents). */
export interface MemberProbe {
  resources(member: string, signal: AbortSignal): Promise<MemberResources>;
}

export interface ClusterDutiesOptions {
  readonly raft: RaftNode<KvApplyResult>;
  readonly store: StateStore;
  readonly probe: MemberProbe;
  readonly clock: Clock;
  readonly log: Logger;
  /** Default 60 s. */
  readonly pendingTimeoutMs?: number;
  /** Period of the role check. Default 1000 ms. */
  readonly rolesEveryMs?: number;
}

/** `Online` or `Offline` as `GET /1.0/cluster/members` shows it. */
export function memberStatus(m: MemberRecord, now: number, offlineThresholdS: number): { status: 'Online' | 'Offline' | 'Evacuated'; message: string } {
  const last = m.last_heartbeat === null ? NaN : Date.parse(m.last_heartbeat);
  if (!Number.isFinite(last) || now - last >= offlineThresholdS * 1000) {
    const ago = Number.isFinite(last) ? `${Math.round((now - last) / 1000)}s` : 'ever';
    return { status: 'Offline', message: `No heartbeat for ${ago}` };
  }
  if (m.state === 'Evacuated') return { status: 'Evacuated', message: 'Unavailable due to maintenance' };
  return { status: 'Online', message: 'Fully operational' };
}

export class ClusterDuties implements Disposable {
  private rolesTimer: Disposable | undefined;
  private heartbeatTimer: Disposable | undefined;
  private disposed = false;
  private busy = false;
  private leaderSub: Disposable | undefined;
  private readonly firstSeenPending = new Map<string, number>();
  private readonly abort = new AbortController();

  constructor(private readonly o: ClusterDutiesOptions) {}

  start(): void {
    this.scheduleRoles(this.o.rolesEveryMs ?? 1000);
    this.scheduleHeartbeat(0);
    // A new leader heartbeats at once: the last round it knows of may be old.
    this.leaderSub = this.o.raft.onLeaderChange((c) => {
      if (c.leader === this.o.raft.id) {
        this.scheduleHeartbeat(0);
        void this.rolesRound(); // the database-leader role moves at once
      }
    });
  }

  private isLeader(): boolean {
    return this.o.raft.leader === this.o.raft.id;
  }

  private async config(): Promise<{ offlineThresholdS: number; maxVoters: number }> {
    const view = await this.o.store.view({ stale: true });
    const cfg = view.get(clusterConfig)?.record.config ?? {};
    return { offlineThresholdS: configNumber('server', cfg, 'cluster.offline_threshold'), maxVoters: configNumber('server', cfg, 'cluster.max_voters') };
  }

  private scheduleHeartbeat(ms: number): void {
    if (this.disposed) return;
    this.heartbeatTimer?.dispose();
    this.heartbeatTimer = this.o.clock.setTimer(ms, () => {
      void this.heartbeatRound().then(async (ran) => {
        const { offlineThresholdS } = await this.config().catch(() => ({ offlineThresholdS: 20 }));
        this.scheduleHeartbeat(ran ? (offlineThresholdS * 1000) / 2 : 1000);
      });
    });
  }

  private scheduleRoles(ms: number): void {
    if (this.disposed) return;
    this.rolesTimer = this.o.clock.setTimer(ms, () => {
      void this.rolesRound().finally(() => this.scheduleRoles(ms));
    });
  }

  /** One heartbeat round (leader only): probes every member and records what answered. False when not leader. */
  async heartbeatRound(): Promise<boolean> {
    if (this.disposed || !this.isLeader()) return false;
    try {
      const view = await this.o.store.view({ stale: true });
      const all = view.list(members);
      const results = await Promise.all(
        all.map(async (m) => {
          const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(2000)]);
          try {
            return { name: m.record.server_name, res: await this.o.probe.resources(m.record.server_name, signal) };
          } catch (err) {
            this.o.log.debug({ err, peer: m.record.server_name }, 'heartbeat failed');
            return { name: m.record.server_name, res: undefined };
          }
        }),
      );
      if (!this.isLeader() || this.disposed) return false;
      const now = new Date(this.o.clock.now()).toISOString();
      await this.o.store.update((tx) => {
        for (const r of results) {
          if (!r.res) continue;
          const cur = tx.get(members, r.name);
          if (!cur) continue;
          tx.update(members, {
            ...cur.record,
            last_heartbeat: now,
            resources: { cpu: r.res.cpu, memory_bytes: r.res.memoryBytes, storage_pools: { ...r.res.pools } },
          });
        }
      });
    } catch (err) {
      this.o.log.warn({ err }, 'heartbeat round failed');
    }
    return true;
  }

  /** One role check (leader only). */
  async rolesRound(): Promise<void> {
    if (this.disposed || !this.isLeader() || this.busy) return;
    this.busy = true;
    try {
      const { offlineThresholdS, maxVoters } = await this.config();
      const view = await this.o.store.view({ stale: true });
      const all = view.list(members);
      const st = this.o.raft.status();
      const voters = new Set(st.confState.voters);
      const learners = new Set(st.confState.learners);
      const now = this.o.clock.now();
      const online = (m: Stored<MemberRecord>): boolean => memberStatus(m.record, now, offlineThresholdS).status !== 'Offline';
      const caughtUp = (id: number): boolean => {
        const pr = st.progress?.get(id);
        return pr !== undefined && pr.match >= st.hardState.commit;
      };
      for (const m of all) {
        const r = m.record;
        if (r.state !== 'Pending') {
          this.firstSeenPending.delete(r.server_name);
          continue;
        }
        const first = this.firstSeenPending.get(r.server_name) ?? now;
        this.firstSeenPending.set(r.server_name, first);
        if (learners.has(r.raft_id) && caughtUp(r.raft_id)) {
          let role = 'database-standby';
          if (voters.size < maxVoters) {
            await this.o.raft.promote(r.raft_id);
            voters.add(r.raft_id);
            learners.delete(r.raft_id);
            role = 'database';
          }
          await this.setRoles(r.server_name, [role], 'Created');
          this.o.log.info({ peer: r.server_name, raftId: r.raft_id, role }, 'member joined');
        } else if (now - first > (this.o.pendingTimeoutMs ?? 60_000)) {
          await this.removeGhost(r);
        }
      }
      // Replace an offline voter by an online, caught-up standby.
      const offlineVoter = all.find((m) => m.record.state !== 'Pending' && voters.has(m.record.raft_id) && !online(m) && m.record.raft_id !== this.o.raft.id);
      // Failure domains: prefer a standby whose domain no other online voter is in (LXD).
      const voterDomains = new Set(all.filter((m) => voters.has(m.record.raft_id) && online(m) && m !== offlineVoter).map((m) => m.record.failure_domain));
      const standby = all
        .filter((m) => m.record.state === 'Created' && learners.has(m.record.raft_id) && online(m) && caughtUp(m.record.raft_id))
        .sort((a, b) => Number(voterDomains.has(a.record.failure_domain)) - Number(voterDomains.has(b.record.failure_domain)))[0];
      if (offlineVoter && standby) {
        await this.o.raft.promote(standby.record.raft_id);
        await this.setRoles(standby.record.server_name, ['database']);
        const addr = st.members.get(offlineVoter.record.raft_id) ?? '';
        await this.o.raft.addLearner(offlineVoter.record.raft_id, addr); // demotes the voter
        await this.setRoles(offlineVoter.record.server_name, ['database-standby']);
        this.o.log.warn({ peer: offlineVoter.record.server_name, standby: standby.record.server_name }, 'offline voter replaced by a standby');
      } else {
        // Fewer voters than wanted (a removal, a recovery): promote an online standby.
        if (voters.size < maxVoters && standby) {
          await this.o.raft.promote(standby.record.raft_id);
          voters.add(standby.record.raft_id);
          learners.delete(standby.record.raft_id);
          this.o.log.info({ peer: standby.record.server_name }, 'standby promoted to voter');
        }
        await this.syncRaftRoles(all, voters, learners);
      }
      await this.syncLeaderRole(all);
    } catch (err) {
      this.o.log.warn({ err: errorMessage(err) }, 'role check failed');
    } finally {
      this.busy = false;
    }
  }

  /**
   * Makes the `database` / `database-standby` roles say what Raft says (after a quorum-loss
   * recovery or a forced removal, records can name members that are no longer in Raft).
   */
  private async syncRaftRoles(all: readonly Stored<MemberRecord>[], voters: ReadonlySet<number>, learners: ReadonlySet<number>): Promise<void> {
    const want = (r: MemberRecord): MemberRecord['roles'] => {
      const db = voters.has(r.raft_id) ? ['database'] : learners.has(r.raft_id) ? ['database-standby'] : [];
      const keep = r.roles.filter((x) => x !== 'database' && x !== 'database-standby' && (x !== 'database-leader' || db.length > 0));
      return [...db, ...keep] as MemberRecord['roles'];
    };
    const stale = all.filter((m) => m.record.state !== 'Pending' && want(m.record).join() !== m.record.roles.join());
    if (stale.length === 0) return;
    await this.o.store.update((tx) => {
      for (const m of stale) {
        const cur = tx.get(members, m.record.server_name);
        if (cur) tx.update(members, { ...cur.record, roles: want(cur.record) });
      }
    });
    this.o.log.info({ members: stale.map((m) => m.record.server_name) }, 'member roles brought in line with the Raft membership');
  }

  private async syncLeaderRole(all: readonly Stored<MemberRecord>[]): Promise<void> {
    const me = all.find((m) => m.record.raft_id === this.o.raft.id);
    const stale = all.filter((m) => m.record.raft_id !== this.o.raft.id && m.record.roles.includes('database-leader'));
    if (me && me.record.roles.includes('database-leader') && stale.length === 0) return;
    await this.o.store.update((tx) => {
      for (const m of tx.list(members)) {
        const isMe = m.record.raft_id === this.o.raft.id;
        const has = m.record.roles.includes('database-leader');
        if (isMe && !has && m.record.state === 'Created') tx.update(members, { ...m.record, roles: [...m.record.roles.filter((x) => x !== 'database-standby'), 'database-leader'] });
        if (!isMe && has) tx.update(members, { ...m.record, roles: m.record.roles.filter((x) => x !== 'database-leader') });
      }
    });
  }

  private async setRoles(name: string, roles: string[], state?: MemberRecord['state']): Promise<void> {
    await this.o.store.update((tx) => {
      const cur = tx.require(members, name);
      const keep = cur.record.roles.filter((x) => x === 'database-leader' || x === 'event-hub');
      tx.update(members, { ...cur.record, roles: [...new Set([...roles, ...keep])] as MemberRecord['roles'], ...(state ? { state } : {}) });
    });
  }

  private async removeGhost(r: MemberRecord): Promise<void> {
    this.o.log.warn({ peer: r.server_name, raftId: r.raft_id }, 'removing a member whose join never completed');
    const st = this.o.raft.status();
    if (st.confState.voters.includes(r.raft_id) || st.confState.learners.includes(r.raft_id)) await this.o.raft.removeMember(r.raft_id);
    await this.o.store.update((tx) => {
      for (const g of tx.list(clusterGroups)) {
        if (g.record.members.includes(r.server_name)) tx.update(clusterGroups, { ...g.record, members: g.record.members.filter((x) => x !== r.server_name) });
      }
      if (tx.get(members, r.server_name)) tx.delete(members, r.server_name);
      for (const c of tx.list(certificates)) if (c.record.type === 'server' && c.record.name === r.server_name) tx.delete(certificates, c.record.fingerprint);
    });
    this.firstSeenPending.delete(r.server_name);
  }

  dispose(): void {
    this.disposed = true;
    this.abort.abort();
    this.leaderSub?.dispose();
    this.rolesTimer?.dispose();
    this.heartbeatTimer?.dispose();
  }
}
