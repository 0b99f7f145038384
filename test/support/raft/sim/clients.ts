/**
 * Simulated KV clients. Each client runs one operation at a time on a small key space (so they
 * contend), sends it to the node it believes leads, follows NotLeader hints, times out and retries
 * elsewhere with the SAME sequence number (the state machine's sessions make a retried write apply
 * once), and gives up after a deadline. Every operation is recorded for the linearizability check:
 * call = when the client issued it, return = when a definite answer arrived; a write given up on has
 * an unknown outcome (return Infinity); a read given up on is dropped (it had no effect).
 */
import type { NodeId } from '../../../../src/raft/index.js';
import type { KvInput, KvOperation, KvOutput } from '../../../support/lincheck/index.js';
import type { EventQueue } from './event-queue.js';
import type { SimRandom } from './random.js';
import type { ClientReply, ClientRequest } from './client-service.js';
import type { Trace } from './trace.js';
import { describeKv } from '../../../support/lincheck/index.js';

export interface ClientEnv {
  readonly queue: EventQueue;
  readonly trace: Trace;
  readonly keys: readonly string[];
  /** Nodes a client may contact. */
  targets(): readonly NodeId[];
  /** Sends `req` to `to`; replies come back through `SimClient.onReply`. */
  send(to: NodeId, req: ClientRequest): void;
  record(op: KvOperation): void;
  /** Per attempt, then for the whole operation (ms). */
  readonly attemptTimeout: number;
  readonly opDeadline: number;
  readonly thinkTime: (rng: SimRandom) => number;
}

interface Current {
  readonly seq: number;
  readonly op: KvInput;
  readonly call: number;
  attempt: number;
  target: NodeId;
}

export class SimClient {
  private seq = 0;
  private current: Current | undefined;
  private issuing = true;
  /** Once faults stop, a client never gives up: liveness demands an answer. */
  private patient = false;
  private hint: NodeId = 0;
  private readonly lastSeen = new Map<string, string | null>();
  readonly stats = { done: 0, unknown: 0, droppedReads: 0, attempts: 0 };
  /** Time the client last gave up on an operation (for liveness checks). */
  lastGaveUpAt = -Infinity;

  constructor(
    readonly id: number,
    private readonly env: ClientEnv,
    private readonly rng: SimRandom,
  ) {}

  start(): void {
    this.scheduleNext();
  }

