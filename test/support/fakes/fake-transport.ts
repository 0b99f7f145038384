/** FakeNetwork: in-memory Transports for unit tests, delivering asynchronously and recording sends. */
import type { Message, NodeId, Transport, TransportReport } from '../../../src/raft/index.js';
import type { FakeEvent } from './fake-durable-storage.js';

export class FakeNetwork {
  private readonly nodes = new Map<NodeId, FakeTransport>();
  /** Links that drop everything (both directions): `${a}-${b}` with a < b. */
  readonly cut = new Set<string>();

  constructor(readonly events: FakeEvent[]) {}

  transport(id: NodeId): FakeTransport {
    const t = new FakeTransport(id, this);
    this.nodes.set(id, t);
    return t;
  }

  isolate(id: NodeId, on = true): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      const k = `${Math.min(id, other)}-${Math.max(id, other)}`;
      if (on) this.cut.add(k);
      else this.cut.delete(k);
    }
  }

  deliver(m: Message): void {
    if (this.cut.has(`${Math.min(m.from, m.to)}-${Math.max(m.from, m.to)}`)) return;
    const t = this.nodes.get(m.to);
    if (!t || t.closed) return;
    setImmediate(() => t.receive(m));
  }
}

export class FakeTransport implements Transport {
  private handler: ((m: Message) => void) | undefined;
  readonly peers = new Map<NodeId, string>();
  closed = false;

  constructor(
    readonly id: NodeId,
    private readonly net: FakeNetwork,
  ) {}

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      this.net.events.push({ kind: 'send', node: this.id, type: m.type, to: m.to });
      this.net.deliver(m);
    }
  }
  onMessage(handler: (msg: Message) => void): void {
    this.handler = handler;
  }
  onReport(_handler: (report: TransportReport) => void): void {}
  setPeer(id: NodeId, address: string): void {
    this.peers.set(id, address);
  }
  removePeer(id: NodeId): void {
    this.peers.delete(id);
  }
  receive(m: Message): void {
    if (!this.closed) this.handler?.(m);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
