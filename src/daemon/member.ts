/**
 * One running member (composition root): the Raft node and cluster database over one LevelDB in
 * `$SHOAL_DIR/db`, the local node agent (LXC path, storage pools, networks, images under
 * SHOAL_DIR), one gRPC server with mutual TLS on the cluster address carrying RaftService,
 * StateService and AgentService, the REST API on `$SHOAL_DIR/unix.socket` and HTTPS on the API
 * address, and the cluster duties of the leader (membership/roles and heartbeats). `stop()`
 * disposes in reverse order.
 */
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ClassicLevel } from 'classic-level';
import { startApiServer, type ApiServer } from '../api/index.js';
import {
  AgentClient,
  AgentService,
  FsImageStore,
  addAgentServiceToServer,
  instanceDrivers,
  networkDrivers,
  storageDrivers,
} from '../node-agent/index.js';
import { agentPaths } from '../node-agent/types.js';
import {
  GrpcTransport,
  LevelLogStorage,
  RaftNode,
  addRaftServiceToServer,
  raftServerCredentials,
  raftServerOptions,
  type TlsMaterial,
} from '../raft/index.js';
import { ClusterDuties, Membership } from '../cluster/index.js';
import { startInstanceStatus } from '../cluster/instance-status.js';
import { seededRng, systemClock, type Logger } from '../shared/index.js';
import { LevelKvStateMachine, type KvApplyResult, type StateStore } from '../state/index.js';
import { MemberCache, createDaemonApiDeps } from './api-wiring.js';
import { CaKeySync } from './ca-key-sync.js';
import { MemberAgents } from './member-agents.js';
import { MemberEventRelay } from './event-relay.js';
import { MemberHttps } from './member-https.js';
import { splitHostPort, type MemberIdentity, type ShoalPaths } from './paths.js';
import { startStateRuntime } from './state-runtime.js';

export interface MemberOptions {
  readonly paths: ShoalPaths;
  readonly identity: MemberIdentity;
  readonly log: Logger;
  /** The control server (StateService is added to it). */
  readonly control: grpc.Server;
  /** Write a single-voter configuration (this member) into an empty log: a brand-new cluster. */
  readonly bootstrap?: boolean;
  /** Peers known up front (`name@host:port` by raft id), for a joiner before it sees the log. */
  readonly peers?: ReadonlyMap<number, string>;
  readonly tickMs?: number;
  /** This member was removed from the cluster (it applied its removal, or the leader said so). */
  readonly onRemoved?: () => void;
}

/** A running member. */
export interface Member {
  readonly identity: MemberIdentity;
  readonly raft: RaftNode<KvApplyResult>;
  readonly store: StateStore;
  readonly agent: AgentService;
  /** This member's own agent over the cluster address (mutual TLS), as any leader reaches it. */
  readonly agentClient: AgentClient;
  readonly tls: TlsMaterial;
  readonly api: ApiServer;
  readonly duties: ClusterDuties;
  readonly agents: MemberAgents;
  /** The members' API addresses (for forwarding); refresh after a membership change. */
  readonly memberCache: MemberCache;
  stop(): Promise<void>;
}

/** Reads the member's TLS material from its state dir. */
export function readTls(paths: ShoalPaths): TlsMaterial {
  return { caPem: readFileSync(paths.caCert), certPem: readFileSync(paths.serverCert), keyPem: readFileSync(paths.serverKey) };
}

