/**
 * Observed instance status, reconciled on every member from its own node agent (level-triggered,
 * swarmkit-style): the API writes `status` after each lifecycle call it makes, and this loop
 * catches what happens behind its back — a poweroff inside the container, a crash, a member
 * restart (containers not autostarted come back Stopped).
 *
 * Each round (every `everyMs`, default 3 s; the first at once): (1) a stale view of this member's
 * applied database state, (2) the agent's list, (3) for instances located here whose recorded
 * status differs from the agent's, ONE transaction that puts the new status and compares each
 * record's revision as read in (1). Reading the database before the agent makes the compare
 * cover every API write that could have raced with the agent read: such a write changed the
 * revision, the transaction fails, and the next round decides again on fresh data — the loop
 * never overwrites a newer status. Nothing is written when nothing changed. Instances the agent
 * does not list (being created or deleted by an operation) and records in `Creating` are left
 * alone. The leader commits through its own store; a follower sends the same transaction to the
 * leader's StateService (mutual TLS, as any member).
 */
import * as grpc from '@grpc/grpc-js';
import { StateServiceClient } from '../../proto/gen/shoal/state/v1/state.js';
import type { RaftNode, TlsMaterial } from '../raft/index.js';
import { fromGrpcError, type Clock, type Disposable, type Logger } from '../shared/index.js';
import { instances, txnToProto, WriteTx, type InstanceRecord, type KvApplyResult, type StateStore, type Txn } from '../state/index.js';

/**
 * The member's own node agent, as the reconciler needs it (the in-process AgentService satisfies
 * it): every created instance with its live status ('Running' | 'Stopped' | 'Frozen' | 'Error';
 * anything else counts as Error). `project` '' lists all projects.
 */
export interface LocalAgent {
  readonly instances: {
    list(project: string, signal: AbortSignal): Promise<ReadonlyArray<{ readonly spec: { readonly project: string; readonly name: string }; readonly status: { readonly status: string } }>>;
  };
}

export interface InstanceStatusOptions {
  readonly member: string;
  readonly raft: RaftNode<KvApplyResult>;
  readonly store: StateStore;
  readonly agent: LocalAgent;
  /** This member's certificate, for the leader's StateService when this member follows. */
  readonly tls: TlsMaterial;
  readonly clock: Clock;
  readonly log: Logger;
  /** Period between rounds. Default 3000 ms. */
  readonly everyMs?: number;
}

/** A change one round found: what the record says, what the agent says. */
export interface StatusChange {
  readonly project: string;
  readonly name: string;
  readonly from: InstanceRecord['status'];
  readonly to: InstanceRecord['status'];
}

function normalize(status: string): InstanceRecord['status'] {
  return status === 'Running' || status === 'Stopped' || status === 'Frozen' ? status : 'Error';
}

/** See the module comment. Start with {@link InstanceStatusReconciler.start}; `dispose()` stops it. */
export class InstanceStatusReconciler implements Disposable {
  private timer: Disposable | undefined;
  private disposed = false;
  private running: Promise<void> | undefined;
  private leaderClient: { address: string; client: StateServiceClient } | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly o: InstanceStatusOptions) {}

  /** Starts the loop (first round at once). */
  start(): this {
    this.schedule(0);
    return this;
  }

  /**
   * One round (also for tests): returns the changes it committed (empty when nothing changed, no
   * leader is known, or a concurrent write made the transaction fail — the next round retries).
   */
  async reconcile(): Promise<StatusChange[]> {
    const { raft, store, member } = this.o;
    if (raft.leader === 0) return [];
    const view = await store.view({ stale: true });
    const observed = await this.o.agent.instances.list('', this.abort.signal);
    const seen = new Map(observed.map((i) => [`${i.spec.project}/${i.spec.name}`, normalize(i.status.status)]));
    const tx = new WriteTx(view);
    const changes: StatusChange[] = [];
    for (const s of view.list(instances)) {
      const r = s.record;
      if (r.location !== member || r.status === 'Creating') continue;
      const now = seen.get(`${r.project}/${r.name}`);
      if (now === undefined || now === r.status) continue;
      const cur = tx.get(instances, r.project, r.name)!.record; // tracked read: compares its revision
      tx.put(instances, { ...cur, status: now });
      changes.push({ project: r.project, name: r.name, from: r.status, to: now });
    }
    if (changes.length === 0) return [];
    const { txn } = tx.toTxn();
    const succeeded = raft.leader === raft.id ? (await store.txn(txn)).succeeded : await this.leaderTxn(txn);
    if (!succeeded) {
      this.o.log.debug({ member, changes: changes.length }, 'instance status changed meanwhile; deciding again next round');
      return [];
    }
    for (const c of changes) this.o.log.info({ instance: c.name, project: c.project, from: c.from, to: c.to }, 'instance status reconciled');
    return changes;
  }

  dispose(): void {
    this.disposed = true;
    this.abort.abort();
    this.timer?.dispose();
    this.leaderClient?.client.close();
  }

  private schedule(ms: number): void {
    if (this.disposed) return;
    this.timer = this.o.clock.setTimer(ms, () => {
      this.running = this.reconcile()
        .then(
          () => undefined,
          (err: unknown) => {
            // A round that failed (no leader, agent busy) is simply retried on the next tick.
            if (!this.disposed) this.o.log.debug({ err }, 'instance status round failed');
          },
        )
        .finally(() => this.schedule(this.o.everyMs ?? 3000));
    });
  }

  /** Waits for a round in progress (tests, shutdown). */
  async settle(): Promise<void> {
    await this.running;
  }

  private leaderTxn(txn: Txn): Promise<boolean> {
    const book = this.o.raft.status().leaderAddress; // name@host:port
    const m = book === undefined ? null : /^([^@]+)@(.+)$/.exec(book);
    if (book === undefined || !m) return Promise.resolve(false);
    if (this.leaderClient?.address !== book) {
      this.leaderClient?.client.close();
      const creds = grpc.credentials.createSsl(Buffer.from(this.o.tls.caPem), Buffer.from(this.o.tls.keyPem), Buffer.from(this.o.tls.certPem));
      this.leaderClient = {
        address: book,
        client: new StateServiceClient(m[2]!, creds, { 'grpc.ssl_target_name_override': m[1]!, 'grpc.default_authority': m[1]! }),
      };
    }
    const c = this.leaderClient.client;
    return new Promise((resolve, reject) =>
      c.txn(txnToProto(txn), new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res.succeeded))),
    );
  }
}

/** Starts a reconciler on this member (the daemon's one wiring line); returns its dispose. */
export function startInstanceStatus(o: Omit<InstanceStatusOptions, 'log'> & { readonly log: Logger }): () => void {
  const r = new InstanceStatusReconciler({ ...o, log: o.log.child({ component: 'instance-status' }) }).start();
  return () => r.dispose();
}
