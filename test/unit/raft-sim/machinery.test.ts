// Covers the simulator's machinery in test/support/raft/sim: the event queue's ordering, the
// network's loss/duplication/partitions/one-way blocks/cuts in flight, the disk's crash semantics
// (process crash keeps completed writes; power loss keeps synced ones plus a prefix of the rest),
// the rolling log hash, and the state machine's sessions (a retried command applies once).
import { strict as assert } from 'node:assert';
import { EntryType, MemoryLogStorage, type Entry, type Message } from '../../../src/raft/index.js';
import { SimDisk } from '../../support/raft/sim/disk.js';
import { EventQueue } from '../../support/raft/sim/event-queue.js';
import {
  applyCommand,
  emptySm,
  encodeCommand,
  restoreSm,
  snapshotSm,
} from '../../support/raft/sim/kv-state-machine.js';
import { LogTrack } from '../../support/raft/sim/log-hash.js';
import { SimNetwork, type LinkParams } from '../../support/raft/sim/network.js';
import { SimRandom } from '../../support/raft/sim/random.js';
import { Trace } from '../../support/raft/sim/trace.js';

const NO_CONF = { voters: [], learners: [] };

function msg(from: number, to: number, type: Message['type'] = 'App'): Message {
  return {
    type,
    from,
    to,
    term: 1,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
  };
}
function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) };
}

function network(link: LinkParams): { q: EventQueue; net: SimNetwork; got: Message[]; reports: [Message, boolean][] } {
  const q = new EventQueue();
  const got: Message[] = [];
  const reports: [Message, boolean][] = [];
  const net = new SimNetwork(
    q,
    new SimRandom(7),
    new Trace(10, undefined),
    (m) => (got.push(m), true),
    link,
    (m, ok) => reports.push([m, ok]),
  );
  return { q, net, got, reports };
}
function drain(q: EventQueue): void {
  for (let ev = q.pop(); ev !== undefined; ev = q.pop()) ev.run();
}

