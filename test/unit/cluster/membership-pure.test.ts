// Pure parts of cluster membership: the Online/Offline rule of GET /1.0/cluster/members
// (src/cluster/duties.ts memberStatus) and LXD expiry expressions for join tokens
// (src/cluster/membership.ts expiryMs).
import { strict as assert } from 'node:assert';
import { expiryMs, memberStatus } from '../../../src/cluster/index.js';
import type { MemberRecord } from '../../../src/state/index.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const member = (last: string | null, state: MemberRecord['state'] = 'Created'): MemberRecord => ({
  server_name: 'm1', raft_id: 1, url: 'https://127.0.0.1:8443', architecture: 'x86_64', description: '', roles: ['database'],
  failure_domain: 'default', config: {}, state, schema_max: 2, last_heartbeat: last, resources: { cpu: 1, memory_bytes: 1, storage_pools: {} },
});

describe('src/cluster/duties', () => {
  describe('memberStatus', () => {
    it('is Online within the threshold and Offline from it on, saying for how long', () => {
      assert.deepEqual(memberStatus(member('2026-11-23T11:59:41Z'), NOW, 20), { status: 'Online', message: 'Fully operational' });
      assert.deepEqual(memberStatus(member('2026-11-23T11:59:40Z'), NOW, 20), { status: 'Offline', message: 'No heartbeat for 20s' });
      assert.deepEqual(memberStatus(member(null), NOW, 20), { status: 'Offline', message: 'No heartbeat for ever' });
    });

    it('shows an online evacuated member as Evacuated', () => {
      assert.deepEqual(memberStatus(member('2026-11-23T11:59:59Z', 'Evacuated'), NOW, 20), { status: 'Evacuated', message: 'Unavailable due to maintenance' });
    });
  });
});

describe('src/cluster/membership', () => {
  describe('expiryMs', () => {
    it('reads LXD units S M H d w m y', () => {
      assert.deepEqual(['30S', '5M', '3H', '1d', '1w', '1m', '1y'].map(expiryMs), [30e3, 300e3, 10_800e3, 86_400e3, 604_800e3, 2_592_000e3, 31_536_000e3]);
    });

    it('refuses anything else with INVALID_ARGUMENT', () => {
      for (const bad of ['', '3', 'H', '3h ', '-1H', '1.5H']) {
        assert.throws(() => expiryMs(bad), (err: { code?: string }) => err.code === 'INVALID_ARGUMENT', bad);
      }
    });
  });
});
