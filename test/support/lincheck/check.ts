/**
 * Linearizability checking of a concurrent history against a sequential Model.
 *
 * Algorithm (Wing & Gong 1993, with Lowe's just-in-time refinement and the memoization of
 * (linearized set, state) that Porcupine uses; Horn & Kroening's P-compositionality):
 * - the history is split into independent parts (`model.partition`), each checked alone;
 * - a part becomes a doubly-linked list of call and return events sorted by time (calls before
 *   returns at equal times, so touching intervals count as concurrent);
 * - the search walks the list: at a call it tries to linearize that operation now (step the model
 *   with its observed output), lifting its call and return out of the list; at a return whose
 *   operation is not yet linearized it backtracks (that operation had to take effect before
 *   returning). A (linearized set, state) pair seen before is never explored twice.
 * - operations with `return === Infinity` (unknown outcome) are never forced; they are linearized
 *   at the end, which is the same as "never took effect" when their output is accepted anywhere.
 */
import { Bitset, createZobristKeys } from './bitset.js';
import type { CheckBudget, CheckResult, Model, NotLinearizable, Operation } from './model.js';

const DEFAULT_MAX_STEPS = 5_000_000;

/** Checks `history`; the verdict covers every partition (the first failing one is reported). */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  budget: CheckBudget = {},
): CheckResult<S, I, O> {
  const parts = model.partition ? model.partition(history) : [history];
  for (let p = 0; p < parts.length; p++) {
    const r = checkPartition(model, parts[p]!, p, budget.maxSteps ?? DEFAULT_MAX_STEPS);
    if (!r.ok) return r;
  }
  return { ok: true };
}

interface Node<I, O> {
  /** -1 for the list head. */
  readonly id: number;
  readonly isCall: boolean;
  /** For a call: its return node. */
  match: Node<I, O> | null;
  prev: Node<I, O> | null;
  next: Node<I, O> | null;
  readonly op: Operation<I, O> | null;
}

function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  part: readonly Operation<I, O>[],
  partIndex: number,
  maxSteps: number,
): CheckResult<S, I, O> {
  const ops = [...part].sort((a, b) => a.call - b.call || a.return - b.return);
  const n = ops.length;
  if (n === 0) return { ok: true };
  const head = buildList(ops);

  const keys = createZobristKeys(n);
  const linearized = new Bitset(n, keys);
  const memo = new Map<string, { bits: Bitset; state: S }[]>();
  const calls: { node: Node<I, O>; state: S }[] = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  let best: { ids: number[]; state: S } = { ids: [], state };

  while (head.next !== null) {
    if (++steps > maxSteps) {
      return {
        ok: false,
        reason: 'Timeout',
        partition: partIndex,
        explanation: `partition ${partIndex} (${n} ops): search exceeded ${maxSteps} steps`,
      };
    }
    const e = entry!;
    if (e.isCall) {
      const ret = e.match!;
      const r = model.step(state, e.op!.input, ret.op!.output);
      if (r.ok && remember(model, memo, linearized, e.id, r.state)) {
        calls.push({ node: e, state });
        state = r.state;
        linearized.set(e.id);
        lift(e);
        if (calls.length > best.ids.length) best = { ids: calls.map((c) => c.node.id), state };
        entry = head.next;
      } else {
        entry = e.next;
      }
    } else {
      // A return of an operation not linearized yet: undo the latest choice.
      const top = calls.pop();
      if (top === undefined) return notLinearizable(model, ops, partIndex, best);
      state = top.state;
      linearized.clear(top.node.id);
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return { ok: true };
}

/** Records (linearized ∪ {id}, state) in the memo; false when it was already there. */
function remember<S, I, O>(
  model: Model<S, I, O>,
  memo: Map<string, { bits: Bitset; state: S }[]>,
  linearized: Bitset,
  id: number,
  state: S,
): boolean {
  const key = `${linearized.hashKeyWith(id)}|${model.hash(state)}`;
  const bucket = memo.get(key);
  const bits = linearized.clone();
  bits.set(id);
  if (bucket === undefined) {
    memo.set(key, [{ bits, state }]);
    return true;
  }
  const equal = model.equal;
  for (const c of bucket) {
    if (c.bits.equals(bits) && (equal === undefined || equal(c.state, state))) return false;
  }
  bucket.push({ bits, state });
  return true;
}

function buildList<I, O>(ops: readonly Operation<I, O>[]): Node<I, O> {
  type Ev = { time: number; isCall: boolean; id: number };
  const events: Ev[] = [];
  ops.forEach((op, id) => {
    events.push({ time: op.call, isCall: true, id }, { time: op.return, isCall: false, id });
  });
  // Calls sort before returns at equal times: intervals that touch are concurrent (Porcupine).
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: Node<I, O> = { id: -1, isCall: false, match: null, prev: null, next: null, op: null };
  const returns = new Map<number, Node<I, O>>();
  let last = head;
  const pendingCalls: Node<I, O>[] = [];
  for (const ev of events) {
    const node: Node<I, O> = { id: ev.id, isCall: ev.isCall, match: null, prev: last, next: null, op: ops[ev.id]! };
    last.next = node;
    last = node;
    if (ev.isCall) pendingCalls.push(node);
    else returns.set(ev.id, node);
  }
  for (const c of pendingCalls) c.match = returns.get(c.id)!;
  return head;
}

function lift<I, O>(call: Node<I, O>): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift<I, O>(call: Node<I, O>): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

function notLinearizable<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  partIndex: number,
  best: { ids: number[]; state: S },
): NotLinearizable<S, I, O> {
  const inPrefix = new Set(best.ids);
  let stuckId = -1;
  for (let i = 0; i < ops.length; i++) {
    if (inPrefix.has(i)) continue;
    if (stuckId < 0 || ops[i]!.return < ops[stuckId]!.return) stuckId = i;
  }
  const stuck = ops[stuckId]!;
  const longestPrefix = best.ids.map((i) => ops[i]!);
  const concurrent = ops.filter(
    (op, i) => i !== stuckId && !inPrefix.has(i) && op.call <= stuck.return && op.return >= stuck.call,
  );
  const show = (op: Operation<I, O>): string => describe(model, op);
  const shown = longestPrefix.slice(-20);
  const lines = [
    `partition ${partIndex} (${ops.length} ops) is not linearizable`,
    `longest linearizable prefix: ${longestPrefix.length} ops` +
      (shown.length < longestPrefix.length ? ` (last ${shown.length} shown)` : ''),
    ...shown.map((op) => `  ${show(op)}`),
    `state after prefix: ${model.describeState ? model.describeState(best.state) : model.hash(best.state)}`,
    `cannot place: ${show(stuck)}`,
    `other pending ops overlapping it: ${concurrent.length === 0 ? 'none' : ''}`,
    ...concurrent.slice(0, 20).map((op) => `  ${show(op)}`),
  ];
  return {
    ok: false,
    reason: 'NotLinearizable',
    partition: partIndex,
    operations: ops,
    longestPrefix,
    stateAfterPrefix: best.state,
    stuck,
    explanation: lines.join('\n'),
  };
}

function describe<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const what = model.describeOperation
    ? model.describeOperation(op.input, op.output)
    : `${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}`;
  const t = (x: number): string => (x === Infinity ? '∞' : Number.isInteger(x) ? String(x) : x.toFixed(3));
  return `[client ${op.clientId}] ${what}  (call ${t(op.call)}, return ${t(op.return)})`;
}
