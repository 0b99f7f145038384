/**
 * Everything about a seeded run is derived from its seed: cluster size, fault profile, raft
 * options, workload and run length. So `SEED=<n>` alone replays a run exactly.
 */
import type { FaultProfile } from './nemesis.js';
import type { LinkParams } from './network.js';
import { SimRandom } from './random.js';
import type { SimConfig } from './simulation.js';

const MILD: LinkParams = { drop: 0.01, duplicate: 0.01, delayMin: 0.5, delayMean: 2 };

export const PROFILES: readonly FaultProfile[] = [
  {
    name: 'calm',
    link: { drop: 0, duplicate: 0, delayMin: 0.5, delayMean: 1 },
    meanGapEt: 0,
    weights: {},
    membership: false,
    transfers: false,
  },
  {
    name: 'lossy',
    link: { drop: 0.12, duplicate: 0.08, delayMin: 0.5, delayMean: 6 },
    meanGapEt: 3,
    weights: { flakyLink: 3, slowDisk: 1 },
    membership: false,
    transfers: false,
  },
  {
    name: 'partitions',
    link: MILD,
    meanGapEt: 2,
    weights: { partition: 3, isolateLeader: 3, bridge: 2, oneWay: 3, flakyLink: 1 },
    membership: false,
    transfers: false,
  },
  {
    name: 'crashes',
    link: MILD,
    meanGapEt: 2.5,
    weights: { crash: 3, powerLoss: 3, pause: 2, slowDisk: 1 },
    membership: false,
    transfers: false,
  },
  {
    name: 'membership',
    link: MILD,
    meanGapEt: 4,
    weights: { crash: 1, isolateLeader: 1, partition: 1, pause: 1, campaign: 1 },
    membership: true,
    transfers: true,
  },
  {
    name: 'chaos',
    link: { drop: 0.05, duplicate: 0.03, delayMin: 0.5, delayMean: 4 },
    meanGapEt: 1.5,
    weights: {
      partition: 2,
      isolateLeader: 2,
      bridge: 1,
      oneWay: 2,
      flakyLink: 1,
      crash: 2,
      powerLoss: 2,
      pause: 2,
      slowDisk: 1,
    },
    membership: true,
    transfers: true,
  },
];

/** Options a caller may force (e.g. broken variants, longer runs). */
export interface ConfigOverrides {
  readonly profile?: string;
  readonly nodes?: number;
  readonly faultEt?: number;
  readonly checkQuorum?: boolean;
  readonly readOnlyOption?: 'Safe' | 'LeaseBased';
  readonly freshSnapshots?: boolean;
  readonly unsafeLocalReads?: boolean;
  readonly unsafeAckOnPropose?: boolean;
  readonly fullTrace?: boolean;
}

export function configForSeed(seed: number, o: ConfigOverrides = {}): SimConfig {
  const r = new SimRandom(seed).fork('config');
  const nodes = o.nodes ?? (r.chance(0.6) ? 3 : 5);
  const profile =
    o.profile !== undefined
      ? (PROFILES.find((p) => p.name === o.profile) ?? fail(`unknown profile ${o.profile}`))
      : r.weighted<FaultProfile>(PROFILES.map((p) => [p, p.name === 'calm' ? 1 : p.name === 'chaos' ? 4 : 3]));
  const tickMs = 10;
  // Mostly etcd's 10/1; sometimes a slower heartbeat or a shorter/longer election timeout.
  const electionTick = r.pick([10, 10, 10, 6, 15]);
  const heartbeatTick = r.pick([1, 1, 1, 2, 3]);
  // Mostly short runs; one in twenty is long.
  const faultEt = o.faultEt ?? (r.chance(0.05) ? r.between(30, 60) : r.between(6, 18));
  const powerLoss = profile.weights.powerLoss !== undefined || r.chance(0.2);
  const snapshotEvery = r.chance(0.7) ? r.int(5, 80) : 0;
  return {
    seed,
    nodes,
    profile,
    clients: r.int(2, 6),
    keys: r.int(1, 5),
    opDeadlineEt: r.pick([4, 8, 20, 20]),
    bootstrap: r.chance(0.5) ? 'entries' : 'snapshot',
    faultMs: faultEt * electionTick * tickMs,
    tickMs,
    maxTickSkew: r.between(0, 0.15),
    node: {
      electionTick,
      heartbeatTick,
      maxSizePerMsg: r.pick([64, 256, 1024 * 1024]),
      maxInflightMsgs: r.pick([1, 4, 256]),
      maxUncommittedEntriesSize: r.pick([0, 0, 0, 1000]),
      maxCommittedSizePerReady: r.pick([0, 0, 0, 300]),
      checkQuorum: o.checkQuorum ?? r.chance(0.85),
      preVote: r.chance(0.85),
      readOnlyOption: o.readOnlyOption ?? 'Safe',
      syncLatency: (rng) => 0.2 + rng.exp(1.5),
      snapshotEvery,
      trailing: r.int(0, 10),
      resumeFromSmApplied: r.chance(0.3),
      freshSnapshots: o.freshSnapshots ?? true,
      unsafeLocalReads: o.unsafeLocalReads ?? false,
      unsafeAckOnPropose: o.unsafeAckOnPropose ?? false,
    },
    powerLoss,
    minVoters: 3,
    maxVoters: nodes === 3 ? 4 : 5,
    traceLines: 400,
    fullTrace: o.fullTrace ?? false,
  };
}

function fail(msg: string): never {
  throw new Error(msg);
}
