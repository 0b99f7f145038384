/**
 * Simulation: one deterministic run. It wires nodes (real RawNodes over simulated disks), the
 * network, clients, the operator (membership) and the nemesis (faults) onto one event queue, runs
 * the fault phase, heals everything, demands liveness (one leader, every pending client operation
 * answered, all members converged) within ~10 election timeouts, and finally checks the client
 * history for linearizability. Safety invariants are checked after every event (invariants.ts).
 * Scenario tests drive the same object through its public methods instead of the nemesis.
 */
import { MemoryLogStorage } from '../../../../src/raft/index.js';
import { ConfChangeType, EntryType, encodeConfChange } from '../../../../src/raft/index.js';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, Snapshot } from '../../../../src/raft/index.js';
import { checkOperations, kvModel, type KvInput, type KvOperation } from '../../../support/lincheck/index.js';
import { SimClient } from './clients.js';
import { SimDisk } from './disk.js';
import { EventQueue } from './event-queue.js';
import { Observer, SimFailure } from './invariants.js';
import { emptySm, restoreSm, smFingerprint, snapshotSm } from './kv-state-machine.js';
import { Nemesis, type FaultProfile, type NemesisTarget } from './nemesis.js';
import { CALM_LINK, SimNetwork, type LinkParams } from './network.js';
import { Operator, type OperatorTarget } from './operator.js';
import { SimRandom } from './random.js';
import type { ClientReply, ClientRequest } from './client-service.js';
import { SimNode, type NodeEnv, type NodeOptions } from './sim-node.js';
import { Trace } from './trace.js';

/** Client ids from here on are scenario probes. */
const PROBE_BASE = 1000;

export interface SimConfig {
  readonly seed: number;
  /** Initial voters: ids 1..nodes. */
  readonly nodes: number;
  readonly profile: FaultProfile;
  readonly clients: number;
  readonly keys: number;
  /**
   * How the initial members start: the runtime's way (AddNode ConfChange entries 1..n at term 1)
   * or the core README's (a snapshot at index 1 carrying the membership).
   */
  readonly bootstrap: 'entries' | 'snapshot';
  /** A client gives up on an operation after this many election timeouts (outcome unknown). */
  readonly opDeadlineEt: number;
  /** Length of the fault phase (ms of virtual time). */
  readonly faultMs: number;
  readonly tickMs: number;
  /** Each node's tick interval is tickMs × (1 ± up to this fraction). */
  readonly maxTickSkew: number;
  readonly node: NodeOptions;
  readonly powerLoss: boolean;
  readonly minVoters: number;
  readonly maxVoters: number;
  readonly traceLines: number;
  /** Write every trace line to a file (replays). */
  readonly fullTrace: boolean;
}

export interface SimResult {
  readonly ok: boolean;
  readonly seed: number;
  /** One line: sizes, counts and timings of the run. */
  readonly summary: string;
  readonly failure?: string;
  readonly traceTail?: readonly string[];
  readonly traceFile?: string;
  readonly history: readonly KvOperation[];
  readonly events: number;
  readonly virtualMs: number;
  /** Time from heal to convergence (ms of virtual time); undefined when it never converged. */
  readonly convergedMs: number | undefined;
}

export class Simulation implements NemesisTarget, OperatorTarget {
  readonly queue = new EventQueue();
  readonly rng: SimRandom;
  readonly trace: Trace;
  readonly observer: Observer;
  readonly net: SimNetwork;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly clients = new Map<number, SimClient>();
  readonly history: KvOperation[] = [];
  private readonly probes = new Map<number, (reply: ClientReply) => void>();
  /** The sender's incarnation for each message sent (transport reports go to that incarnation). */
  private readonly sentBy = new WeakMap<Message, number>();
  readonly operator: Operator;
  readonly nemesis: Nemesis;
  /** One nominal election timeout (ms). */
  readonly etMs: number;
  private nextId: NodeId;
  private readonly env: NodeEnv;
  private events = 0;
  private healedAt = Infinity;
  private stopAt = Infinity;
  private livenessProblem = 'not checked yet';

