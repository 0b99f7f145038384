// Named system-level scenarios on the deterministic simulator: figure-8 style leader churn,
// snapshot install to a far-behind follower, learner promotion, removing the leader, leadership
// transfer under load, and a partitioned old leader that must not serve a stale read. Each drives
// a calm cluster by hand (safety is checked after every event throughout), then heals and demands
// liveness and a linearizable client history.
import { strict as assert } from 'node:assert';
import { ConfChangeType, type NodeId } from '../../../src/raft/index.js';
import { configForSeed, type ConfigOverrides } from '../../support/raft/sim/run-config.js';
import { formatFailure } from '../../support/raft/sim/report.js';
import { Simulation, type SimConfig, type SimResult } from '../../support/raft/sim/simulation.js';
import type { SimNode } from '../../support/raft/sim/sim-node.js';

function scenario(
  seed: number,
  o: ConfigOverrides & { snapshotEvery?: number; trailing?: number; clients?: number; powerLoss?: boolean } = {},
): Simulation {
  const base = configForSeed(seed, { profile: 'calm', ...o });
  const config: SimConfig = {
    ...base,
    clients: o.clients ?? 3,
    powerLoss: o.powerLoss ?? base.powerLoss,
    keys: 2,
    maxTickSkew: 0.05,
    node: {
      ...base.node,
      checkQuorum: o.checkQuorum ?? true,
      preVote: true,
      ...(o.snapshotEvery !== undefined ? { snapshotEvery: o.snapshotEvery } : {}),
      ...(o.trailing !== undefined ? { trailing: o.trailing } : {}),
    },
  };
  const sim = new Simulation(config);
  sim.start();
  return sim;
}

function leaderOf(sim: Simulation): SimNode {
  sim.waitFor('a leader', () => sim.leader() !== undefined, 20 * sim.etMs);
  return sim.leader()!;
}

function assertOk(r: SimResult): void {
  assert.ok(r.ok, formatFailure(r));
  assert.ok(r.history.length > 0, 'the scenario ran no client operations');
}

/** Runs `body`; a violation it throws is turned into a failed result with the trace. */
function drive(sim: Simulation, body: () => void): SimResult {
  try {
    body();
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    const r = sim.finish();
    return { ...r, ok: false, failure: `${String(err)}${r.failure !== undefined ? `\nthen: ${r.failure}` : ''}` };
  }
  return sim.finish();
}