describe('test/support/raft/sim', () => {
  describe('EventQueue', () => {
    it('runs events by time, then in scheduling order, and advances the clock', () => {
      const q = new EventQueue();
      const seen: string[] = [];
      q.after(
        5,
        () => 'b',
        () => seen.push(`b@${q.now}`),
      );
      q.after(
        1,
        () => 'a',
        () => seen.push(`a@${q.now}`),
      );
      q.after(
        5,
        () => 'c',
        () => seen.push(`c@${q.now}`),
      );
      q.at(
        3,
        () => 'd',
        () =>
          q.after(
            0,
            () => 'e',
            () => seen.push(`e@${q.now}`),
          ),
      );
      drain(q);
      assert.deepEqual(seen, ['a@1', 'e@3', 'b@5', 'c@5']);
    });
  });

  describe('SimNetwork', () => {
    const perfect: LinkParams = { drop: 0, duplicate: 0, delayMin: 1, delayMean: 0 };
    it('delivers after the link delay', () => {
      const { q, net, got } = network(perfect);
      net.send(msg(1, 2));
      drain(q);
      assert.equal(got.length, 1);
      assert.equal(q.now, 1);
    });
    it('drops and duplicates with the link probabilities', () => {
      const lossy = network({ drop: 1, duplicate: 0, delayMin: 1, delayMean: 0 });
      lossy.net.send(msg(1, 2));
      drain(lossy.q);
      assert.equal(lossy.got.length, 0);
      const dup = network({ drop: 0, duplicate: 1, delayMin: 1, delayMean: 0 });
      dup.net.send(msg(1, 2));
      drain(dup.q);
      assert.equal(dup.got.length, 2);
    });
    it('reorders messages when delays vary', () => {
      const { q, net, got } = network({ drop: 0, duplicate: 0, delayMin: 0, delayMean: 5 });
      for (let i = 0; i < 50; i++) net.send({ ...msg(1, 2), index: i });
      drain(q);
      const order = got.map((m) => m.index);
      assert.notDeepEqual(
        order,
        [...order].sort((a, b) => a - b),
      );
    });
    it('blocks both directions of a partition and reports the failures', () => {
      const { q, net, got, reports } = network(perfect);
      net.partition([[1], [2, 3]]);
      net.send(msg(1, 2));
      net.send(msg(3, 1));
      net.send(msg(2, 3));
      drain(q);
      assert.deepEqual(
        got.map((m) => `${m.from}>${m.to}`),
        ['2>3'],
      );
      assert.deepEqual(
        reports.map(([m, ok]) => `${m.from}>${m.to}:${ok}`),
        ['1>2:false', '3>1:false'],
      );
    });
    it('blocks one direction only for a one-way partition', () => {
      const { q, net, got } = network(perfect);
      net.blockOneWay(1, 2);
      net.send(msg(1, 2));
      net.send(msg(2, 1));
      drain(q);
      assert.deepEqual(
        got.map((m) => `${m.from}>${m.to}`),
        ['2>1'],
      );
    });
    it('loses messages in flight when the link is cut, and delivers again after heal', () => {
      const { q, net, got } = network(perfect);
      net.send(msg(1, 2));
      net.isolate(2, [1, 2, 3]);
      drain(q);
      assert.equal(got.length, 0);
      net.heal();
      net.send(msg(1, 2));
      drain(q);
      assert.equal(got.length, 1);
    });
    it('reports snapshot delivery', () => {
      const { q, net, reports } = network(perfect);
      net.send(msg(1, 2, 'Snap'));
      drain(q);
      assert.deepEqual(
        reports.map(([m, ok]) => `${m.type}:${ok}`),
        ['Snap:true'],
      );
    });
  });

  describe('SimDisk', () => {
    const fresh = (powerLoss: boolean): SimDisk =>
      new SimDisk({ log: new MemoryLogStorage(), sm: emptySm(NO_CONF) }, powerLoss);
    const append = (ents: Entry[], sync: boolean) => ({
      sync,
      apply: (img: { log: MemoryLogStorage }) => img.log.append(ents),
    });

    it('keeps every completed write across a process crash', () => {
      const d = fresh(false);
      d.complete(append([entry(1, 1)], true));
      d.complete(append([entry(2, 1)], false));
      assert.equal(d.powerLoss(new SimRandom(1)), 0);
      assert.equal(d.view.log.lastIndex(), 2);
    });
    it('keeps synced writes and a prefix of unsynced ones across a power loss', () => {
      const kept = new Set<number>();
      for (let seed = 0; seed < 40; seed++) {
        const d = fresh(true);
        d.complete(append([entry(1, 1)], true));
        d.complete({ sync: false, apply: (img) => img.log.setHardState({ term: 1, vote: 0, commit: 1 }) });
        d.complete({ sync: false, apply: (img) => void (img.sm.applied = 1) });
        d.powerLoss(new SimRandom(seed));
        assert.equal(d.view.log.lastIndex(), 1);
        const commit = d.view.log.initialState().hardState.commit;
        // Never the later write without the earlier one (a torn WAL loses a suffix).
        assert.ok(!(d.view.sm.applied === 1 && commit === 0));
        kept.add(commit + d.view.sm.applied);
      }
      assert.deepEqual([...kept].sort(), [0, 1, 2]);
    });
    it('makes earlier unsynced writes durable with a later synced one', () => {
      const d = fresh(true);
      d.complete({ sync: false, apply: (img) => void (img.sm.applied = 5) });
      d.complete(append([entry(1, 1)], true));
      d.powerLoss(new SimRandom(3));
      assert.equal(d.view.sm.applied, 5);
    });
  });

  describe('LogTrack', () => {
    it('gives equal hashes to equal prefixes and different ones after a divergence', () => {
      const a = new LogTrack();
      const b = new LogTrack();
      a.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
      b.append([entry(1, 1), entry(2, 1), entry(3, 3)]);
      assert.equal(a.get(2)!.h, b.get(2)!.h);
      assert.notEqual(a.get(3)!.h, b.get(3)!.h);
      b.append([entry(3, 2)]);
      assert.equal(a.get(3)!.h, b.get(3)!.h);
    });
    it('refuses a write that leaves a gap', () => {
      const a = new LogTrack();
      assert.deepEqual(a.append([entry(2, 1)]), { ok: false, gapAt: 2 });
    });
  });

  describe('kv state machine', () => {
    it('applies a retried command once and answers the retry with the first result', () => {
      const sm = emptySm(NO_CONF);
      const cas = encodeCommand({ c: 1, s: 1, op: { kind: 'cas', key: 'x', from: null, to: 'a' } });
      assert.deepEqual(applyCommand(sm, 1, cas)?.result, { kind: 'cas', swapped: true });
      const again = applyCommand(sm, 2, cas);
      assert.deepEqual(again?.result, { kind: 'cas', swapped: true });
      assert.equal(again?.duplicate, true);
      assert.equal(sm.kv.get('x'), 'a');
      assert.equal(sm.applied, 2);
    });
    it('round-trips through a snapshot', () => {
      const sm = emptySm(NO_CONF);
      applyCommand(sm, 1, encodeCommand({ c: 1, s: 1, op: { kind: 'put', key: 'x', value: 'v' } }));
      const copy = emptySm(NO_CONF);
      restoreSm(copy, snapshotSm(sm), 1, NO_CONF);
      assert.deepEqual(copy, sm);
    });
  });
});
