// The idempotency ledger (src/node-agent/ledger.ts) over a real classic-level DB in a temp dir:
// replay of finished operations, joining of running ones, mismatch detection, re-run after a
// failure or a crash, recovery hooks, and expiry by age and count (with a manual clock).
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgentDb, putOp, type AgentDb } from '../../../src/node-agent/agent-db.js';
import { OperationLedger, canonicalJson, requestHash } from '../../../src/node-agent/ledger.js';
import { ErrorCode, ShoalError, isShoalError, silentLogger, toDisposable, type Clock } from '../../../src/shared/index.js';

function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, setTimer: () => toDisposable(() => undefined), advance: (ms) => void (now += ms) };
}

describe('src/node-agent/ledger.ts', () => {
  let dir: string;
  let db: AgentDb;
  let clock: ReturnType<typeof manualClock>;
  let ledger: OperationLedger;
  const open = (limits = { maxAgeMs: 1000, maxEntries: 3 }): OperationLedger =>
    new OperationLedger({ ops: db.ops, byTime: db.opsByTime, batch: db.batch }, clock, silentLogger(), limits);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-ssv-ledger-'));
    db = await openAgentDb(join(dir, 'db'));
    clock = manualClock();
    ledger = open();
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('canonicalJson', () => {
    it('sorts keys at every level', () => {
      assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
      assert.equal(requestHash('M', { a: 1, b: 2 }), requestHash('M', { b: 2, a: 1 }));
      assert.notEqual(requestHash('M', { a: 1 }), requestHash('N', { a: 1 }));
    });
  });

  describe('OperationLedger.run', () => {
    it('runs the work once and replays the recorded result', async () => {
      let runs = 0;
      const work = async () => ({ n: ++runs });
      assert.deepEqual(await ledger.run('op1', 'M', { x: 1 }, work), { n: 1 });
      assert.deepEqual(await ledger.run('op1', 'M', { x: 1 }, work), { n: 1 });
      assert.equal(runs, 1);
      assert.equal((await ledger.get('op1'))?.state, 'succeeded');
    });

    it('joins a run in progress', async () => {
      let runs = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const work = async () => {
        runs++;
        await gate;
        return 'done';
      };
      const a = ledger.run('op1', 'M', {}, work);
      const b = ledger.run('op1', 'M', {}, work);
      release();
      assert.deepEqual(await Promise.all([a, b]), ['done', 'done']);
      assert.equal(runs, 1);
    });

    it('refuses the same id for another request or method', async () => {
      await ledger.run('op1', 'M', { x: 1 }, async () => null);
      const mismatch = (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && err.message.includes('"op1"');
      await assert.rejects(ledger.run('op1', 'M', { x: 2 }, async () => null), mismatch);
      await assert.rejects(ledger.run('op1', 'N', { x: 1 }, async () => null), mismatch);
    });

    it('requires an operation id', async () => {
      await assert.rejects(ledger.run('', 'M', {}, async () => null), (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument));
    });

    it('records a failure and runs the work again on the next call', async () => {
      let runs = 0;
      const work = async () => {
        if (++runs === 1) throw new ShoalError(ErrorCode.Unavailable, 'busy');
        return runs;
      };
      await assert.rejects(ledger.run('op1', 'M', {}, work), (err: unknown) => isShoalError(err, ErrorCode.Unavailable));
      assert.deepEqual((await ledger.get('op1'))?.error, { code: 'UNAVAILABLE', message: 'busy', retryable: true });
      assert.equal(await ledger.run('op1', 'M', {}, work), 2);
      assert.equal((await ledger.get('op1'))?.attempts, 2);
    });
  });

  describe('OperationLedger.runJournaled', () => {
    it('writes the running record with the first journal write and onSuccess ops with the outcome', async () => {
      let seenAtWrite: string | undefined;
      let seenBeforeWrite: string | undefined;
      const result = await ledger.runJournaled('op1', 'M', { x: 1 }, async (journal) => {
        seenBeforeWrite = (await ledger.get('op1'))?.state ?? 'none';
        await journal.write([putOp(db.pools, 'p1', { phase: 'creating' } as never)]);
        seenAtWrite = (await ledger.get('op1'))?.state;
        assert.deepEqual(await db.pools.get('p1'), { phase: 'creating' });
        journal.onSuccess([putOp(db.pools, 'p1', { phase: 'created' } as never)]);
        assert.deepEqual(await db.pools.get('p1'), { phase: 'creating' }, 'not before the outcome');
        return 'ok';
      });
      assert.equal(result, 'ok');
      assert.equal(seenBeforeWrite, 'none');
      assert.equal(seenAtWrite, 'running');
      assert.equal((await ledger.get('op1'))?.state, 'succeeded');
      assert.deepEqual(await db.pools.get('p1'), { phase: 'created' });
    });

    it('drops onSuccess ops on failure and records the failure once, running or not', async () => {
      await assert.rejects(
        ledger.runJournaled('op1', 'M', {}, async (journal) => {
          journal.onSuccess([putOp(db.pools, 'p1', { phase: 'created' } as never)]);
          throw new ShoalError(ErrorCode.Unavailable, 'boom');
        }),
        (err: unknown) => isShoalError(err, ErrorCode.Unavailable),
      );
      assert.equal(await db.pools.get('p1'), undefined);
      const rec = await ledger.get('op1');
      assert.equal(rec?.state, 'failed');
      assert.equal(rec?.attempts, 1);
      // Run again: the previous attempt's expiry entry is replaced, not duplicated.
      assert.equal(await ledger.runJournaled('op1', 'M', {}, async () => 'second'), 'second');
      assert.equal((await ledger.get('op1'))?.attempts, 2);
      const entries: string[] = [];
      for await (const [k] of db.opsByTime.iterator()) entries.push(k);
      assert.equal(entries.length, 1);
    });
  });

  describe('recovery hooks', () => {
    it('lists records left running by a dead process, and closes them', async () => {
      await db.ops.put('op1', { id: 'op1', method: 'M', requestHash: requestHash('M', {}), request: {}, state: 'running', attempts: 1, startedAt: 5 });
      await db.ops.put('op2', { id: 'op2', method: 'N', requestHash: requestHash('N', {}), request: {}, state: 'running', attempts: 1, startedAt: 4 });
      assert.deepEqual((await ledger.unfinished()).map((r) => r.id), ['op2', 'op1']);
      await ledger.complete('op2', 'ok');
      await ledger.abandon('op1', { code: ErrorCode.Aborted, message: 'interrupted', retryable: true });
      assert.deepEqual(await ledger.unfinished(), []);
      assert.equal(await ledger.run('op2', 'N', {}, async () => 'again'), 'ok');
      assert.equal(await ledger.run('op1', 'M', {}, async () => 'rerun'), 'rerun');
    });
  });

  describe('prune', () => {
    it('expires finished records by age, then by count, oldest first, and keeps running ones', async () => {
      for (const id of ['a', 'b']) {
        await ledger.run(id, 'M', {}, async () => id);
        clock.advance(10);
      }
      clock.advance(1000);
      for (const id of ['c', 'd', 'e', 'f']) {
        await ledger.run(id, 'M', {}, async () => id);
        clock.advance(10);
      }
      await db.ops.put('run', { id: 'run', method: 'M', requestHash: 'x', request: {}, state: 'running', attempts: 1, startedAt: 0 });
      assert.equal(await ledger.prune(), 3);
      const left: string[] = [];
      for await (const [k] of db.ops.iterator()) left.push(k);
      assert.deepEqual(left.sort(), ['d', 'e', 'f', 'run']);
    });
  });
});
