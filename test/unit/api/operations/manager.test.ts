// Covers src/api/operations/manager.ts over a FakeClock and a recording FakeOperationStore:
// task lifecycle and events, progress coercion, cancellation, retention, tokens (cancel, expiry,
// secrets never persisted), websocket acceptance, recovery after failover and shutdown.
import { strict as assert } from 'node:assert';
import { EventHub } from '../../../../src/api/events/hub.js';
import { OperationManager } from '../../../../src/api/operations/manager.js';
import { ErrorCode, ShoalError, silentLogger } from '../../../../src/shared/index.js';
import type { Event, Operation } from '../../../../src/api/types/index.js';
import { FakeClock } from '../../../support/api/fake-clock.js';
import { FakeOperationStore } from '../../../support/api/fake-ports.js';
import { settle } from '../../../support/api/harness.js';

function setup(retentionMs = 1000) {
  const clock = new FakeClock();
  const log = silentLogger();
  const events = new EventHub({ clock, log, memberName: () => 'm1' });
  const seen: Event[] = [];
  events.subscribe({ types: ['operation'], project: '', allProjects: true }, (e) => seen.push(e));
  const store = new FakeOperationStore();
  let n = 0;
  const ops = new OperationManager({ store, events, clock, log, memberName: () => 'm1', retentionMs, newId: () => `op-${++n}` });
  return { clock, events, seen, store, ops };
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  return { promise, resolve, reject };
}

const T0 = '2024-01-01T00:00:00.000Z';