  constructor(readonly config: SimConfig) {
    this.rng = new SimRandom(config.seed);
    this.trace = new Trace(config.traceLines, config.fullTrace ? { seed: config.seed } : undefined);
    this.observer = new Observer(config.powerLoss);
    this.etMs = config.node.electionTick * config.tickMs;
    this.net = new SimNetwork(
      this.queue,
      this.rng.fork('net'),
      this.trace,
      (m) => this.deliver(m),
      config.profile.link,
      (m, delivered) => this.report(m, delivered),
    );
    this.env = {
      queue: this.queue,
      trace: this.trace,
      observer: this.observer,
      options: config.node,
      send: (m) => {
        this.sentBy.set(m, this.nodes.get(m.from)?.incarnation ?? -1);
        this.net.send(m);
      },
      reply: (node, req, reply) => this.replyToClient(node, req, reply),
      onConfChangeApplied: (node, cc) => this.operator.onConfChangeApplied(node, cc),
    };
    const voters = Array.from({ length: config.nodes }, (_, i) => i + 1);
    this.nextId = config.nodes + 1;
    for (const id of voters) this.addNode(id, voters);
    this.operator = new Operator(this, this.rng.fork('operator'), this.etMs, {
      minVoters: config.minVoters,
      maxVoters: config.maxVoters,
      membership: config.profile.membership,
      transfers: config.profile.transfers,
    });
    this.nemesis = new Nemesis(this, config.profile, this.rng.fork('nemesis'), this.etMs);
    const keys = Array.from({ length: config.keys }, (_, i) => `k${i}`);
    const crng = this.rng.fork('clients');
    for (let c = 1; c <= config.clients; c++) {
      const client = new SimClient(
        c,
        {
          queue: this.queue,
          trace: this.trace,
          keys,
          targets: () => this.liveNodes().map((n) => n.id),
          send: (to, req) => this.sendToNode(to, req),
          record: (op) => this.history.push(op),
          attemptTimeout: 2.5 * this.etMs,
          opDeadline: config.opDeadlineEt * this.etMs,
          thinkTime: (r) => r.exp(this.config.tickMs),
        },
        crng.fork(`c${c}`),
      );
      this.clients.set(c, client);
    }
  }

  // ---- The run --------------------------------------------------------------------------------

  /** Runs the fault phase, heal, liveness phase and the linearizability check. */
  run(): SimResult {
    this.start();
    try {
      this.runUntil(this.config.faultMs);
    } catch (err) {
      this.trace.flush();
      return this.result(err);
    }
    return this.finish();
  }

  /** Starts the clients, the nemesis and the operator (a scenario then drives the run itself). */
  start(): void {
    for (const c of this.clients.values()) c.start();
    this.nemesis.start();
    this.operator.start();
  }

  /**
   * Heals everything now, demands liveness within ~10 election timeouts, then checks the history
   * for linearizability. Never throws: failures come back in the result.
   */
  finish(): SimResult {
    try {
      this.heal();
      const livenessMs = 10 * 2 * this.etMs * (1 + this.config.maxTickSkew);
      const deadline = this.healedAt + livenessMs;
      this.runUntil(deadline);
      if (this.stopAt === Infinity) {
        throw new SimFailure(
          `liveness: not converged ${((deadline - this.healedAt) / this.etMs).toFixed(0)} election timeouts after heal: ${this.livenessProblem}`,
        );
      }
      const lin = checkOperations(kvModel, this.history);
      if (!lin.ok) {
        throw new SimFailure(
          `linearizability: ${lin.reason === 'Timeout' ? lin.explanation : `history of ${this.history.length} ops is not linearizable\n${lin.explanation}`}`,
        );
      }
      return this.result(undefined);
    } catch (err) {
      return this.result(err);
    } finally {
      this.trace.flush();
    }
  }

  /** Processes events for `ms` of virtual time. Throws on a violation. */
  runFor(ms: number): void {
    this.runUntil(this.queue.now + ms);
  }

  /**
   * Processes events until `pred()` holds (checked after each event) or `timeoutMs` passes, in
   * which case it throws naming `what`. Throws on a violation.
   */
  waitFor(what: string, pred: () => boolean, timeoutMs: number): void {
    const end = this.queue.now + timeoutMs;
    while (!pred()) {
      if (this.queue.peekTime() > end)
        throw new SimFailure(`scenario: timed out after ${timeoutMs}ms waiting for ${what}`);
      const ev = this.queue.pop()!;
      this.events++;
      this.trace.add(ev.time, ev.what);
      ev.run();
    }
  }

  /**
   * A one-shot operation sent straight to node `to` outside the regular clients (scenarios use it to
   * aim at a particular node). A definite answer is recorded in the history like any other; the
   * returned handle shows what came back.
   */
  probe(to: NodeId, op: KvInput): { reply: ClientReply | undefined } {
    const id = PROBE_BASE + this.probes.size;
    const handle: { reply: ClientReply | undefined } = { reply: undefined };
    const call = this.queue.now;
    this.probes.set(id, (reply) => {
      if (handle.reply !== undefined) return;
      handle.reply = reply;
      if (reply.kind === 'done')
        this.history.push({ clientId: id, input: op, call, return: this.queue.now, output: reply.output });
    });
    this.sendToNode(to, { client: id, seq: 1, attempt: 1, op });
    return handle;
  }

