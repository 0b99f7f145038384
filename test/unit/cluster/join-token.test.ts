// Covers src/cluster/join-token.ts: LXD-compatible encoding (a token lxc produces decodes, ours
// has LXD's exact JSON shape), strict decoding (property: every single-character mutation of a
// valid token is rejected or decodes to a different token), and secret hashing.
import { strict as assert } from 'node:assert';
import {
  decodeJoinToken,
  encodeJoinToken,
  hashJoinSecret,
  joinSecretMatches,
  newJoinSecret,
  type JoinToken,
} from '../../../src/cluster/join-token.js';
import { ShoalError } from '../../../src/shared/index.js';

const token: JoinToken = {
  serverName: 'node4',
  fingerprint: 'a'.repeat(64),
  addresses: ['10.0.0.1:8443', '[fd00::1]:8443'],
  secret: '0123456789abcdef'.repeat(4),
  expiresAt: Date.parse('2026-11-23T14:00:00.000Z'),
};

describe('src/cluster/join-token', () => {
  it('encodes as base64 of LXD\'s JSON shape', () => {
    const json = JSON.parse(Buffer.from(encodeJoinToken(token), 'base64').toString('utf8'));
    assert.deepEqual(json, {
      server_name: 'node4',
      fingerprint: 'a'.repeat(64),
      addresses: ['10.0.0.1:8443', '[fd00::1]:8443'],
      secret: '0123456789abcdef'.repeat(4),
      expires_at: '2026-11-23T14:00:00.000Z',
    });
  });

  it('decodes a token in the form lxc prints (nanosecond RFC3339)', () => {
    const lxd = Buffer.from(
      JSON.stringify({
        server_name: 'node4',
        fingerprint: 'b'.repeat(64),
        addresses: ['10.0.0.1:8443'],
        secret: 'c'.repeat(64),
        expires_at: '2026-11-23T14:00:00.123456789Z',
      }),
    ).toString('base64');
    const t = decodeJoinToken(lxd);
    assert.equal(t.serverName, 'node4');
    assert.equal(t.expiresAt, Date.parse('2026-11-23T14:00:00.123Z'));
  });

  it('round-trips', () => {
    assert.deepEqual(decodeJoinToken(encodeJoinToken(token)), token);
  });

  it('rejects missing, empty or malformed fields with one clear error', () => {
    const bad = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64');
    const base = JSON.parse(Buffer.from(encodeJoinToken(token), 'base64').toString()) as Record<string, unknown>;
    const cases: Array<[unknown, string]> = [
      [{ ...base, server_name: '' }, 'Invalid join token: bad server_name ""'],
      [{ ...base, fingerprint: 'xyz' }, 'Invalid join token: bad fingerprint'],
      [{ ...base, addresses: [] }, 'Invalid join token: no addresses'],
      [{ ...base, secret: undefined }, 'Invalid join token: missing secret'],
      [{ ...base, expires_at: 'tomorrow' }, 'Invalid join token: bad expires_at'],
      [{ ...base, extra: 1 }, 'Invalid join token: unknown field "extra"'],
      [[1, 2], 'Invalid join token: not a JSON object'],
    ];
    for (const [obj, message] of cases) {
      assert.throws(() => decodeJoinToken(bad(obj)), (err: unknown) => err instanceof ShoalError && err.message === message);
    }
    assert.throws(() => decodeJoinToken('not base64!'), /Invalid join token: not base64/);
  });

  it('rejects or changes meaning under every single-character mutation (exhaustive)', () => {
    const encoded = encodeJoinToken(token);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
    let rejected = 0;
    for (let pos = 0; pos < encoded.length; pos++) {
      for (const ch of alphabet) {
        if (encoded[pos] === ch) continue;
        const mutated = encoded.slice(0, pos) + ch + encoded.slice(pos + 1);
        let decoded: JoinToken | undefined;
        try {
          decoded = decodeJoinToken(mutated);
        } catch (err) {
          assert.ok(err instanceof ShoalError);
          rejected++;
          continue;
        }
        assert.notDeepEqual(decoded, token, `mutation at ${pos} to "${ch}" decodes to the same token`);
      }
    }
    assert.ok(rejected > 0);
  });

  it('stores only a hash and compares secrets in constant time', () => {
    const secret = newJoinSecret();
    assert.match(secret, /^[0-9a-f]{64}$/);
    const stored = hashJoinSecret(secret);
    assert.notEqual(stored, secret);
    assert.ok(joinSecretMatches(secret, stored));
    assert.ok(!joinSecretMatches(newJoinSecret(), stored));
    assert.ok(!joinSecretMatches(secret, 'abcd'));
  });
});