describe('src/api/operations/manager', () => {
  describe('tasks', () => {
    it('creates a running task, persists it before returning, and ends Success with its result merged', async () => {
      const s = setup();
      const gate = deferred();
      const op = await s.ops.createTask({
        type: 'instance-create',
        description: 'Creating instance',
        project: 'default',
        resources: { instances: ['/1.0/instances/c1'] },
        requestId: 'req-1',
        run: async () => {
          await gate.promise;
          return { done: true };
        },
      });
      assert.deepEqual(op, {
        id: 'op-1',
        class: 'task',
        description: 'Creating instance',
        created_at: T0,
        updated_at: T0,
        status: 'Running',
        status_code: 103,
        resources: { instances: ['/1.0/instances/c1'] },
        metadata: null,
        may_cancel: false,
        err: '',
        location: 'm1',
      });
      assert.equal(s.store.records.get('op-1')?.statusCode, 103);
      assert.equal(s.store.records.get('op-1')?.requestId, 'req-1');
      s.clock.advance(10);
      gate.resolve();
      await settle();
      const done = s.ops.get('op-1')!;
      assert.equal(done.status, 'Success');
      assert.equal(done.status_code, 200);
      assert.deepEqual(done.metadata, { done: true });
      assert.equal(done.updated_at, '2024-01-01T00:00:00.010Z');
      assert.deepEqual(
        s.seen.map((e) => [(e.metadata as Operation).status_code, e.project, e.location]),
        [
          [103, 'default', 'm1'],
          [103, 'default', 'm1'],
          [200, 'default', 'm1'],
        ],
      );
      assert.deepEqual(s.store.writes.map((w) => [w.kind, w.statusCode]), [['put', 103], ['put', 200]]);
    });

    it('ends Failure with the ShoalError message as err', async () => {
      const s = setup();
      await s.ops.createTask({
        type: 't',
        description: 'd',
        run: () => Promise.reject(new ShoalError(ErrorCode.FailedPrecondition, 'Instance "c1" is running')),
      });
      await settle();
      const op = s.ops.get('op-1')!;
      assert.deepEqual([op.status, op.status_code, op.err], ['Failure', 400, 'Instance "c1" is running']);
    });

    it('hides the message of a bug behind "Internal server error"', async () => {
      const s = setup();
      await s.ops.createTask({ type: 't', description: 'd', run: () => Promise.reject(new TypeError('x is undefined')) });
      await settle();
      assert.equal(s.ops.get('op-1')!.err, 'Internal server error');
    });

    it('stores *_progress values as strings and sends an event per update without persisting progress', async () => {
      const s = setup();
      const gate = deferred();
      await s.ops.createTask({
        type: 't',
        description: 'd',
        run: async (ctx) => {
          ctx.setProgress('create_progress', '10%');
          ctx.setMetadata({ unpack_progress: 42, other: 1 });
          await gate.promise;
        },
      });
      await settle();
      assert.deepEqual(s.ops.get('op-1')!.metadata, { create_progress: '10%', unpack_progress: '42', other: 1 });
      assert.equal(s.store.writes.length, 1, 'only the creation was written');
      gate.resolve();
      await settle();
      assert.deepEqual(s.store.records.get('op-1')!.metadata, { create_progress: '10%', unpack_progress: '42', other: 1 });
    });

    it('cancels a cancellable task: Cancelling, signal aborted, then Cancelled', async () => {
      const s = setup();
      let signal: AbortSignal | undefined;
      await s.ops.createTask({
        type: 't',
        description: 'd',
        cancellable: true,
        run: (ctx) =>
          new Promise((_r, reject) => {
            signal = ctx.signal;
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
      });
      await settle();
      assert.equal(s.ops.get('op-1')!.may_cancel, true);
      const during = await s.ops.cancel('op-1');
      assert.equal(during.status_code, 104);
      assert.equal(signal?.aborted, true);
      await settle();
      const op = s.ops.get('op-1')!;
      assert.deepEqual([op.status, op.status_code, op.err, op.may_cancel], ['Cancelled', 401, '', false]);
    });

    it('refuses to cancel what cannot be cancelled, with LXD messages', async () => {
      const s = setup();
      const gate = deferred();
      await s.ops.createTask({ type: 't', description: 'd', run: () => gate.promise });
      await assert.rejects(s.ops.cancel('op-1'), { code: 'FAILED_PRECONDITION', message: "This operation can't be cancelled" });
      gate.resolve();
      await settle();
      await assert.rejects(s.ops.cancel('op-1'), { code: 'FAILED_PRECONDITION', message: 'Only running operations can be cancelled' });
      await assert.rejects(s.ops.cancel('nope'), { code: 'NOT_FOUND', message: 'Operation not found' });
    });

    it('keeps a finished operation for the retention time, then deletes it from memory and the store', async () => {
      const s = setup(1000);
      await s.ops.createTask({ type: 't', description: 'd', run: async () => undefined });
      await settle();
      s.clock.advance(999);
      assert.ok(s.ops.get('op-1'));
      s.clock.advance(1);
      assert.equal(s.ops.get('op-1'), undefined);
      await settle();
      assert.equal(s.store.records.size, 0);
      assert.deepEqual(s.store.writes.at(-1), { kind: 'delete', id: 'op-1' });
    });

    it('removes the operation again when the store refuses the creation', async () => {
      const s = setup();
      s.store.failPuts = true;
      await assert.rejects(s.ops.createTask({ type: 't', description: 'd', run: async () => undefined }), { code: 'UNAVAILABLE' });
      assert.deepEqual(s.ops.list({ project: 'default', allProjects: true }), []);
      assert.equal(s.seen.length, 0);
    });
  });

  describe('wait', () => {
    it('returns at completion, or after the timeout with timedOut, or when the signal aborts', async () => {
      const s = setup();
      const gate = deferred();
      await s.ops.createTask({ type: 't', description: 'd', run: () => gate.promise });
      const timed = s.ops.wait('op-1', 500);
      s.clock.advance(500);
      assert.equal((await timed).timedOut, true);
      const abort = new AbortController();
      const aborted = s.ops.wait('op-1', undefined, abort.signal);
      abort.abort();
      assert.equal((await aborted).timedOut, true);
      const full = s.ops.wait('op-1', undefined);
      gate.resolve();
      const r = await full;
      assert.deepEqual([r.timedOut, r.op.status], [false, 'Success']);
      assert.equal(s.clock.pending, 1, 'only the retention timer is left');
    });
  });

  describe('listing', () => {
    it('shows an operation to its project, operations without a project to everyone, all with allProjects', async () => {
      const s = setup();
      const never = new Promise<void>(() => undefined);
      await s.ops.createTask({ type: 't', description: 'a', project: 'p1', run: () => never });
      await s.ops.createTask({ type: 't', description: 'b', project: 'p2', run: () => never });
      await s.ops.createTask({ type: 't', description: 'c', run: () => never });
      const ids = (project: string, allProjects = false) => s.ops.list({ project, allProjects }).map((o) => o.id);
      assert.deepEqual(ids('p1'), ['op-1', 'op-3']);
      assert.deepEqual(ids('default'), ['op-3']);
      assert.deepEqual(ids('x', true), ['op-1', 'op-2', 'op-3']);
    });
  });

  describe('tokens', () => {
    it('stays Running and cancellable, runs onCancel and never persists secret keys', async () => {
      const s = setup();
      let revoked = 0;
      const op = await s.ops.createToken({
        type: 'certificate-add-token',
        description: 'Certificate add token',
        resources: {},
        metadata: { secret: 'abc', fingerprint: 'f' },
        secretKeys: ['secret'],
        onCancel: async () => void revoked++,
      });
      assert.deepEqual([op.class, op.status_code, op.may_cancel, op.metadata], ['token', 103, true, { secret: 'abc', fingerprint: 'f' }]);
      assert.deepEqual(s.store.records.get('op-1')!.metadata, { fingerprint: 'f' });
      const cancelled = await s.ops.cancel('op-1');
      assert.deepEqual([cancelled.status, cancelled.status_code, cancelled.may_cancel], ['Cancelled', 401, true]);
      assert.equal(revoked, 1);
    });

    it('expires at expiresAt: Cancelled and revoked', async () => {
      const s = setup();
      let revoked = 0;
      await s.ops.createToken({ type: 'tok', description: 'd', expiresAt: s.clock.now() + 60_000, onCancel: async () => void revoked++ });
      assert.equal(s.store.records.get('op-1')!.expiresAt, s.clock.now() + 60_000);
      s.clock.advance(59_999);
      assert.equal(s.ops.get('op-1')!.status_code, 103);
      s.clock.advance(1);
      await settle();
      assert.equal(s.ops.get('op-1')!.status_code, 401);
      assert.equal(revoked, 1);
    });

    it('arms expiries beyond the 24.8-day timer limit in steps', async () => {
      const s = setup();
      await s.ops.createToken({ type: 'tok', description: 'd', expiresAt: s.clock.now() + 40 * 86_400_000 });
      s.clock.advance(30 * 86_400_000);
      assert.equal(s.ops.get('op-1')!.status_code, 103);
      s.clock.advance(10 * 86_400_000);
      await settle();
      assert.equal(s.ops.get('op-1')!.status_code, 401);
    });
  });

  describe('websocket operations', () => {
    it('accepts only its secrets while running and hands sockets over', async () => {
      const s = setup();
      const attached: string[] = [];
      const gate = deferred();
      await s.ops.createWebsocket({
        type: 'exec',
        description: 'Executing command',
        metadata: { fds: { '0': 's0', control: 'sc' } },
        run: () => gate.promise,
        accepts: (secret) => secret === 's0' || secret === 'sc',
        attach: (secret) => void attached.push(secret),
      });
      assert.equal(s.ops.acceptsWebsocket('op-1', 's0'), true);
      assert.equal(s.ops.acceptsWebsocket('op-1', 'bad'), false);
      assert.equal(s.ops.acceptsWebsocket('nope', 's0'), false);
      s.ops.attachWebsocket('op-1', 'sc', {} as never);
      assert.deepEqual(attached, ['sc']);
      gate.resolve();
      await settle();
      assert.equal(s.ops.acceptsWebsocket('op-1', 's0'), false);
    });
  });

  describe('recover', () => {
    it('resumes tasks with a resumer, fails the others, keeps tokens, and re-arms token expiry', async () => {
      const before = setup();
      const never = new Promise<void>(() => undefined);
      await before.ops.createTask({ type: 'instance-create', description: 'Creating instance', input: { name: 'c1' }, run: () => never });
      await before.ops.createTask({ type: 'unknown-kind', description: 'Mystery', run: () => never });
      await before.ops.createToken({ type: 'tok', description: 'Token', expiresAt: before.clock.now() + 1000 });
      await before.ops.createTask({ type: 'done', description: 'Done', run: async () => undefined });
      await settle();
      await before.ops.close();

      const after = setup();
      for (const r of before.store.records.values()) after.store.records.set(r.id, r);
      const inputs: unknown[] = [];
      let revoked: string | undefined;
      await after.ops.recover({
        tasks: new Map([['instance-create', async (_ctx, input) => void inputs.push(input)]]),
        tokens: new Map([['tok', async (id) => void (revoked = id)]]),
      });
      await settle();
      assert.deepEqual(inputs, [{ name: 'c1' }]);
      assert.equal(after.ops.get('op-1')!.status, 'Success');
      assert.deepEqual([after.ops.get('op-2')!.status, after.ops.get('op-2')!.err], ['Failure', 'Operation interrupted by a leader change']);
      assert.equal(after.ops.get('op-3')!.status, 'Running');
      assert.equal(after.ops.get('op-4')!.status, 'Success');
      after.clock.advance(1000);
      await settle();
      assert.equal(after.ops.get('op-3')!.status, 'Cancelled');
      assert.equal(revoked, 'op-3');
    });
  });

  describe('close', () => {
    it('aborts running tasks, leaves their records unfinished and refuses new operations', async () => {
      const s = setup();
      let aborted = false;
      await s.ops.createTask({
        type: 't',
        description: 'd',
        run: (ctx) => new Promise((_r, rej) => ctx.signal.addEventListener('abort', () => ((aborted = true), rej(ctx.signal.reason)))),
      });
      await settle();
      await s.ops.close();
      await settle();
      assert.equal(aborted, true);
      assert.equal(s.store.records.get('op-1')!.statusCode, 103);
      await assert.rejects(s.ops.createTask({ type: 't', description: 'd', run: async () => undefined }), { code: 'UNAVAILABLE' });
    });
  });
});
