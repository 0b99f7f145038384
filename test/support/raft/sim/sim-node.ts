/**
 * SimNode: one simulated raft node running the REAL RawNode over a SimDisk, driven by events.
 * It plays the production runtime's part for each Ready, in order:
 *   persist (one write; takes a simulated disk latency; durable on completion)
 *   → send (a leader's App/Heartbeat/Snap may leave before its own persist completes, as the
 *     runtime will do; votes, acks and everything else wait for durability)
 *   → apply (state machine write with the applied index; applyConfChange for ConfChange entries;
 *     answer waiting proposals and ReadIndex reads) → advance().
 * Inputs (ticks, messages, client requests) are fed to the RawNode while a Ready is outstanding.
 * A paused node (SIGSTOP) defers everything; a crashed node loses its in-flight write and all
 * volatile state and restarts from its disk.
 */
import { RawNode, decodeConfChange } from '../../../../src/raft/index.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  RaftStatus,
  Ready,
  SoftState,
} from '../../../../src/raft/index.js';
import type { RaftLogger } from '../../../../src/raft/index.js';
import type { KvOutput } from '../../../support/lincheck/index.js';
import { ClientService, type ClientReply, type ClientRequest } from './client-service.js';
import { describeMessage, describeReady } from './describe.js';
import type { SimDisk } from './disk.js';
import type { EventQueue } from './event-queue.js';
import { SimFailure, type Observer } from './invariants.js';
import { applyCommand, restoreSm, snapshotSm, type SmImage } from './kv-state-machine.js';
import type { SimRandom } from './random.js';
import { SimLogStorage } from './sim-log-storage.js';
import type { Trace } from './trace.js';

export interface NodeOptions {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  /** 0 = no limit. */
  readonly maxUncommittedEntriesSize: number;
  readonly maxCommittedSizePerReady: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  /** 'LeaseBased' only in experiments: unsafe under pauses and clock drift. */
  readonly readOnlyOption: 'Safe' | 'LeaseBased';
  /** Latency of a synced write (ms). */
  readonly syncLatency: (rng: SimRandom) => number;
  /** Apply a local snapshot + compaction once this many entries are applied past the last one (0 = never). */
  readonly snapshotEvery: number;
  /** Entries kept behind a compaction. */
  readonly trailing: number;
  /**
   * Restart policy: resume applying after the state machine's durable applied index (membership
   * stored with it), or — as the runtime does — from the snapshot index, re-applying later entries
   * (the state machine skips what it already has; ConfChange entries rebuild the membership).
   */
  readonly resumeFromSmApplied: boolean;
  /** Build snapshots on demand when the stored one is behind the state machine (see SimLogStorage). */
  readonly freshSnapshots: boolean;
  /** Broken variants (to prove the checker catches them). */
  readonly unsafeLocalReads: boolean;
  readonly unsafeAckOnPropose: boolean;
}

/** What a node needs from the simulation around it. */
export interface NodeEnv {
  readonly queue: EventQueue;
  readonly trace: Trace;
  readonly observer: Observer;
  readonly options: NodeOptions;
  send(msg: Message): void;
  reply(node: NodeId, req: ClientRequest, reply: ClientReply): void;
  onConfChangeApplied(node: SimNode, cc: ConfChange, index: number, cs: ConfState): void;
}

export type NodeState = 'up' | 'paused' | 'down' | 'removed';

const REPLICATION = new Set(['App', 'Heartbeat', 'Snap']);

export class SimNode {
  state: NodeState = 'up';
  /** Multiplies synced-write latency (the nemesis's slow disk). */
  diskSlowdown = 1;
  /** Bumped on every crash: events scheduled by an older incarnation are ignored. */
  incarnation = 0;
  raw!: RawNode;
  /** Status after the last processed event (cheap access for the workload and liveness checks). */
  status!: RaftStatus;
  private readyOutstanding = false;
  /** Whether the current event took a Ready (else, with none outstanding, nothing changed). */
  private tookReady = false;
  /** Soft and hard state as of the last Ready (what the runtime was told). */
  private published: { soft: SoftState; hard: HardState } = {
    soft: { lead: 0, role: 'Follower' },
    hard: { term: 0, vote: 0, commit: 0 },
  };
  private deferred: (() => void)[] = [];
  private service!: ClientService;
  private lastSnapshotIndex = 0;
  /** Snapshots received from a leader and installed. */
  snapshotsInstalled = 0;
  /** The applied index the RawNode was (re)started with. */
  rawApplied = 0;

