/**
 * `shoald init --auto`: turns an uninitialized daemon into the first member of a new cluster.
 * Under a revert stack (a failure leaves the state dir as it was): the cluster CA, this member's
 * own key and certificate signed by it, a single-voter Raft log, the database's defaults
 * (project and profile `default`, cluster group, config), this member's record and trust entry,
 * and when asked a storage pool `default` and a bridge network, created through the local agent
 * and recorded in the database (with the default profile's root disk and eth0). `member.json`
 * is written last: its presence means "initialized".
 */
import { rm } from 'node:fs/promises';
import { arch, cpus, totalmem } from 'node:os';
import { certificateFingerprint, createClusterCA, issueCertificate } from '../cluster/index.js';
import { agentPaths } from '../node-agent/types.js';
import { ErrorCode, Reverter, ShoalError, newOperationId, systemClock, type Logger } from '../shared/index.js';
import {
  MEMBER_NAME,
  certificates,
  clusterGroups,
  ensureDefaults,
  members,
  networkMembers,
  networks,
  profiles,
  storagePoolMembers,
  storagePools,
  type WriteTx,
} from '../state/index.js';
import type { InitRequest } from './control.js';
import { startMember, type Member } from './member.js';
import { ensureStateDir, splitHostPort, writeIdentity, writePem, type MemberIdentity, type ShoalPaths } from './paths.js';

const CA_DAYS = 3650;
const MEMBER_DAYS = 365;
const BRIDGE = /^[A-Za-z][A-Za-z0-9_-]{0,14}$/;
const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

type Bootstrap = Extract<InitRequest, { kind: 'bootstrap' }>;

/** Checks the flags of a bootstrap; INVALID_ARGUMENT with a one-line message. */
export function checkBootstrap(req: Bootstrap): void {
  checkName(req.name);
  const a = splitHostPort(req.address, '--address');
  const b = splitHostPort(req.apiAddress, '--api-address');
  if (a.host === b.host && a.port === b.port) throw invalid('--api-address must differ from --address');
  if (isWildcard(a.host)) throw invalid(`Invalid --address "${req.address}": a cluster address must be a specific address, not a wildcard`);
  if (req.storageBackend !== undefined && req.storageBackend !== 'dir' && req.storageBackend !== 'btrfs') {
    throw invalid(`Invalid --storage-backend "${String(req.storageBackend)}": expected dir or btrfs`);
  }
  if (req.networkBridge !== undefined && !BRIDGE.test(req.networkBridge)) throw invalid(`Invalid --network-bridge "${req.networkBridge}": at most 15 letters, digits, - or _`);
  const v4 = req.networkIpv4;
  if (v4 !== undefined && v4 !== 'auto' && v4 !== 'none') {
    const m = CIDR4.exec(v4);
    if (!m || m.slice(1, 5).some((x) => Number(x) > 255) || Number(m[5]) > 30 || Number(m[5]) < 8) throw invalid(`Invalid --network-ipv4 "${v4}": expected auto, none or an address/prefix such as 10.10.0.1/24`);
  }
}

