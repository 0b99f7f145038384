/**
 * Cluster membership over the replicated database and Raft: join tokens (issue, record, revoke),
 * admitting a joiner, and the member list in LXD's shape. Implements the API's
 * ClusterMembership port (src/api/routes/cluster/port.ts) structurally; the daemon wires it.
 *
 * Admission (on the leader), under a revert stack so a failed join leaves no member record, no
 * trust entry and no Raft membership behind (LXD pain point: ghost members):
 *   1. validate the request and sign the joiner's certificate request with the cluster CA;
 *   2. one transaction: consume the token (hash compare, single use, expiry), refuse a taken
 *      name or address, allocate a Raft id, record the member `Pending` (group `default`) and
 *      its certificate as a `server` trust entry;
 *   3. add it to Raft as a learner. The leader's duties (duties.ts) promote it once caught up.
 */
import { ErrorCode, Reverter, ShoalError, errorMessage, errors, type Clock, type Logger } from '../shared/index.js';
import type { RaftNode } from '../raft/index.js';
import {
  MEMBER_NAME,
  certificates,
  clusterConfig,
  clusterGroups,
  configNumber,
  configValue,
  consumeJoinToken,
  joinTokens,
  members,
  putJoinToken,
  type KvApplyResult,
  type StateStore,
} from '../state/index.js';
import { memberStatus } from './duties.js';
import { allocateRaftId, removeMember } from './member-removal.js';
import { newJoinSecret } from './join-token.js';
import { certificateFingerprint, signCertificateRequest, type KeyPair } from './pki.js';

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const MEMBER_DAYS = 365;

/** A member as `GET /1.0/cluster/members` shows it (LXD ClusterMember). */
export interface ClusterMemberView {
  roles: string[];
  failure_domain: string;
  description: string;
  config: Record<string, string>;
  groups: string[];
  server_name: string;
  url: string;
  database: boolean;
  status: string;
  message: string;
  architecture: string;
}

export interface MembershipOptions {
  readonly raft: RaftNode<KvApplyResult>;
  readonly store: StateStore;
  /** The cluster CA with its key, when this member holds the key. */
  readonly ca: () => KeyPair | undefined;
  /** The cluster CA certificate (PEM). */
  readonly caCertPem: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Tells a removed member at API URL `url` that it was removed (best effort; the daemon implements it over HTTPS). */
  readonly notifyRemoved?: (url: string) => Promise<void>;
  /** Called when the leader tells this member that it was removed from the cluster. */
  readonly onRemoved?: () => void;
}

/** Milliseconds of an LXD expiry expression (`3H`, `30M`, `1d`…; units S M H d w m y). INVALID_ARGUMENT otherwise. */
export function expiryMs(expr: string): number {
  const m = /^(\d+)([SMHdwmy])$/.exec(expr.trim());
  if (!m) throw errors.invalid(`Invalid expiry "${expr}"`);
  const unit = { S: 1, M: 60, H: 3600, d: 86_400, w: 604_800, m: 2_592_000, y: 31_536_000 }[m[2] as 'S'];
  return Number(m[1]) * unit * 1000;
}

export class Membership {
  constructor(private readonly o: MembershipOptions) {}