  constructor(
    readonly id: NodeId,
    readonly disk: SimDisk,
    private readonly env: NodeEnv,
    readonly rng: SimRandom,
    /** Multiplier of the nominal tick interval (clock skew). */
    readonly tickScale: number,
  ) {
    this.boot();
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  // ---- Inputs -------------------------------------------------------------------------------

  tick(): void {
    if (this.state !== 'up') return; // a paused process misses its ticks
    this.raw.tick();
    this.afterInput();
  }

  receive(msg: Message): void {
    this.whenRunnable(() => {
      this.raw.step(msg);
      this.afterInput();
    });
  }

  request(req: ClientRequest): void {
    this.whenRunnable(() => {
      this.service.handle(req);
      this.afterInput();
    });
  }

  /** Runs `fn` against the RawNode (campaign, proposeConfChange, transferLeader…) as one event. */
  act<T>(fn: (raw: RawNode) => T): T | undefined {
    if (this.state !== 'up') return undefined;
    const out = fn(this.raw);
    this.afterInput();
    return out;
  }

  /**
   * Transport feedback (snapshot result, unreachable peer) for a message sent by incarnation
   * `incarnation`: dropped if the node restarted since, deferred while it is paused.
   */
  transportReport(incarnation: number, fn: (raw: RawNode) => void): void {
    if (incarnation !== this.incarnation) return;
    this.whenRunnable(() => {
      fn(this.raw);
      this.afterInput();
    });
  }

  // ---- Faults -------------------------------------------------------------------------------

  pause(): void {
    if (this.state === 'up') this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'up';
    const work = this.deferred;
    this.deferred = [];
    for (const fn of work) {
      if (this.state !== 'up') break;
      fn();
    }
  }

  /** kill -9 (and, with `powerLoss`, the machine loses unsynced writes). */
  crash(powerLoss: boolean): number {
    if (this.state === 'down' || this.state === 'removed') return 0;
    this.state = 'down';
    this.incarnation++;
    this.deferred = [];
    const lost = powerLoss ? this.disk.powerLoss(this.rng) : 0;
    return lost;
  }

  restart(): void {
    if (this.state !== 'down') return;
    this.state = 'up';
    this.boot();
    this.env.observer.onRestart(this.id, this.status, this.rawApplied);
    this.afterInput();
  }

  /** Removed from the cluster: stops for good (ids are never reused). */
  remove(): void {
    this.state = 'removed';
    this.incarnation++;
    this.deferred = [];
  }

  // ---- Internals ----------------------------------------------------------------------------

  private boot(): void {
    const img = this.disk.view;
    const o = this.env.options;
    // A received snapshot may be durable while the state machine's restore was lost (power loss).
    const snap = img.log.snapshot();
    if (snap.meta.index > img.sm.applied) {
      this.disk.complete({
        sync: true,
        apply: (i) => restoreSm(i.sm, snap.data, snap.meta.index, snap.meta.confState),
      });
    }
    const applied = o.resumeFromSmApplied ? img.sm.applied : snap.meta.index;
    this.raw = new RawNode({
      id: this.id,
      electionTick: o.electionTick,
      heartbeatTick: o.heartbeatTick,
      storage: new SimLogStorage(this.disk, { resumeFromSmApplied: o.resumeFromSmApplied, fresh: o.freshSnapshots }),
      applied,
      maxSizePerMsg: o.maxSizePerMsg,
      maxInflightMsgs: o.maxInflightMsgs,
      maxUncommittedEntriesSize: o.maxUncommittedEntriesSize,
      maxCommittedSizePerReady: o.maxCommittedSizePerReady,
      checkQuorum: o.checkQuorum,
      preVote: o.preVote,
      readOnlyOption: o.readOnlyOption,
      rng: this.rng.fork(`raft-${this.incarnation}`).asRng(),
      logger: this.logger(),
    });
    this.rawApplied = applied;
    this.readyOutstanding = false;
    const s0 = this.raw.status();
    this.published = { soft: s0.softState, hard: s0.hardState };
    this.service = new ClientService(this, this.env);
    this.lastSnapshotIndex = img.log.snapshot().meta.index;
    this.status = this.raw.status();
  }

  private readonly termAt = (i: number): number => this.raw.logEntries(i)[0]?.term ?? -1;

  private whenRunnable(fn: () => void): void {
    if (this.state === 'up') fn();
    else if (this.state === 'paused') this.deferred.push(fn);
    // down or removed: the input is lost
  }

  /**
   * After an input: take Readys, then check invariants on the new status. When no Ready was
   * outstanding and none was produced, nothing observable changed (term, vote, commit, role and
   * leader changes always produce a Ready; the membership changes only while applying one), so the
   * unchanged status is not checked again.
   */
  private afterInput(): void {
    const quiet = !this.readyOutstanding;
    this.tookReady = false;
    this.pump();
    if (quiet && !this.tookReady && !this.readyOutstanding) return;
    this.status = this.raw.status();
    this.env.observer.afterStep(this.id, this.status, this.termAt);
  }

  /** Takes Readys while none is outstanding. */
  private pump(): void {
    while (this.state === 'up' && !this.readyOutstanding && this.raw.hasReady()) {
      const rd = this.raw.ready();
      this.readyOutstanding = true;
      this.tookReady = true;
      if (rd.softState) this.published.soft = rd.softState;
      if (rd.hardState) this.published.hard = rd.hardState;
      const st = this.published;
      this.env.trace.add(this.env.queue.now, () => `n${this.id} ready ${describeReady(rd)}`);
      this.env.observer.onReady(this.id, rd, st.soft.role, st.hard);
      this.service.noteEntries(rd.entries);
      const early = st.soft.role === 'Leader' ? rd.messages.filter((m) => REPLICATION.has(m.type)) : [];
      const late = early.length === 0 ? rd.messages : rd.messages.filter((m) => !REPLICATION.has(m.type));
      for (const m of early) this.send(m);
      const needsWrite = rd.entries.length > 0 || rd.hardState !== undefined || rd.snapshot !== undefined;
      if (!needsWrite) {
        this.finishReady(rd, late, false);
        continue;
      }
      const inc = this.incarnation;
      const latency = rd.mustSync ? this.env.options.syncLatency(this.rng) * this.diskSlowdown : 0.01;
      this.env.queue.after(
        latency,
        () => `n${this.id} write completes`,
        () => {
          if (inc !== this.incarnation) {
            this.env.trace.add(this.env.queue.now, () => `n${this.id} write lost (crashed before it completed)`);
            return;
          }
          this.whenRunnable(() => {
            this.finishReady(rd, late, true);
            this.pump();
            this.status = this.raw.status();
            this.env.observer.afterStep(this.id, this.status, this.termAt);
          });
        },
      );
      return;
    }
  }

  private finishReady(rd: Ready, late: readonly Message[], wrote: boolean): void {
    if (wrote) {
      this.disk.complete({
        sync: rd.mustSync,
        apply: (img) => {
          if (rd.snapshot) img.log.applySnapshot(rd.snapshot);
          if (rd.entries.length > 0) img.log.append(rd.entries);
          if (rd.hardState) img.log.setHardState(rd.hardState);
        },
      });
      this.env.observer.onPersisted(this.id, rd, rd.mustSync);
    }
    for (const m of late) this.send(m);
    this.apply(rd);
    this.service.noteReadStates(rd.readStates);
    this.service.serveReads();
    this.raw.advance();
    this.readyOutstanding = false;
    this.maybeCompact();
  }

  private apply(rd: Ready): void {
    const snap = rd.snapshot;
    if (snap !== undefined) {
      this.env.observer.onApplySnapshot(this.id, snap);
      this.snapshotsInstalled++;
      this.disk.complete({
        sync: false,
        apply: (img) => restoreSm(img.sm, snap.data, snap.meta.index, snap.meta.confState),
      });
      this.lastSnapshotIndex = snap.meta.index;
      this.service.dropUpTo(snap.meta.index, 'replaced by a snapshot');
    }
    const ents = rd.committedEntries;
    if (ents.length === 0) return;
    for (const e of ents) this.env.observer.onApply(this.id, e);
    // After a restart from the snapshot index, entries up to the state machine's applied index
    // come again: the state machine skips them (its applied index is durable with its effects).
    const confStates = new Map<number, { cc: ConfChange; cs: ConfState }>();
    for (const e of ents) {
      if (e.type !== 'ConfChange') continue;
      const cc = decodeConfChange(e.data);
      confStates.set(e.index, { cc, cs: this.raw.applyConfChange(cc) });
    }
    const results = this.disk.complete({
      sync: false,
      apply: (img) => ents.map((e) => applyEntry(img.sm, e, confStates.get(e.index)?.cs)),
    });
    ents.forEach((e, k) => {
      const conf = confStates.get(e.index);
      if (conf !== undefined) {
        const { cc, cs } = conf;
        this.env.trace.add(
          this.env.queue.now,
          () =>
            `n${this.id} conf ${cc.type} ${cc.nodeId} at ${e.index} → voters=(${cs.voters.join(' ')}) learners=(${cs.learners.join(' ')})`,
        );
        this.env.onConfChangeApplied(this, cc, e.index, cs);
        return;
      }
      const res = results[k];
      if (res !== undefined) this.service.onApplied(e, res.c, res.s, res.result);
    });
    // Proposals whose index was taken by another entry.
    this.service.dropUpTo(ents[ents.length - 1]!.index, 'entry overwritten');
  }

  private maybeCompact(): void {
    const o = this.env.options;
    const sm = this.disk.view.sm;
    if (o.snapshotEvery <= 0 || sm.applied - this.lastSnapshotIndex < o.snapshotEvery) return;
    const index = sm.applied;
    const data = snapshotSm(sm);
    const cs = sm.confState;
    const compactTo = Math.max(index - o.trailing, this.disk.view.log.firstIndex() - 1);
    this.disk.complete({
      sync: true,
      apply: (img) => {
        img.log.createSnapshot(index, cs, data);
        img.log.compact(compactTo);
      },
    });
    this.lastSnapshotIndex = index;
    this.env.observer.onCompacted(this.id, compactTo);
    this.env.trace.add(this.env.queue.now, () => `n${this.id} snapshot at ${index}, compacted to ${compactTo}`);
  }

  private send(m: Message): void {
    this.env.observer.onSend(this.id, m);
    this.env.trace.add(this.env.queue.now, () => `n${this.id} send ${describeMessage(m)}`);
    this.env.send(m);
  }

  private logger(): RaftLogger {
    const line = (level: string) => (obj: object, msg: string) => {
      const now = this.env.queue.now;
      this.env.trace.add(now, () => `n${this.id} ${level} ${msg} ${JSON.stringify(obj)}`);
    };
    return {
      debug: () => undefined,
      info: line('INFO'),
      warn: line('WARN'),
      error: line('ERROR'),
      isLevelEnabled: (level) => level !== 'debug',
    };
  }
}

/**
 * One committed entry on the state machine image. Entries at or below its applied index are
 * skipped (re-delivered after a restart); anything else must be the next index.
 */
function applyEntry(
  sm: SmImage,
  e: Entry,
  cs: ConfState | undefined,
): { c: number; s: number; result: KvOutput } | undefined {
  if (e.index <= sm.applied) return undefined;
  if (e.index !== sm.applied + 1) {
    throw new SimFailure(`state machine at ${sm.applied} asked to apply ${e.index} (gap)`);
  }
  if (e.type !== 'Normal') {
    sm.applied = e.index;
    if (cs !== undefined) sm.confState = cs;
    return undefined;
  }
  const r = applyCommand(sm, e.index, e.data);
  return r === undefined ? undefined : { c: r.cmd.c, s: r.cmd.s, result: r.result };
}
