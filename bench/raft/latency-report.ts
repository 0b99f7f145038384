/**
 * Joins the latency traces of the members of one cluster (kv-member with
 * SHOAL_RAFT_LATENCY_TRACE=<path>, files <path>.m<id>.json) and prints, per stage of the write path,
 * the median / p90 time from the previous stage, for the sampled indexes the leader proposed.
 * Usage: node dist/bench/raft/latency-report.js <path>
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

type Records = Record<string, Record<string, number>>;

function load(path: string): Map<string, Records> {
  const dir = dirname(path);
  const base = basename(path);
  const out = new Map<string, Records>();
  for (const f of readdirSync(dir)) {
    const m = f.startsWith(`${base}.`) && /\.(m\d+)\.json$/.exec(f);
    if (m) out.set(m[1]!, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Records);
  }
  return out;
}

function pct(xs: number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

function main(): void {
  const path = process.argv[2];
  if (!path) throw new Error('usage: latency-report <trace path>');
  const members = load(path);
  const samples = new Map<string, Record<string, number[]>>();
  for (const [name, r] of members) {
    samples.set(name, (r.samples ?? {}) as unknown as Record<string, number[]>);
    delete r.samples;
  }
  const [leaderName, leader] = [...members].sort((a, b) => count(b[1], 'propose') - count(a[1], 'propose'))[0] ?? [];
  if (!leader) throw new Error('no traces');
  const followers = [...members].filter(([n]) => n !== leaderName);
  // Each step: [label, where, stage]; the follower is the one whose ack reached the leader first.
  const steps: [string, 'L' | 'F', string][] = [
    ['propose', 'L', 'propose'],
    ['→ ready (leader)', 'L', 'ready'],
    ['→ App written', 'L', 'sentApp'],
    ['→ App received', 'F', 'recvApp'],
    ['→ ready (follower)', 'F', 'ready'],
    ['→ persisted (follower)', 'F', 'persisted'],
    ['→ ack written', 'F', 'sentAck'],
    ['→ ack received', 'L', 'recvAck'],
    ['→ committed Ready', 'L', 'commitReady'],
    ['→ applied', 'L', 'applied'],
  ];
  const deltas = steps.map(() => [] as number[]);
  const leaderPersist: number[] = [];
  const total: number[] = [];
  for (const [idx, l] of Object.entries(leader)) {
    if (l.propose === undefined || l.applied === undefined) continue;
    const f = followers
      .map(([, r]) => r[idx])
      .filter((r): r is Record<string, number> => r?.sentAck !== undefined)
      .sort((a, b) => a.sentAck! - b.sentAck!)[0];
    if (!f) continue;
    let prev: number | undefined;
    steps.forEach(([, where, stage], i) => {
      const t = (where === 'L' ? l : f)[stage];
      if (t !== undefined && prev !== undefined) deltas[i]!.push(t - prev);
      if (t !== undefined) prev = t;
    });
    if (l.persisted !== undefined && l.ready !== undefined) leaderPersist.push(l.persisted - l.ready);
    total.push(l.applied - l.propose);
  }
  console.log(`leader ${leaderName}, ${total.length} sampled writes`);
  console.log('step'.padEnd(26) + 'p50 ms'.padStart(9) + 'p90 ms'.padStart(9));
  steps.forEach(([label], i) => {
    if (i === 0) return;
    console.log(label.padEnd(26) + pct(deltas[i]!, 0.5).toFixed(2).padStart(9) + pct(deltas[i]!, 0.9).toFixed(2).padStart(9));
  });
  console.log('leader ready → persisted'.padEnd(26) + pct(leaderPersist, 0.5).toFixed(2).padStart(9) + pct(leaderPersist, 0.9).toFixed(2).padStart(9));
  for (const [name, xs] of Object.entries(samples.get(leaderName!) ?? {})) {
    console.log(name.padEnd(26) + pct(xs, 0.5).toFixed(2).padStart(9) + pct(xs, 0.9).toFixed(2).padStart(9));
  }
  console.log('total propose → applied'.padEnd(26) + pct(total, 0.5).toFixed(2).padStart(9) + pct(total, 0.9).toFixed(2).padStart(9));
}

function count(r: Records, stage: string): number {
  return Object.values(r).filter((x) => x[stage] !== undefined).length;
}

main();
