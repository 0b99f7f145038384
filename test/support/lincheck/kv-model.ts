/**
 * A single-register-per-key KV model: put, get, compare-and-set and delete on string values.
 * Partitioned per key (operations on different keys commute), so each part's state is one value
 * (`null` = absent).
 */
import type { Model, Operation } from './model.js';

export type KvInput =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  /** Sets `to` when the current value is `from` (`from: null` = "create if absent"). */
  | { readonly kind: 'cas'; readonly key: string; readonly from: string | null; readonly to: string }
  | { readonly kind: 'delete'; readonly key: string };

export type KvOutput =
  /** The outcome was never observed (timeout, crash): any effect or none is possible. */
  | { readonly kind: 'unknown' }
  /** put acknowledged. */
  | { readonly kind: 'ok' }
  /** get result (`null` = absent). */
  | { readonly kind: 'value'; readonly value: string | null }
  | { readonly kind: 'cas'; readonly swapped: boolean }
  | { readonly kind: 'deleted'; readonly existed: boolean };

export type KvOperation = Operation<KvInput, KvOutput>;

/** The state of one key. */
export type KvState = string | null;

/** Applies `input` sequentially (the reference semantics the simulator's state machine also follows). */
export function applyKv(state: KvState, input: KvInput): { state: KvState; output: KvOutput } {
  switch (input.kind) {
    case 'put':
      return { state: input.value, output: { kind: 'ok' } };
    case 'get':
      return { state, output: { kind: 'value', value: state } };
    case 'cas':
      return state === input.from
        ? { state: input.to, output: { kind: 'cas', swapped: true } }
        : { state, output: { kind: 'cas', swapped: false } };
    case 'delete':
      return { state: null, output: { kind: 'deleted', existed: state !== null } };
  }
}

function sameOutput(a: KvOutput, b: KvOutput): boolean {
  switch (a.kind) {
    case 'unknown':
    case 'ok':
      return b.kind === a.kind;
    case 'value':
      return b.kind === 'value' && b.value === a.value;
    case 'cas':
      return b.kind === 'cas' && b.swapped === a.swapped;
    case 'deleted':
      return b.kind === 'deleted' && b.existed === a.existed;
  }
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => null,
  step(state, input, output) {
    const r = applyKv(state, input);
    // Unknown outcome: the operation took effect (here) or never did (linearized last).
    if (output.kind === 'unknown') return { ok: true, state: r.state };
    return { ok: sameOutput(r.output, output), state: r.state };
  },
  hash: (state) => (state === null ? '∅' : `=${state}`),
  partition(history) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const op of history) {
      let list = byKey.get(op.input.key);
      if (list === undefined) byKey.set(op.input.key, (list = []));
      list.push(op);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
  describeOperation: describeKv,
  describeState: (state) => (state === null ? '(absent)' : JSON.stringify(state)),
};

export function describeKv(input: KvInput, output: KvOutput): string {
  const out = ((): string => {
    switch (output.kind) {
      case 'unknown':
        return '?';
      case 'ok':
        return 'ok';
      case 'value':
        return output.value === null ? '(absent)' : JSON.stringify(output.value);
      case 'cas':
        return output.swapped ? 'swapped' : 'not swapped';
      case 'deleted':
        return output.existed ? 'deleted' : 'was absent';
    }
  })();
  switch (input.kind) {
    case 'put':
      return `put(${input.key}, ${JSON.stringify(input.value)}) -> ${out}`;
    case 'get':
      return `get(${input.key}) -> ${out}`;
    case 'cas':
      return `cas(${input.key}, ${JSON.stringify(input.from)} => ${JSON.stringify(input.to)}) -> ${out}`;
    case 'delete':
      return `delete(${input.key}) -> ${out}`;
  }
}
