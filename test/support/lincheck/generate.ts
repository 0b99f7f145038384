/**
 * Generators of histories for the checker's own tests: histories a correct concurrent system
 * could produce (each operation takes effect at one point inside its interval).
 */
import { seededRng } from '../../../src/shared/index.js';
import { applyKv, type KvInput, type KvOperation, type KvOutput } from './kv-model.js';

const put = (key: string, value: string): KvInput => ({ kind: 'put', key, value });
const get = (key: string): KvInput => ({ kind: 'get', key });
const casIn = (key: string, from: string | null, to: string): KvInput => ({ kind: 'cas', key, from, to });
const del = (key: string): KvInput => ({ kind: 'delete', key });

/**
 * A history produced by a correct concurrent system: `clients` sequential clients issue random
 * operations on `keys` keys; each takes effect at a random point inside its interval; ~2% have an
 * unknown outcome (half of which never took effect).
 */
export function randomConcurrentHistory(seed: number, n: number, clients: number, keys: number): KvOperation[] {
  const rng = seededRng(seed);
  const int = (k: number): number => Math.floor(rng() * k);
  const clientTime = new Array<number>(clients).fill(0);
  const planned: { op: Omit<KvOperation, 'output'>; at: number; effect: boolean; unknown: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    const c = int(clients);
    const call = clientTime[c]! + 1 + int(5);
    const ret = call + 1 + int(30);
    clientTime[c] = ret;
    const key = `k${int(keys)}`;
    const v = `v${int(4)}`;
    const inputs: KvInput[] = [
      put(key, v),
      get(key),
      get(key),
      casIn(key, int(3) === 0 ? null : `v${int(4)}`, v),
      del(key),
    ];
    const unknown = int(50) === 0;
    planned.push({
      op: { clientId: c, input: inputs[int(inputs.length)]!, call, return: unknown ? Infinity : ret },
      at: call + rng() * (ret - call),
      effect: !unknown || int(2) === 0,
      unknown,
    });
  }
  const state = new Map<string, string | null>();
  const out: KvOperation[] = [];
  for (const p of [...planned].sort((a, b) => a.at - b.at)) {
    let output: KvOutput = { kind: 'unknown' };
    if (p.effect) {
      const r = applyKv(state.get(p.op.input.key) ?? null, p.op.input);
      state.set(p.op.input.key, r.state);
      output = r.output;
    }
    out.push({ ...p.op, output: p.unknown ? { kind: 'unknown' } : output });
  }
  return out;
}
