/**
 * The vocabulary of the linearizability checker: a sequential specification (Model) and a
 * concurrent history of completed or unknown-outcome operations (Porcupine's `Model` and
 * `Operation`, re-expressed in TypeScript).
 */

/**
 * One client operation as observed from outside the system.
 * `call` and `return` are times on one clock (virtual time in the simulator); an operation whose
 * outcome is unknown (timed out, the client gave up) has `return === Infinity` and an output the
 * model accepts in any state (for the KV model: `{ kind: 'unknown' }`). It may then take effect
 * at any point after `call`, or never.
 */
export interface Operation<I, O> {
  readonly clientId: number;
  readonly input: I;
  readonly call: number;
  readonly return: number;
  readonly output: O;
}

/** The result of applying one operation to a state. `ok` is false when `output` is impossible there. */
export interface StepResult<S> {
  readonly ok: boolean;
  readonly state: S;
}

/**
 * A sequential specification. `step` must be pure: it never mutates `state` and returns a new
 * (or the same, unchanged) state.
 */
export interface Model<S, I, O> {
  /** The state before any operation. */
  init(): S;
  /** Applies `input` with the observed `output`; `ok: false` when the output is impossible in `state`. */
  step(state: S, input: I, output: O): StepResult<S>;
  /**
   * A string identifying `state` for memoization. When `equal` is absent it must be canonical
   * (equal strings ⇔ equal states); when present, collisions are resolved with `equal`.
   */
  hash(state: S): string;
  equal?(a: S, b: S): boolean;
  /**
   * Splits a history into independent sub-histories (P-compositionality, e.g. one per key).
   * The history is linearizable iff every part is. Absent: the history is one part.
   */
  partition?(history: readonly Operation<I, O>[]): readonly (readonly Operation<I, O>[])[];
  /** Human-readable rendering for explanations. */
  describeOperation?(input: I, output: O): string;
  describeState?(state: S): string;
}

/** Why the checker gave up without a verdict: the search exceeded its step budget. */
export interface CheckBudget {
  /** Maximum search steps per partition (default 5,000,000). */
  readonly maxSteps?: number;
}

/** A linearization found for the longest prefix, and the operation that could not be placed after it. */
export interface NotLinearizable<S, I, O> {
  readonly ok: false;
  readonly reason: 'NotLinearizable';
  /** Index of the offending partition in `model.partition(history)` order. */
  readonly partition: number;
  /** The operations of that partition, sorted by call time. */
  readonly operations: readonly Operation<I, O>[];
  /** The longest partial linearization found, in linearization order. */
  readonly longestPrefix: readonly Operation<I, O>[];
  /** The model state after `longestPrefix`. */
  readonly stateAfterPrefix: S;
  /**
   * The first operation (by return time) missing from `longestPrefix`: no order of the pending
   * operations lets it return with its observed output.
   */
  readonly stuck: Operation<I, O>;
  /** A multi-line explanation (prefix, state, the stuck operation and the ones concurrent with it). */
  readonly explanation: string;
}

export type CheckResult<S, I, O> =
  | { readonly ok: true }
  | NotLinearizable<S, I, O>
  | { readonly ok: false; readonly reason: 'Timeout'; readonly partition: number; readonly explanation: string };