/** Starts the member. On failure everything started is stopped again before the error is thrown. */
export async function startMember(o: MemberOptions): Promise<Member> {
  const { paths, identity } = o;
  const log = o.log;
  const stack: Array<{ what: string; fn: () => Promise<void> | void }> = [];
  const unwind = async (): Promise<void> => {
    for (const s of stack.splice(0).reverse()) {
      try {
        await s.fn();
      } catch (err) {
        log.warn({ err, step: s.what }, 'member shutdown step failed'); // keep unwinding: later steps free other resources
      }
    }
  };
  try {
    const tls = readTls(paths);
    mkdirSync(paths.db, { recursive: true, mode: 0o700 });
    const db = new ClassicLevel<Uint8Array, Uint8Array>(paths.db, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    stack.push({ what: 'database', fn: () => db.close() });
    const raftLog = log.child({ component: 'raft', raftId: identity.raftId });
    const storage = await LevelLogStorage.open({ db, logger: raftLog });
    const sm = await LevelKvStateMachine.open(db);
    stack.push({ what: 'state machine flush', fn: () => sm.flush() });
    const rng = seededRng(randomInt(0, 2 ** 31));
    const transport = new GrpcTransport({ id: identity.raftId, tls, clock: systemClock, rng, logger: log.child({ component: 'transport' }) });
    const self = `${identity.name}@${identity.address}`;
    const peers = new Map(o.peers ?? []);
    peers.set(identity.raftId, self);
    const raft = await RaftNode.start<KvApplyResult>({
      id: identity.raftId,
      storage,
      stateMachine: sm,
      transport,
      clock: systemClock,
      rng,
      logger: raftLog,
      tickMs: o.tickMs ?? 100,
      peers,
      ...(o.bootstrap ? { bootstrap: [{ id: identity.raftId, address: self }] } : {}),
    });
    stack.push({ what: 'raft', fn: () => raft.close() });

    // The local node agent.
    const apaths = agentPaths(paths.dir);
    const dctx = { paths: apaths, log };
    const images = await FsImageStore.open(apaths.images, log);
    const agent = await AgentService.open({
      paths: apaths,
      log,
      drivers: {
        images,
        instance: instanceDrivers['container']!(dctx),
        network: networkDrivers['bridge']!(dctx),
        storage: Object.fromEntries(Object.entries(storageDrivers).map(([k, f]) => [k, f(dctx)])),
      },
    });
    stack.push({ what: 'node agent', fn: () => agent.close() });

    // One gRPC server with mutual TLS: Raft, State, Agent.
    const server = new grpc.Server({ ...raftServerOptions(transport.limits), 'grpc.enable_channelz': 0 });
    addRaftServiceToServer(server, transport);
    addAgentServiceToServer(server, agent, log);
    const state = await startStateRuntime({
      raft,
      sm,
      server,
      dataDir: paths.dir,
      memberName: identity.name,
      tls,
      listen: identity.apiAddress,
      logger: log,
      control: o.control,
    });
    stack.push({ what: 'state runtime', fn: () => state.stop() });
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(identity.address, raftServerCredentials(tls), (err, p) => (err ? reject(err) : resolve(p))),
    );
    stack.push({
      what: 'cluster server',
      fn: () =>
        new Promise<void>((resolve) => {
          const force = setTimeout(() => server.forceShutdown(), 1000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        }),
    });
    const agentClient = new AgentClient(identity.address, { caPem: tls.caPem, certPem: tls.certPem, keyPem: tls.keyPem }, identity.name);
    stack.push({ what: 'agent client', fn: () => agentClient.close() });

    // The REST API.
    const agents = new MemberAgents(raft, { caPem: tls.caPem, certPem: tls.certPem, keyPem: tls.keyPem });
    stack.push({ what: 'member agents', fn: () => agents.close() });
    const memberCache = new MemberCache(state.store, log);
    stack.push({ what: 'member cache', fn: () => memberCache.dispose() });
    await memberCache.refresh();
    const pem = { certPem: tls.certPem.toString('utf8'), keyPem: tls.keyPem.toString('utf8'), caPem: tls.caPem.toString('utf8') };
    const memberHttps = new MemberHttps(pem);
    stack.push({ what: 'member https', fn: () => memberHttps.close() });
    const relay = new MemberEventRelay({
      https: memberHttps,
      peers: () => memberCache.all().filter((a) => a.name !== identity.name).map((a) => `https://${a.address}`),
      log: log.child({ component: 'event-relay' }),
    });
    stack.push({ what: 'event relay', fn: () => relay.dispose() });
    if (o.onRemoved) {
      const sub = raft.onRemoved(o.onRemoved);
      stack.push({ what: 'removal listener', fn: () => sub.dispose() });
    }
    const membership = new Membership({
      notifyRemoved: (url) => memberHttps.call('POST', `${url}/internal/cluster/removed`).then(() => undefined),
      ...(o.onRemoved ? { onRemoved: o.onRemoved } : {}),
      raft,
      store: state.store,
      caCertPem: pem.caPem,
      ca: () => (existsSync(paths.caKey) ? { certPem: pem.caPem, keyPem: readFileSync(paths.caKey, 'utf8') } : undefined),
      clock: systemClock,
      log: log.child({ component: 'membership' }),
    });
    const deps = createDaemonApiDeps({ identity, raft, store: state.store, memberCache, tls: pem, log, cluster: membership, agents, relay });
    stack.push({ what: 'api operations', fn: () => deps.operations.close() });
    stack.push({ what: 'api events', fn: () => deps.events.close() });
    stack.push({ what: 'api forwarder', fn: () => deps.forwarder.close() });
    const { host, port } = splitHostPort(identity.apiAddress, '--api-address');
    const api = await startApiServer({
      deps,
      // The chain (member certificate + cluster CA) lets a joiner pin the CA's fingerprint.
      https: { host, port, certPem: pem.certPem + pem.caPem, keyPem: pem.keyPem },
      unixSocket: { path: paths.unixSocket, mode: 0o660 },
    });
    stack.push({ what: 'api listeners', fn: () => api.close() });

    const duties = new ClusterDuties({ raft, store: state.store, probe: agents, clock: systemClock, log: log.child({ component: 'cluster' }) });
    duties.start();
    stack.push({ what: 'cluster duties', fn: () => duties.dispose() });
    stack.push({ what: 'instance status', fn: startInstanceStatus({ member: identity.name, raft, store: state.store, agent, tls, clock: systemClock, log }) });
    const caKeySync = new CaKeySync({ paths, store: state.store, memberName: identity.name, tls: pem, log: log.child({ component: 'ca-key' }) });
    stack.push({ what: 'CA key sync', fn: () => caKeySync.dispose() });
    log.info({ member: identity.name, raftId: identity.raftId, address: identity.address, apiAddress: identity.apiAddress }, 'member started');

    let stopping: Promise<void> | undefined;
    return {
      identity,
      raft,
      store: state.store,
      agent,
      agentClient,
      tls,
      api,
      duties,
      agents,
      memberCache,
      stop: () =>
        (stopping ??= (async () => {
          await unwind();
          log.info({}, 'member stopped');
        })()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