  /** Processes events up to virtual time `t` (or until the run stops). Throws on a violation. */
  runUntil(t: number): void {
    for (;;) {
      if (this.queue.peekTime() > Math.min(t, this.stopAt)) return;
      const ev = this.queue.pop()!;
      this.events++;
      this.trace.add(ev.time, ev.what);
      ev.run();
    }
  }

  /** Ends the fault phase: heals everything and starts polling for liveness. */
  heal(calm: LinkParams = CALM_LINK): void {
    if (this.healedAt !== Infinity) return;
    this.healedAt = this.queue.now;
    this.nemesis.stop(calm);
    this.operator.stop();
    for (const c of this.clients.values()) c.stopIssuing();
    const poll = (): void => {
      const problem = this.livenessCheck();
      if (problem === undefined) {
        this.stopAt = this.queue.now;
        this.trace.add(this.queue.now, () => `converged ${(this.queue.now - this.healedAt).toFixed(0)}ms after heal`);
        return;
      }
      this.livenessProblem = problem;
      this.queue.after(5 * this.config.tickMs, () => 'liveness poll', poll);
    };
    this.queue.after(this.config.tickMs, () => 'liveness poll', poll);
  }

  /** Undefined when the cluster is healthy and converged; otherwise what is still wrong. */
  livenessCheck(): string | undefined {
    const leaders = this.liveNodes().filter((n) => n.state === 'up' && n.status.softState.role === 'Leader');
    if (leaders.length !== 1) return `${leaders.length} leaders (${leaders.map((l) => `n${l.id}`).join(' ')})`;
    const l = leaders[0]!;
    const { term, commit } = l.status.hardState;
    const members = [...l.status.confState.voters, ...l.status.confState.learners];
    if (!l.status.confState.voters.includes(l.id)) return `leader n${l.id} is not a voter`;
    const lastIndex = this.observer.logEnd(l.id);
    if (commit !== lastIndex) return `leader n${l.id} commit ${commit} < last index ${lastIndex}`;
    const busy = [...this.clients.values()].filter((c) => c.busy);
    if (busy.length > 0) return `clients still waiting: ${busy.map((c) => c.describeCurrent()).join('; ')}`;
    const fp = smFingerprint(l.disk.view.sm);
    for (const id of members) {
      const n = this.nodes.get(id);
      if (n === undefined || n.state !== 'up') return `member n${id} is ${n?.state ?? 'missing'}`;
      const s = n.status;
      if (s.hardState.term !== term || s.softState.lead !== l.id)
        return `n${id} at term ${s.hardState.term} follows n${s.softState.lead}, leader n${l.id} term ${term}`;
      if (n.disk.view.sm.applied !== commit) return `n${id} applied ${n.disk.view.sm.applied} of ${commit}`;
      if (smFingerprint(n.disk.view.sm) !== fp) return `n${id} state differs from leader n${l.id} at ${commit}`;
    }
    return undefined;
  }