  /** No new operations; the outstanding one continues until it gets an answer (no more giving up). */
  stopIssuing(): void {
    this.issuing = false;
    this.patient = true;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  describeCurrent(): string {
    const c = this.current;
    return c === undefined
      ? 'idle'
      : `c${this.id} seq ${c.seq} ${c.op.kind} ${c.op.key} attempt ${c.attempt} → n${c.target} since ${c.call}`;
  }

  onReply(from: NodeId, req: ClientRequest, reply: ClientReply): void {
    const c = this.current;
    if (c === undefined || req.seq !== c.seq || req.attempt !== c.attempt) return; // stale
    const now = this.env.queue.now;
    this.env.trace.add(
      now,
      () => `c${this.id} reply from n${from} seq ${req.seq}/${req.attempt}: ${describeReply(reply)}`,
    );
    switch (reply.kind) {
      case 'done':
        if (reply.output.kind === 'unknown') return this.retry(false);
        this.complete(reply.output);
        return;
      case 'notLeader':
        this.hint = reply.hint;
        return this.retry(reply.hint !== 0 && reply.hint !== from);
      case 'retry':
        return this.retry(false);
    }
  }

  private scheduleNext(): void {
    if (!this.issuing) return;
    this.env.queue.after(
      this.env.thinkTime(this.rng),
      () => `c${this.id} think`,
      () => this.issue(),
    );
  }

  private issue(): void {
    if (!this.issuing || this.current !== undefined) return;
    const op = this.nextOp();
    const seq = ++this.seq;
    const now = this.env.queue.now;
    this.current = { seq, op, call: now, attempt: 0, target: 0 };
    this.env.queue.after(
      this.env.opDeadline,
      () => `c${this.id} deadline seq ${seq}`,
      () => {
        if (this.current?.seq === seq && !this.patient) this.giveUp();
      },
    );
    this.sendAttempt(true);
  }

  private sendAttempt(useHint: boolean): void {
    const c = this.current!;
    const targets = this.env.targets();
    if (targets.length === 0) return;
    let to = useHint && this.hint !== 0 && targets.includes(this.hint) ? this.hint : this.rng.pick(targets);
    if (!useHint && to === c.target && targets.length > 1) to = this.rng.pick(targets.filter((t) => t !== c.target));
    c.attempt++;
    c.target = to;
    this.stats.attempts++;
    const req: ClientRequest = { client: this.id, seq: c.seq, attempt: c.attempt, op: c.op };
    const attempt = c.attempt;
    this.env.trace.add(
      this.env.queue.now,
      () => `c${this.id} → n${to} seq ${req.seq}/${attempt} ${describeKv(req.op, { kind: 'unknown' })}`,
    );
    this.env.send(to, req);
    this.env.queue.after(
      this.env.attemptTimeout,
      () => `c${this.id} attempt timeout seq ${req.seq}/${attempt}`,
      () => {
        if (this.current?.seq === req.seq && this.current.attempt === attempt) this.retry(false);
      },
    );
  }

  private retry(useHint: boolean): void {
    // A short backoff so a leaderless cluster is not hammered.
    const c = this.current!;
    const seq = c.seq;
    const attempt = c.attempt;
    this.env.queue.after(
      useHint ? 0.5 : 2 + this.rng.exp(5),
      () => `c${this.id} retry seq ${seq}`,
      () => {
        if (this.current?.seq === seq && this.current.attempt === attempt) this.sendAttempt(useHint);
      },
    );
  }

  private complete(output: KvOutput): void {
    const c = this.current!;
    this.env.record({ clientId: this.id, input: c.op, call: c.call, return: this.env.queue.now, output });
    if (output.kind === 'value') this.lastSeen.set(c.op.key, output.value);
    if (c.op.kind === 'put') this.lastSeen.set(c.op.key, c.op.value);
    if (c.op.kind === 'cas' && output.kind === 'cas' && output.swapped) this.lastSeen.set(c.op.key, c.op.to);
    if (c.op.kind === 'delete') this.lastSeen.set(c.op.key, null);
    this.stats.done++;
    this.current = undefined;
    this.scheduleNext();
  }

  private giveUp(): void {
    const c = this.current!;
    const now = this.env.queue.now;
    this.env.trace.add(now, () => `c${this.id} gives up seq ${c.seq} ${describeKv(c.op, { kind: 'unknown' })}`);
    if (c.op.kind === 'get') {
      this.stats.droppedReads++;
    } else {
      this.env.record({ clientId: this.id, input: c.op, call: c.call, return: Infinity, output: { kind: 'unknown' } });
      this.stats.unknown++;
    }
    this.lastGaveUpAt = now;
    this.current = undefined;
    this.scheduleNext();
  }

  private nextOp(): KvInput {
    const key = this.rng.pick(this.env.keys);
    const value = `${this.id}.${this.seq + 1}`;
    const kind = this.rng.weighted<KvInput['kind']>([
      ['get', 40],
      ['put', 30],
      ['cas', 20],
      ['delete', 10],
    ]);
    switch (kind) {
      case 'get':
        return { kind, key };
      case 'put':
        return { kind, key, value };
      case 'delete':
        return { kind, key };
      case 'cas': {
        const seen = this.lastSeen.get(key);
        const from = seen !== undefined && this.rng.chance(0.8) ? seen : null;
        return { kind, key, from, to: value };
      }
    }
  }
}

function describeReply(r: ClientReply): string {
  switch (r.kind) {
    case 'done':
      return `done ${JSON.stringify(r.output)}`;
    case 'notLeader':
      return `not leader (hint n${r.hint})`;
    case 'retry':
      return `retry (${r.why})`;
  }
}