export function checkName(name: string): void {
  if (!MEMBER_NAME.test(name) || name === 'none') throw invalid(`Invalid --name "${name}": a member name is a host name label (letters, digits and -)`);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function invalid(message: string): ShoalError {
  return new ShoalError(ErrorCode.InvalidArgument, message);
}

/** Subject alternative names of a member certificate: its name (how peers verify it) and its hosts. */
export function memberSans(name: string, ...addresses: string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const dns = new Set<string>([name]);
  const ips = new Set<string>();
  for (const a of addresses) {
    const { host } = splitHostPort(a, 'address');
    if (/^[\d.]+$/.test(host) || host.includes(':')) ips.add(host);
    else dns.add(host);
  }
  return { dnsNames: [...dns], ipAddresses: [...ips] };
}

/** Runs the bootstrap; returns the running member. */
export async function bootstrapMember(paths: ShoalPaths, req: Bootstrap, startOpts: { log: Logger; control: Parameters<typeof startMember>[0]['control']; onRemoved?: () => void }): Promise<Member> {
  checkBootstrap(req);
  const log = startOpts.log;
  const now = systemClock.now();
  const r = new Reverter();
  try {
    await ensureStateDir(paths);
    r.add('certificates', () => rm(paths.certs, { recursive: true, force: true }));
    const ca = await createClusterCA({ name: `shoal-cluster-${req.name}`, now, validityDays: CA_DAYS });
    const own = await issueCertificate(ca, { commonName: req.name, ...memberSans(req.name, req.address, req.apiAddress), now, validityDays: MEMBER_DAYS });
    await writePem(paths.caCert, ca.certPem, false);
    await writePem(paths.caKey, ca.keyPem, true);
    await writePem(paths.serverCert, own.certPem, false);
    await writePem(paths.serverKey, own.keyPem, true);

    const identity: MemberIdentity = { name: req.name, raftId: 1, address: req.address, apiAddress: req.apiAddress };
    r.add('database', () => rm(paths.db, { recursive: true, force: true }));
    const ap = agentPaths(paths.dir);
    r.add('agent state', async () => {
      for (const d of [ap.agentDb, ap.images]) await rm(d, { recursive: true, force: true });
    });
    const member = await startMember({ paths, identity, log, control: startOpts.control, bootstrap: true, ...(startOpts.onRemoved ? { onRemoved: startOpts.onRemoved } : {}) });
    r.add('member', () => member.stop());
    await waitLeader(member, 10_000);

    // The database's first records.
    const certFp = certificateFingerprint(own.certPem);
    await member.store.update((tx) => {
      ensureDefaults(tx);
      putSelf(tx, identity, own.certPem, certFp, member.store.schemaMax, new Date(systemClock.now()).toISOString());
    });

    if (req.storageBackend) {
      const driver = req.storageBackend;
      await member.agentClient.unary('createStoragePool', { operationId: newOperationId(), pool: { name: 'default', driver, config: {}, description: '' } });
      r.add('storage pool "default"', () => member.agentClient.unary('deleteStoragePool', { operationId: newOperationId(), name: 'default' }).then(() => undefined));
      await member.store.update((tx) => {
        tx.put(storagePools, { name: 'default', driver, description: '', config: {}, status: 'Created' });
        tx.put(storagePoolMembers, { pool: 'default', member: req.name, config: {}, state: 'Created' });
        const p = tx.require(profiles, 'default', 'default');
        tx.update(profiles, { ...p.record, devices: { ...p.record.devices, root: { type: 'disk', path: '/', pool: 'default' } } });
      });
    }
    if (req.networkBridge) {
      const name = req.networkBridge;
      const config = { 'ipv4.address': req.networkIpv4 ?? 'auto', 'ipv4.nat': 'true', 'ipv6.address': 'none' };
      const res = await member.agentClient.unary('createNetwork', { operationId: newOperationId(), network: { name, type: 'bridge', config, description: '' } });
      r.add(`network "${name}"`, () => member.agentClient.unary('deleteNetwork', { operationId: newOperationId(), name }).then(() => undefined));
      const effective = { ...config, ...(res.network?.spec?.config ?? {}) };
      await member.store.update((tx) => {
        tx.put(networks, { name, project: 'default', type: 'bridge', description: '', config: effective, status: 'Created' });
        tx.put(networkMembers, { network: name, project: 'default', member: req.name, config: {}, state: 'Created' });
        const p = tx.require(profiles, 'default', 'default');
        tx.update(profiles, { ...p.record, devices: { ...p.record.devices, eth0: { type: 'nic', name: 'eth0', network: name } } });
      });
    }
    await writeIdentity(paths, identity);
    r.success();
    await member.duties.heartbeatRound(); // resources of the new pool, a fresh heartbeat
    log.info({ member: req.name, address: req.address, apiAddress: req.apiAddress }, 'cluster bootstrapped');
    return member;
  } finally {
    await r.fail();
  }
}

/** Writes this member's record (a voter and the leader), its group membership and its trust entry. */
export function putSelf(tx: WriteTx, id: MemberIdentity, certPem: string, fingerprint: string, schemaMax: number, now: string): void {
  const cur = tx.get(members, id.name);
  tx.put(members, {
    server_name: id.name,
    raft_id: id.raftId,
    url: `https://${id.apiAddress}`,
    architecture: arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch(),
    description: '',
    roles: ['database', 'database-leader'],
    failure_domain: 'default',
    config: {},
    state: 'Created',
    schema_max: schemaMax,
    last_heartbeat: now,
    resources: cur?.record.resources ?? { cpu: cpus().length, memory_bytes: totalmem(), storage_pools: {} },
  });
  const g = tx.require(clusterGroups, 'default');
  if (!g.record.members.includes(id.name)) tx.update(clusterGroups, { ...g.record, members: [...g.record.members, id.name] });
  tx.put(certificates, { fingerprint, type: 'server', name: id.name, certificate: certPem, restricted: false, projects: [] });
}

/** Resolves once `member` knows a leader. UNAVAILABLE after `ms`. */
export async function waitLeader(member: Member, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (member.raft.leader === 0) {
    if (Date.now() > deadline) throw new ShoalError(ErrorCode.Unavailable, 'No Raft leader was elected in time');
    await new Promise((res) => setTimeout(res, 50));
  }
}
