/**
 * A deliberately dumb reference checker, straight from the definition (Herlihy & Wing): a history
 * is linearizable when some subset of its unknown-outcome operations plus all completed ones has a
 * total order that respects real time (a before b when a.return < b.call) and that the model
 * accepts. Exponential; for property tests on histories of at most ~7 operations.
 */
import type { Model, Operation } from './model.js';

export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): boolean {
  const n = history.length;
  const unknown = history.map((op) => op.return === Infinity);
  const used = new Array<boolean>(n).fill(false);

  // Can `i` be placed next: every op that really precedes it is already placed.
  const placeable = (i: number): boolean => {
    for (let j = 0; j < n; j++) {
      if (j !== i && !used[j] && history[j]!.return < history[i]!.call) return false;
    }
    return true;
  };

  const search = (state: S): boolean => {
    // Done when every completed op is placed (unknown ones may be left out).
    let allDone = true;
    for (let i = 0; i < n; i++) if (!used[i] && !unknown[i]) allDone = false;
    if (allDone) return true;
    for (let i = 0; i < n; i++) {
      if (used[i] || !placeable(i)) continue;
      const op = history[i]!;
      const r = model.step(state, op.input, op.output);
      if (!r.ok) continue;
      used[i] = true;
      const found = search(r.state);
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(model.init());
}