// Replaying one seed (SEED=<n>) runs only that seed.
if (!process.env.SEED) {
  describe('test/sim/raft (scenarios)', () => {
    it('§5.4.2 survives figure-8 style churn: leaders that replicate to a minority, then crash', () => {
      for (const seed of [11, 12, 13]) {
        const sim = scenario(seed, { nodes: 5 });
        const r = drive(sim, () => {
          for (let round = 0; round < 6; round++) {
            const l = leaderOf(sim);
            const others = sim
              .liveNodes()
              .map((n) => n.id)
              .filter((id) => id !== l.id);
            // The leader reaches one follower only: its new entries land on a minority.
            for (const id of others.slice(1)) sim.net.blockOneWay(l.id, id);
            sim.runFor(sim.etMs / 2);
            l.crash(false);
            sim.net.clearBlocks();
            sim.waitFor('a new leader', () => (sim.leader()?.id ?? l.id) !== l.id, 20 * sim.etMs);
            sim.runFor(sim.etMs / 2);
            l.restart();
          }
        });
        assertOk(r);
      }
    });

    it('installs a snapshot on a follower that fell behind the compacted log', () => {
      const sim = scenario(21, { nodes: 3, snapshotEvery: 10, trailing: 0, clients: 4 });
      let follower: SimNode | undefined;
      const r = drive(sim, () => {
        const l = leaderOf(sim);
        follower = sim.liveNodes().find((n) => n.id !== l.id)!;
        follower.crash(false);
        const start = l.disk.view.log.lastIndex();
        sim.waitFor(
          'the log to be compacted past the crashed follower',
          () => l.disk.view.log.firstIndex() > start + 20,
          200 * sim.etMs,
        );
        follower.restart();
        sim.waitFor('the follower to install a snapshot', () => follower!.snapshotsInstalled > 0, 20 * sim.etMs);
      });
      assertOk(r);
      assert.ok(follower!.snapshotsInstalled > 0);
    });

    it('adds a learner, lets it catch up, promotes it and keeps committing without an original voter', () => {
      const sim = scenario(31, { nodes: 3, snapshotEvery: 15, trailing: 2 });
      let learner: NodeId = 0;
      const r = drive(sim, () => {
        sim.runFor(5 * sim.etMs);
        const learnerNode = sim.createNode();
        learner = learnerNode.id;
        assert.ok(
          sim.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: learner, context: new Uint8Array(0) }),
        );
        sim.waitFor(
          'the learner to catch up',
          () => {
            const l = sim.leader();
            return (
              l !== undefined &&
              l.status.confState.learners.includes(learner) &&
              learnerNode.disk.view.sm.applied >= l.status.hardState.commit
            );
          },
          40 * sim.etMs,
        );
        sim.waitFor(
          'the promotion to be accepted',
          () => sim.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: learner, context: new Uint8Array(0) }),
          20 * sim.etMs,
        );
        sim.waitFor(
          'the promotion to apply on the leader',
          () => sim.leader()?.status.confState.voters.includes(learner) === true,
          20 * sim.etMs,
        );
        // 4 voters: with one original voter down, a quorum needs the promoted node.
        const down = sim.liveNodes().find((n) => n.id !== learner && n.id !== sim.leader()!.id)!;
        down.crash(false);
        const commit = sim.leader()!.status.hardState.commit;
        sim.waitFor(
          'commits with the promoted voter in the quorum',
          () => (sim.leader()?.status.hardState.commit ?? 0) > commit + 10,
          40 * sim.etMs,
        );
      });
      assertOk(r);
    });

    it('loses no acknowledged write when a single-node cluster loses power (etcd#14370)', () => {
      const sim = scenario(71, { nodes: 1, clients: 3, powerLoss: true });
      const r = drive(sim, () => {
        const only = sim.node(1);
        for (let round = 0; round < 8; round++) {
          leaderOf(sim);
          sim.runFor(2 * sim.etMs);
          only.crash(true);
          sim.runFor(sim.etMs / 2);
          only.restart();
        }
      });
      assertOk(r);
    });

    it('removes the leader; the remaining voters elect a new one and keep serving', () => {
      const sim = scenario(41, { nodes: 5 });
      let old: NodeId = 0;
      const r = drive(sim, () => {
        sim.runFor(5 * sim.etMs);
        const l = leaderOf(sim);
        old = l.id;
        sim.waitFor(
          'the removal to be accepted',
          () => sim.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: old, context: new Uint8Array(0) }),
          20 * sim.etMs,
        );
        sim.waitFor(
          'a new leader without the old one',
          () => {
            const n = sim.leader();
            return n !== undefined && n.id !== old && !n.status.confState.voters.includes(old);
          },
          40 * sim.etMs,
        );
        const commit = sim.leader()!.status.hardState.commit;
        sim.waitFor('more commits', () => (sim.leader()?.status.hardState.commit ?? 0) > commit + 10, 40 * sim.etMs);
      });
      assertOk(r);
      assert.ok(!sim.leader()!.status.confState.voters.includes(old));
    });

    it('transfers leadership repeatedly under client load', () => {
      const sim = scenario(51, { nodes: 5, clients: 5 });
      let transfers = 0;
      const r = drive(sim, () => {
        for (let round = 0; round < 5; round++) {
          sim.runFor(3 * sim.etMs);
          const l = leaderOf(sim);
          const to = l.status.confState.voters.find((v) => v !== l.id && sim.node(v).state === 'up')!;
          l.act((raw) => raw.transferLeader(to));
          sim.waitFor(`leadership to move to n${to}`, () => sim.leader()?.id === to, 5 * sim.etMs);
          transfers++;
        }
      });
      assertOk(r);
      assert.equal(transfers, 5);
    });

    describe('a partitioned old leader and reads', () => {
      /** Isolates the leader, lets the majority elect and write, then reads from the old leader. */
      function isolatedLeaderRead(unsafeLocalReads: boolean): { result: SimResult; answered: boolean } {
        const sim = scenario(61, { nodes: 3, checkQuorum: false, unsafeLocalReads });
        let answered = false;
        const result = drive(sim, () => {
          sim.runFor(5 * sim.etMs);
          const old = leaderOf(sim);
          const ids = sim.liveNodes().map((n) => n.id);
          sim.net.isolate(old.id, ids);
          sim.waitFor(
            'a leader in the majority',
            () => sim.leader() !== undefined && sim.leader()!.id !== old.id,
            20 * sim.etMs,
          );
          const fresh = sim.leader()!;
          // Without check-quorum the old leader still believes it leads.
          assert.equal(old.status.softState.role, 'Leader');
          for (const key of ['k0', 'k1']) {
            const w = sim.probe(fresh.id, { kind: 'put', key, value: `fresh-${key}` });
            sim.waitFor('a write on the new leader', () => w.reply !== undefined, 10 * sim.etMs);
          }
          const reads = ['k0', 'k1'].map((key) => sim.probe(old.id, { kind: 'get', key }));
          sim.runFor(5 * sim.etMs);
          answered = reads.some((p) => p.reply?.kind === 'done');
        });
        return { result, answered };
      }

      it('does not answer a read while cut off from the majority (ReadIndex)', () => {
        const { result, answered } = isolatedLeaderRead(false);
        assertOk(result);
        assert.equal(answered, false, 'the isolated old leader answered a read');
      });

      it('serves a stale read, which the checker flags, when reads skip ReadIndex', () => {
        const { result, answered } = isolatedLeaderRead(true);
        assert.equal(answered, true);
        assert.equal(result.ok, false);
        assert.match(result.failure ?? '', /^SimFailure: linearizability/);
      });
    });
  });
}
