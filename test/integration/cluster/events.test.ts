// Events between real shoald members on loopback (src/daemon/event-relay.ts): a lifecycle event
// raised on the leader reaches `/1.0/events` listeners on every member exactly once, with the
// leader as its location. One 2-member cluster, closed in `after`; listeners over the unix sockets.
import { strict as assert } from 'node:assert';
import { WebSocket } from 'ws';
import { ShoalCluster, until, type ShoalMember } from '../../support/shoald-cluster.js';

interface SeenEvent {
  type: string;
  location?: string;
  metadata: { action?: string; source?: string };
}

/** Opens `/1.0/events?type=lifecycle` on a member; resolves once connected. */
function listen(m: ShoalMember): Promise<{ seen: SeenEvent[]; close: () => void }> {
  const seen: SeenEvent[] = [];
  const ws = new WebSocket(`ws+unix://${m.unixSocket}:/1.0/events?type=lifecycle`);
  ws.on('message', (data) => seen.push(JSON.parse(String(data)) as SeenEvent));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ seen, close: () => ws.terminate() }));
    ws.once('error', reject);
  });
}

describe('src/daemon/event-relay (real members)', () => {
  let c: ShoalCluster;
  before(async function () {
    this.timeout(300_000);
    c = await ShoalCluster.start({ members: 2, tag: 'cl' });
  });
  after(async function () {
    this.timeout(60_000);
    await c?.close();
  });

  it('delivers an event raised on the leader to listeners on every member, once', async function () {
    this.timeout(60_000);
    const leader = await c.leader(c.member(0));
    const follower = c.members.find((m) => m !== leader)!;
    const listeners = await Promise.all(c.members.map((m) => listen(m)));
    try {
      const res = await c.request(follower, 'POST', '/1.0/profiles', { name: 'relayed', config: {}, devices: {} });
      assert.equal(res.status, 201, res.body.error);
      const created = (l: { seen: SeenEvent[] }): SeenEvent[] => l.seen.filter((e) => e.metadata.action === 'profile-created');
      await until('the event on every member', 10_000, async () => (listeners.every((l) => created(l).length > 0) ? true : undefined));
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive within a relay round
      for (const l of listeners) {
        assert.deepEqual(
          created(l).map((e) => [e.type, e.location, e.metadata.source]),
          [['lifecycle', leader.name, '/1.0/profiles/relayed']],
        );
      }
    } finally {
      for (const l of listeners) l.close();
    }
  });
});
