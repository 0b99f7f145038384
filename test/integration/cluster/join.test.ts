// Joining real shoald members by token (test/support/shoald-cluster.ts, all on loopback): three
// members become three voters with one leader, a fourth joins through a follower and stays a
// standby (cluster.max_voters 3), and reused, expired, tampered and wrong-fingerprint tokens are
// refused with one line, leaving no member record, trust entry or initialized dir behind.
// One cluster for the file, closed in `after`.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJoinToken, encodeJoinToken } from '../../../src/cluster/index.js';
import { ShoalCluster, type ShoalMember } from '../../support/shoald-cluster.js';

describe('src/cluster/membership (real members)', () => {
  let c: ShoalCluster;
  before(async function () {
    this.timeout(400_000);
    c = await ShoalCluster.start({ members: 3 });
  });
  after(async function () {
    this.timeout(60_000);
    await c?.close();
  });

  /** Names of the members and of the server certificates in the database. */
  async function recorded(via: ShoalMember): Promise<{ members: string[]; servers: string[] }> {
    const dump = JSON.parse((await c.shoald(via, ['db', 'dump'], { check: true })).stdout) as Array<{ key: string; value: { record: Record<string, unknown> } }>;
    return {
      members: dump.filter((d) => d.key.startsWith('members/')).map((d) => d.value.record['server_name'] as string).sort(),
      servers: dump.filter((d) => d.key.startsWith('certificates/') && d.value.record['type'] === 'server').map((d) => d.value.record['name'] as string).sort(),
    };
  }

  describe('join', () => {
    it('makes three members three voters with one leader, all Online, seen from any member', async () => {
      for (const via of c.members) {
        const list = await c.list(via);
        assert.deepEqual(
          list.map((m) => [m.server_name, m.status, m.database]),
          [['scl1', 'Online', true], ['scl2', 'Online', true], ['scl3', 'Online', true]],
        );
        assert.equal(list.filter((m) => m.roles.includes('database-leader')).length, 1);
      }
    });

    it('lets a fourth member join with a token from a follower and keeps it a standby', async function () {
      this.timeout(180_000);
      const leader = await c.leader(c.member(0));
      const follower = c.members.find((m) => m !== leader)!;
      const m4 = await c.addMember(follower);
      const list = await c.list(m4);
      const me = list.find((x) => x.server_name === m4.name);
      assert.deepEqual([me?.status, me?.roles, me?.database], ['Online', ['database-standby'], false]);
      assert.equal(list.filter((x) => x.database).length, 3);
    });
  });

  describe('bad tokens', () => {
    let joiner: ShoalMember;
    before(async function () {
      this.timeout(120_000);
      joiner = await c.spawnMember();
    });

    async function refused(token: string, stderr: RegExp): Promise<void> {
      const before = await recorded(c.member(0));
      const res = await c.shoald(joiner, ['init', '--join', token, '--name', joiner.name, '--address', joiner.address, '--api-address', joiner.apiAddress]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, stderr);
      assert.equal(res.stderr.split('\n').filter(Boolean).length, 1);
      assert.equal(existsSync(join(joiner.dir, 'member.json')), false);
      assert.deepEqual(await recorded(c.member(0)), before);
      assert.ok(!before.members.includes(joiner.name));
    }

    it('refuses a token whose fingerprint is not the cluster CA, and the token stays usable', async function () {
      this.timeout(120_000);
      const token = await c.issueToken(joiner.name);
      const t = decodeJoinToken(token);
      await refused(encodeJoinToken({ ...t, fingerprint: 'ab'.repeat(32) }), /^Error: Refusing to join through 127\.0\.0\.1:\d+: certificate fingerprint mismatch\n$/);
      // Still valid: the secret was never sent.
      await refused(encodeJoinToken({ ...t, serverName: 'other' }), /^Error: The join token is for member "other", not "scl\d+"\n$/);
    });

    it('refuses a tampered token: a changed secret, and bytes that are not a token', async function () {
      this.timeout(120_000);
      const t = decodeJoinToken(await c.issueToken(joiner.name));
      const flipped = t.secret.replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
      await refused(encodeJoinToken({ ...t, secret: flipped }), /^Error: Join refused: No valid join token for member "scl\d+"\n$/);
      const raw = encodeJoinToken(t);
      await refused(`${raw.slice(0, 10)}!${raw.slice(11)}`, /^Error: Invalid join token: not base64\n$/);
    });

    it('refuses an expired token', async function () {
      this.timeout(120_000);
      const patch = await c.request(c.member(0), 'PATCH', '/1.0', { config: { 'cluster.join_token_expiry': '1S' } });
      assert.equal(patch.status, 200);
      try {
        const token = await c.issueToken(joiner.name);
        await new Promise((r) => setTimeout(r, 1500));
        await refused(token, /^Error: The join token has expired\n$/);
      } finally {
        await c.request(c.member(0), 'PATCH', '/1.0', { config: { 'cluster.join_token_expiry': '' } });
      }
    });

    it('refuses a token that was used already', async function () {
      this.timeout(180_000);
      const token = await c.issueToken(joiner.name);
      const ok = await c.shoald(joiner, ['init', '--join', token, '--name', joiner.name, '--address', joiner.address, '--api-address', joiner.apiAddress]);
      assert.equal(ok.code, 0, ok.stderr);
      const again = await c.spawnMember();
      const res = await c.shoald(again, ['init', '--join', token, '--name', joiner.name, '--address', again.address, '--api-address', again.apiAddress]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^Error: Join refused: (No valid join token for member "scl\d+"|The cluster already has a member with name: scl\d+)\n$/);
      assert.equal(existsSync(join(again.dir, 'member.json')), false);
      await c.kill(again, 'SIGTERM');
    });
  });
});
