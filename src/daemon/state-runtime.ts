/**
 * The cluster database's part of a member process: the StateStore over the running RaftNode and
 * state machine, StateService on the member's mTLS gRPC server, the local control socket that
 * `shoald db` talks to, the schema upgrader, and the member advertising what it supports to the
 * leader. kv-member (and later shoald) calls startStateRuntime once Raft runs.
 *
 * The control socket is `<data dir>/control.socket`: gRPC without TLS over a unix socket created
 * with mode 0600, so only the member's own user (root) may use it — LXD's unix-socket trust model.
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { arch, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { StateServiceClient, StateServiceService, type AdvertiseMemberRequest } from '../../proto/gen/shoal/state/v1/state.js';
import type { RaftNode, TlsMaterial } from '../raft/index.js';
import { fromGrpcError, systemClock, type Disposable, type Logger } from '../shared/index.js';
import { advertiseMember, createStateService, SchemaUpgrader, StateStore, type KvApplyResult, type LevelKvStateMachine, type Txn } from '../state/index.js';
import { LeaderTxnForwarder } from './leader-txn.js';

export interface StateRuntimeOptions {
  readonly raft: RaftNode<KvApplyResult>;
  readonly sm: LevelKvStateMachine;
  /** The member's mTLS gRPC server (StateService is added to it; call before it starts serving). */
  readonly server: grpc.Server;
  readonly dataDir: string;
  /** This member's name (its certificate's CN) and client TLS material for calls to the leader. */
  readonly memberName: string;
  readonly tls: TlsMaterial;
  /** host:port of this member (its URL in the member record). */
  readonly listen: string;
  readonly schemaMax?: number | undefined;
  readonly logger: Logger;
  /** Followers' `store.update()`/`txn()` commit on the leader (shoald); off: they fail with NOT_LEADER (kv-member). */
  readonly forwardToLeader?: boolean;
  /**
   * A control server already serving on the control socket (shoald's, with DaemonControl):
   * StateService is added to it instead of binding a new one. Absent: one is created.
   */
  readonly control?: grpc.Server;
}

export interface StateRuntime {
  readonly store: StateStore;
  /** The control socket's path. */
  readonly controlSocket: string;
  stop(): Promise<void>;
}

/** Path of a member's control socket. */
export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'control.socket');
}

export async function startStateRuntime(o: StateRuntimeOptions): Promise<StateRuntime> {
  const log = o.logger.child({ component: 'state' });
  const forwarder = o.forwardToLeader ? new LeaderTxnForwarder({ leaderAddress: () => o.raft.status().leaderAddress }, o.tls) : undefined;
  const store = new StateStore({
    sm: o.sm,
    raft: o.raft,
    ...(o.schemaMax !== undefined ? { schemaMax: o.schemaMax } : {}),
    ...(forwarder ? { forward: (txn: Txn, signal?: AbortSignal) => forwarder.txn(txn, signal) } : {}),
  });
  const service = createStateService({ store, member: o.raft, logger: log, now: () => systemClock.now() });
  o.server.addService(StateServiceService, service);

  const controlSocket = controlSocketPath(o.dataDir);
  const shared = o.control;
  let control: grpc.Server | undefined;
  if (shared) {
    shared.addService(StateServiceService, service);
  } else {
    if (existsSync(controlSocket)) rmSync(controlSocket); // left by a killed process
    const own = new grpc.Server({ 'grpc.enable_channelz': 0 });
    control = own;
    own.addService(StateServiceService, service);
    await new Promise<void>((resolve, reject) =>
      own.bindAsync(`unix:${controlSocket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    chmodSync(controlSocket, 0o600);
  }

  const upgrader = new SchemaUpgrader({ store, clock: systemClock, logger: log, isLeader: () => o.raft.leader === o.raft.id,
    raftMembers: () => {
      const cs = o.raft.status().confState;
      return [...cs.voters, ...cs.learners];
    },
  });
  upgrader.start();
  const advertiser = new Advertiser(o, store, log);
  advertiser.start();
  log.info({ schemaMax: store.schemaMax, controlSocket }, 'cluster database serving');

  return {
    store,
    controlSocket,
    stop: async () => {
      advertiser.dispose();
      upgrader.dispose();
      forwarder?.close();
      if (shared) {
        shared.removeService(StateServiceService);
      } else if (control) {
        const own = control;
        await new Promise<void>((resolve) => own.tryShutdown(() => resolve()));
        rmSync(controlSocket, { force: true });
      }
    },
  };
}

/**
 * Tells the leader, until it has answered once, what this member supports. Leader changes restart
 * it (a new leader may not have seen it). The cluster issue will fold this into heartbeats.
 */
class Advertiser implements Disposable {
  private timer: Disposable | undefined;
  private done = false;
  private disposed = false;
  private client: { address: string; client: StateServiceClient } | undefined;
  private leaderSub: Disposable | undefined;

  constructor(
    private readonly o: StateRuntimeOptions,
    private readonly store: StateStore,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.leaderSub = this.o.raft.onLeaderChange(() => {
      this.done = false;
      this.schedule(0);
    });
    this.schedule(0);
  }

  private request(): AdvertiseMemberRequest {
    return {
      serverName: this.o.memberName,
      raftId: this.o.raft.id,
      url: `https://${this.o.listen}`,
      architecture: arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch(),
      schemaMax: this.store.schemaMax,
      cpu: cpus().length,
      memoryBytes: totalmem(),
    };
  }

  private schedule(ms: number): void {
    if (this.disposed || this.done) return;
    this.timer?.dispose();
    this.timer = systemClock.setTimer(ms, () => void this.attempt());
  }

  private async attempt(): Promise<void> {
    const raft = this.o.raft;
    if (raft.leader === 0) return this.schedule(500);
    const req = this.request();
    try {
      if (raft.leader === raft.id) {
        const now = new Date(systemClock.now()).toISOString();
        await this.store.update((tx) =>
          advertiseMember(tx, {
            server_name: req.serverName,
            raft_id: req.raftId,
            url: req.url,
            architecture: req.architecture,
            schema_max: req.schemaMax,
            resources: { cpu: req.cpu, memory_bytes: req.memoryBytes, storage_pools: {} },
            last_heartbeat: now,
          }),
        );
      } else {
        await this.callLeader(req);
      }
      this.done = true;
      this.log.info({ schemaMax: req.schemaMax }, 'member advertised to the leader');
    } catch (err) {
      this.log.debug({ err }, 'advertising to the leader failed; retrying');
      this.schedule(1000);
    }
  }

  private callLeader(req: AdvertiseMemberRequest): Promise<void> {
    const book = this.o.raft.status().leaderAddress; // name@host:port
    const m = book === undefined ? null : /^([^@]+)@(.+)$/.exec(book);
    if (book === undefined || !m) return Promise.reject(new Error('leader address unknown'));
    if (this.client?.address !== book) {
      this.client?.client.close();
      const creds = grpc.credentials.createSsl(Buffer.from(this.o.tls.caPem), Buffer.from(this.o.tls.keyPem), Buffer.from(this.o.tls.certPem));
      this.client = {
        address: book,
        client: new StateServiceClient(m[2]!, creds, { 'grpc.ssl_target_name_override': m[1]!, 'grpc.default_authority': m[1]! }),
      };
    }
    const c = this.client.client;
    return new Promise((resolve, reject) =>
      c.advertiseMember(req, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (err) => (err ? reject(fromGrpcError(err)) : resolve())),
    );
  }

  dispose(): void {
    this.disposed = true;
    this.timer?.dispose();
    this.leaderSub?.dispose();
    this.client?.client.close();
  }
}
