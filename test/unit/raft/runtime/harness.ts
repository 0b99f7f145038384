/**
 * A small harness for RaftNode unit tests: N nodes over FakeNetwork, FakeDurableLogStorage,
 * FakeStateMachine and one FakeClock. Time moves only in `tick()`; `flush()` drains the async work
 * (setImmediate rounds) that ticks and messages trigger.
 */
import { RaftNode, silentRaftLogger, type NodeId } from './harness-deps.js';
import { seededRng } from '../../../../src/shared/index.js';
import { FakeClock } from '../../../support/fakes/fake-clock.js';
import { FakeDurableLogStorage, type FakeEvent } from '../../../support/fakes/fake-durable-storage.js';
import { FakeStateMachine } from '../../../support/fakes/fake-state-machine.js';
import { FakeNetwork, type FakeTransport } from '../../../support/fakes/fake-transport.js';

export interface TestNode {
  readonly id: NodeId;
  node: RaftNode<string | undefined>;
  storage: FakeDurableLogStorage;
  sm: FakeStateMachine;
  transport: FakeTransport;
}

export class Harness {
  readonly clock = new FakeClock();
  readonly events: FakeEvent[] = [];
  readonly net = new FakeNetwork(this.events);
  readonly nodes = new Map<NodeId, TestNode>();

  constructor(private readonly opts: { snapshotEntries?: number; snapshotTrailing?: number } = {}) {}

  /** Starts node `id`; `bootstrap` lists the initial voters of a new cluster. */
  async start(id: NodeId, bootstrap: readonly NodeId[], restartFrom?: TestNode): Promise<TestNode> {
    const storage = new FakeDurableLogStorage(id, this.events, restartFrom?.storage);
    const sm = restartFrom?.sm ?? new FakeStateMachine();
    const transport = this.net.transport(id);
    const node = await RaftNode.start<string | undefined>({
      id,
      storage,
      stateMachine: sm,
      transport,
      clock: this.clock,
      rng: seededRng(id),
      logger: silentRaftLogger,
      bootstrap: bootstrap.map((v) => ({ id: v, address: `m${v}@127.0.0.1:${7000 + v}` })),
      snapshotEntries: this.opts.snapshotEntries ?? 0,
      snapshotTrailing: this.opts.snapshotTrailing ?? 0,
    });
    const t: TestNode = { id, node, storage, sm, transport };
    this.nodes.set(id, t);
    return t;
  }

  async startCluster(n: number): Promise<TestNode[]> {
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const out: TestNode[] = [];
    for (const id of ids) out.push(await this.start(id, ids));
    return out;
  }

  get(id: NodeId): TestNode {
    const t = this.nodes.get(id);
    if (!t) throw new Error(`no node ${id}`);
    return t;
  }

  /** Drains pending async work (several event-loop turns). */
  async flush(rounds = 20): Promise<void> {
    for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  }

  /** One tick (100 ms) on every node, then flush. */
  async tick(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.clock.advance(100);
      await this.flush();
    }
  }

  /** Ticks until `cond()` holds; throws after `max` ticks. */
  async until(cond: () => boolean, max = 100): Promise<void> {
    for (let i = 0; i < max; i++) {
      if (cond()) return;
      await this.tick();
    }
    if (!cond()) throw new Error(`condition not reached in ${max} ticks`);
  }

  /** Waits for one leader known by every running node; returns it. */
  async leader(): Promise<TestNode> {
    let id: NodeId = 0;
    await this.until(() => {
      const leads = new Set([...this.nodes.values()].filter((t) => !t.transport.closed).map((t) => t.node.leader));
      id = leads.size === 1 ? [...leads][0]! : 0;
      return id !== 0 && this.get(id).node.status().softState.role === 'Leader';
    });
    return this.get(id);
  }

  async closeAll(): Promise<void> {
    for (const t of this.nodes.values()) await t.node.close();
  }
}