  async prepareJoinToken(serverName: string): Promise<{ serverName: string; secret: string; fingerprint: string; addresses: string[]; expiresAt: number }> {
    if (!MEMBER_NAME.test(serverName)) throw errors.invalid(`Invalid member name "${serverName}"`);
    const view = await this.o.store.view({ stale: true });
    if (view.get(members, serverName)) throw errors.exists(`The cluster already has a member with name: ${serverName}`);
    const cfg = view.get(clusterConfig)?.record.config ?? {};
    const now = this.o.clock.now();
    const threshold = configNumber('server', cfg, 'cluster.offline_threshold');
    const addresses = view
      .list(members)
      .filter((m) => m.record.state === 'Created' && memberStatus(m.record, now, threshold).status === 'Online')
      .map((m) => m.record.url.replace(/^https:\/\//, ''));
    if (addresses.length === 0) throw new ShoalError(ErrorCode.Unavailable, 'No online member can take a join');
    return {
      serverName,
      secret: newJoinSecret(),
      fingerprint: certificateFingerprint(this.o.caCertPem),
      addresses,
      expiresAt: now + expiryMs(configValue('server', cfg, 'cluster.join_token_expiry')),
    };
  }

  async recordJoinToken(g: { serverName: string; secret: string; expiresAt: number }, operationId: string): Promise<void> {
    const now = new Date(this.o.clock.now()).toISOString();
    await this.o.store.update((tx) => {
      putJoinToken(tx, { serverName: g.serverName, secret: g.secret, expiresAt: new Date(g.expiresAt).toISOString(), createdAt: now, operation: operationId });
    });
  }

  async revokeJoinToken(serverName: string, operationId: string): Promise<void> {
    await this.o.store.update((tx) => {
      const t = tx.get(joinTokens, serverName);
      if (t && t.record.operation === operationId) tx.delete(joinTokens, serverName);
    });
  }

  async acceptJoin(req: { server_name: string; secret: string; csr: string; address: string; api_address: string }): Promise<{
    tokenOperation: string;
    acceptance: { certificate: string; ca_certificate: string; ca_key?: string; raft_id: number; members: Record<string, string> };
  }> {
    const name = req.server_name;
    if (!MEMBER_NAME.test(name)) throw errors.invalid(`Invalid member name "${name}"`);
    for (const [what, a] of [['address', req.address], ['API address', req.api_address]] as const) {
      const m = ADDRESS.exec(a);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw errors.invalid(`Invalid ${what} "${a}": expected HOST:PORT`);
    }
    if (this.o.raft.leader !== this.o.raft.id) throw new ShoalError(ErrorCode.NotLeader, 'Joins are taken by the leader');
    const ca = this.o.ca();
    if (!ca) throw new ShoalError(ErrorCode.FailedPrecondition, 'This member does not hold the cluster CA key and cannot admit members');
    const now = this.o.clock.now();
    const host = ADDRESS.exec(req.address)![1]!.replace(/^\[|\]$/g, '');
    const apiHost = ADDRESS.exec(req.api_address)![1]!.replace(/^\[|\]$/g, '');
    const ips = [...new Set([host, apiHost].filter((h) => /^[\d.]+$/.test(h) || h.includes(':')))];
    const dns = [...new Set([name, ...[host, apiHost].filter((h) => !ips.includes(h))])];
    const certificate = await signCertificateRequest(ca, req.csr, { commonName: name, dnsNames: dns, ipAddresses: ips, now, validityDays: MEMBER_DAYS });
    const fingerprint = certificateFingerprint(certificate);
    const status = this.o.raft.status();
    const raftAddresses = [...status.members.entries()];

    const inUse = (await this.o.store.view({ stale: true })).list(members).map((m) => m.record.raft_id);
    const raftId = await allocateRaftId(this.o.store, Math.max(0, ...inUse, ...raftAddresses.map(([id]) => id)));
    const r = new Reverter();
    try {
      const { result } = await this.o.store.update((tx) => {
        const token = consumeJoinToken(tx, name, req.secret, now);
        if (tx.get(members, name)) throw errors.exists(`The cluster already has a member with name: ${name}`);
        const all = tx.list(members);
        for (const m of all) {
          if (m.record.url === `https://${req.api_address}`) throw errors.exists(`Address "${req.api_address}" is already used by member "${m.record.server_name}"`);
        }
        for (const [, book] of raftAddresses) {
          if (book.endsWith(`@${req.address}`)) throw errors.exists(`Address "${req.address}" is already used by member "${book.slice(0, book.indexOf('@'))}"`);
        }
        if (all.some((m) => m.record.raft_id === raftId)) throw new ShoalError(ErrorCode.Aborted, `Raft id ${raftId} is taken; retry the join`);
        const cfg = tx.get(clusterConfig)?.record.config ?? {};
        const voters = all.filter((m) => m.record.roles.includes('database')).length;
        tx.create(members, {
          server_name: name,
          raft_id: raftId,
          url: `https://${req.api_address}`,
          architecture: 'x86_64',
          description: '',
          roles: [],
          failure_domain: 'default',
          config: {},
          state: 'Pending',
          schema_max: this.o.store.schemaMax,
          last_heartbeat: new Date(this.o.clock.now()).toISOString(),
          resources: { cpu: 0, memory_bytes: 0, storage_pools: {} },
        });
        const g = tx.require(clusterGroups, 'default');
        tx.update(clusterGroups, { ...g.record, members: [...g.record.members, name] });
        tx.put(certificates, { fingerprint, type: 'server', name, certificate, restricted: false, projects: [] });
        return { raftId, tokenOperation: token.operation, voter: voters < configNumber('server', cfg, 'cluster.max_voters') };
      });
      r.add(`member record of "${name}"`, () => this.forget(name, fingerprint));
      const book = `${name}@${req.address}`;
      await this.o.raft.addLearner(result.raftId, book);
      r.add(`raft membership of "${name}"`, () => this.o.raft.removeMember(result.raftId).then(() => undefined));
      const membersOut: Record<string, string> = {};
      for (const [id, b] of this.o.raft.status().members) membersOut[String(id)] = b;
      membersOut[String(result.raftId)] = book;
      r.success();
      this.o.log.info({ peer: name, raftId: result.raftId }, 'member admitted as a learner');
      return {
        tokenOperation: result.tokenOperation,
        acceptance: {
          certificate,
          ca_certificate: this.o.caCertPem,
          ...(result.voter ? { ca_key: ca.keyPem } : {}),
          raft_id: result.raftId,
          members: membersOut,
        },
      };
    } finally {
      await r.fail();
    }
  }

  /** `DELETE /1.0/cluster/members/<name>` on the leader (member-removal.ts). */
  async removeMember(name: string, force: boolean): Promise<void> {
    const url = (await this.o.store.view({ stale: true })).get(members, name)?.record.url;
    await removeMember(this.o, name, force);
    // A removed member does not always apply its own removal (the leader may stop replicating to it first): tell it.
    if (url && this.o.notifyRemoved) {
      await this.o.notifyRemoved(url).catch((err: unknown) => this.o.log.warn({ peer: name, err: errorMessage(err) }, 'could not tell the removed member; wipe it before it rejoins'));
    }
  }

  /**
   * The leader (`requester`, authenticated by its member certificate) says this member was removed:
   * it resets itself. PERMISSION_DENIED unless the requester is the leader this member knows of.
   */
  async removedNotice(requester: string): Promise<void> {
    const book = this.o.raft.addressOf(this.o.raft.leader) ?? '';
    if (book.slice(0, book.indexOf('@')) !== requester) throw new ShoalError(ErrorCode.PermissionDenied, `Member "${requester}" is not the leader`);
    this.o.log.warn({ leader: requester }, 'the leader says this member was removed');
    this.o.onRemoved?.();
  }

  /**
   * The cluster CA key for member `requester` (a member's own certificate authenticated the call):
   * given to voters (role `database`) only. NOT_FOUND when this member does not hold the key,
   * PERMISSION_DENIED when the requester is not a voter.
   */
  async caKeyFor(requester: string): Promise<string> {
    const ca = this.o.ca();
    if (!ca) throw errors.notFound('This member does not hold the cluster CA key');
    const rec = (await this.o.store.view({ stale: true })).get(members, requester)?.record;
    if (!rec || !rec.roles.includes('database')) throw new ShoalError(ErrorCode.PermissionDenied, `Member "${requester}" is not a database voter`);
    return ca.keyPem;
  }

  /** The member this one can hand the leadership to (an online voter, not itself), or undefined. */
  async successor(): Promise<{ name: string; raftId: number } | undefined> {
    const view = await this.o.store.view({ stale: true });
    const cfg = view.get(clusterConfig)?.record.config ?? {};
    const threshold = configNumber('server', cfg, 'cluster.offline_threshold');
    const voters = new Set(this.o.raft.status().confState.voters);
    const m = view
      .list(members)
      .find((x) => x.record.raft_id !== this.o.raft.id && voters.has(x.record.raft_id) && memberStatus(x.record, this.o.clock.now(), threshold).status === 'Online');
    return m ? { name: m.record.server_name, raftId: m.record.raft_id } : undefined;
  }

  /** Moves the Raft leadership to member `raftId` (resolves once it leads). */
  async handOff(raftId: number): Promise<void> {
    await this.o.raft.transferLeadership(raftId);
  }

  /** Removes a member's record, group membership and trust entry. */
  private async forget(name: string, fingerprint: string): Promise<void> {
    await this.o.store.update((tx) => {
      for (const g of tx.list(clusterGroups)) {
        if (g.record.members.includes(name)) tx.update(clusterGroups, { ...g.record, members: g.record.members.filter((x) => x !== name) });
      }
      if (tx.get(members, name)) tx.delete(members, name);
      if (tx.get(certificates, fingerprint)) tx.delete(certificates, fingerprint);
    });
  }

  async members(): Promise<ClusterMemberView[]> {
    const view = await this.o.store.view({ stale: true });
    const cfg = view.get(clusterConfig)?.record.config ?? {};
    const threshold = configNumber('server', cfg, 'cluster.offline_threshold');
    const groups = view.list(clusterGroups);
    const now = this.o.clock.now();
    return view.list(members).map((m) => {
      const r = m.record;
      const st = r.state === 'Pending' ? { status: 'Pending', message: 'Joining the cluster' } : memberStatus(r, now, threshold);
      return {
        roles: [...r.roles],
        failure_domain: r.failure_domain,
        description: r.description,
        config: { ...r.config },
        groups: groups.filter((g) => g.record.members.includes(r.server_name)).map((g) => g.record.name),
        server_name: r.server_name,
        url: r.url,
        database: r.roles.includes('database') || r.roles.includes('database-leader'),
        status: st.status,
        message: st.message,
        architecture: r.architecture,
      };
    });
  }
}