  // ---- Cluster access (nemesis, operator, scenarios) -------------------------------------------

  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.state !== 'removed');
  }

  /** The up node that believes it leads in the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.state !== 'up' || n.status.softState.role !== 'Leader') continue;
      if (best === undefined || n.status.hardState.term > best.status.hardState.term) best = n;
    }
    return best;
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  createNode(): SimNode {
    return this.addNode(this.nextId++, []);
  }

  retireNode(id: NodeId): void {
    const n = this.nodes.get(id);
    if (n === undefined || n.state === 'removed') return;
    n.remove();
    this.trace.add(this.queue.now, () => `n${id} retired`);
  }

  /** Proposes a membership change on the current leader; false when there is none or it refused. */
  proposeConfChange(cc: ConfChange): boolean {
    const l = this.leader();
    return l?.act((raw) => raw.proposeConfChange(cc))?.ok === true;
  }

  // ---- Wiring ---------------------------------------------------------------------------------

  /**
   * Initial members are bootstrapped either as the runtime does it (etcd's Bootstrap: the same log
   * on each, one AddNode ConfChange per member at term 1, indexes 1..n, committed; the membership
   * is learned by applying them) or from a snapshot at index 1 holding the membership. A node
   * added later starts empty and catches up from the leader (by log, or by snapshot).
   */
  private addNode(id: NodeId, initialVoters: readonly NodeId[]): SimNode {
    const empty: ConfState = { voters: [], learners: [] };
    let snapshot: Snapshot = { meta: { index: 0, term: 0, confState: empty }, data: new Uint8Array(0) };
    let entries: Entry[] = [];
    let hardState: HardState = { term: 0, vote: 0, commit: 0 };
    const sm = emptySm(empty);
    if (initialVoters.length > 0 && this.config.bootstrap === 'entries') {
      entries = initialVoters.map((v, i) => ({
        term: 1,
        index: i + 1,
        type: EntryType.ConfChange,
        data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: v, context: new Uint8Array(0) }),
      }));
      hardState = { term: 1, vote: 0, commit: entries.length };
    } else if (initialVoters.length > 0) {
      const confState = { voters: [...initialVoters], learners: [] };
      snapshot = { meta: { index: 1, term: 1, confState }, data: snapshotSm(sm) };
      hardState = { term: 1, vote: 0, commit: 1 };
      restoreSm(sm, snapshot.data, 1, confState);
      this.observer.bootstrapSnapshot(1, 1);
    }
    const disk = new SimDisk(
      { log: new MemoryLogStorage({ snapshot, hardState, entries }), sm },
      this.config.powerLoss,
    );
    this.observer.addNode(id, hardState, snapshot, entries);
    const nrng = this.rng.fork(`node-${id}`);
    const skew = 1 + nrng.between(-this.config.maxTickSkew, this.config.maxTickSkew);
    const node = new SimNode(id, disk, this.env, nrng, skew);
    this.nodes.set(id, node);
    this.trace.add(
      this.queue.now,
      () => `n${id} created${initialVoters.length > 0 ? ` bootstrap voters=(${initialVoters.join(' ')})` : ' empty'}`,
    );
    const interval = this.config.tickMs * skew;
    const tick = (): void => {
      if (node.state === 'removed') return;
      node.tick();
      this.queue.after(interval, () => `n${id} tick`, tick);
    };
    this.queue.after(nrng.between(0, interval), () => `n${id} tick`, tick);
    return node;
  }

  private deliver(m: Message): boolean {
    const n = this.nodes.get(m.to);
    if (n === undefined || n.state === 'down' || n.state === 'removed') return false;
    n.receive(m);
    return true;
  }

  /**
   * The transport's feedback (as GrpcTransport gives it): a snapshot's delivery or failure, and an
   * unreachable peer when a message could not be sent.
   */
  private report(m: Message, delivered: boolean): void {
    const sender = this.nodes.get(m.from);
    const incarnation = this.sentBy.get(m);
    if (sender === undefined || incarnation === undefined) return;
    if (m.type === 'Snap') {
      this.queue.after(
        delivered ? 1 : this.etMs,
        () => `n${m.from} snapshot report ${m.to} ${delivered ? 'ok' : 'failed'}`,
        () => {
          sender.transportReport(incarnation, (raw) => raw.reportSnapshot(m.to, delivered));
        },
      );
    } else if (!delivered) {
      sender.transportReport(incarnation, (raw) => raw.reportUnreachable(m.to));
    }
  }

  private clientDelay(): number {
    return 0.2 + this.rng.exp(1);
  }

  private sendToNode(to: NodeId, req: ClientRequest): void {
    this.queue.after(
      this.clientDelay(),
      () => `n${to} client request c${req.client} seq ${req.seq}/${req.attempt}`,
      () => this.nodes.get(to)?.request(req),
    );
  }

  private replyToClient(node: NodeId, req: ClientRequest, reply: ClientReply): void {
    this.queue.after(
      this.clientDelay(),
      () => `c${req.client} reply`,
      () => {
        this.clients.get(req.client)?.onReply(node, req, reply);
        this.probes.get(req.client)?.(reply);
      },
    );
  }

  private result(err: unknown): SimResult {
    const ops = this.history.length;
    const unknown = this.history.filter((o) => o.return === Infinity).length;
    const o = this.observer.stats;
    const summary =
      `seed ${this.config.seed} ${this.config.profile.name} n=${this.config.nodes}${this.config.powerLoss ? ' powerloss' : ''} ` +
      `events ${this.events} virt ${(this.queue.now / 1000).toFixed(2)}s ops ${ops} (unknown ${unknown}) ` +
      `leaders ${o.leadersElected} applied ${o.applied} snaps ${o.snapshotsInstalled} ` +
      `cc ${this.operator.stats.applied}/${this.operator.stats.proposed} ` +
      `converged ${this.stopAt === Infinity ? '-' : `${(this.stopAt - this.healedAt).toFixed(0)}ms`}`;
    const base = {
      seed: this.config.seed,
      summary,
      history: this.history,
      events: this.events,
      virtualMs: this.queue.now,
      convergedMs: this.stopAt === Infinity ? undefined : this.stopAt - this.healedAt,
      ...(this.trace.file !== undefined ? { traceFile: this.trace.file } : {}),
    };
    if (err === undefined) return { ok: true, ...base };
    const message =
      err instanceof Error
        ? `${err.name}: ${err.message}${err instanceof SimFailure ? '' : `\n${err.stack ?? ''}`}`
        : String(err);
    return {
      ok: false,
      ...base,
      failure: message,
      traceTail: this.trace.tail(),
    };
  }
}
