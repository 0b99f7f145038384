/*
 * Unit tests of the configuration key registry (src/state/config/registry.ts): LXD's key names
 * with types, defaults and scopes; unknown keys refused except free-form families such as user.*;
 * value validation; member-specific versus cluster-wide keys.
 */
import { strict as assert } from 'node:assert';
import { CONFIG_KEYS, checkConfigValue, configBool, configKey, configNumber, configValue, validateConfig } from '../../../src/state/index.js';
import type { ShoalError } from '../../../src/shared/index.js';

describe('src/state/config/registry', () => {
  describe('CONFIG_KEYS', () => {
    it('has the server keys Shoal implements, with LXD names, defaults and scopes', () => {
      const server = Object.fromEntries(CONFIG_KEYS.filter((d) => d.entity === 'server').map((d) => [d.key, [d.type, d.default, d.scope]]));
      assert.deepEqual(server, {
        'cluster.offline_threshold': ['integer', '20', 'cluster'],
        'cluster.max_voters': ['integer', '3', 'cluster'],
        'cluster.max_standby': ['integer', '2', 'cluster'],
        'cluster.images_minimal_replica': ['integer', '3', 'cluster'],
        'cluster.join_token_expiry': ['string', '3H', 'cluster'],
        'cluster.healing_threshold': ['integer', '0', 'cluster'],
        'cluster.https_address': ['string', '', 'member'],
        'core.https_address': ['string', '', 'member'],
        'images.auto_update_interval': ['integer', '6', 'cluster'],
        'images.auto_update_cached': ['bool', 'true', 'cluster'],
        'images.remote_cache_expiry': ['integer', '10', 'cluster'],
        'images.compression_algorithm': ['string', 'gzip', 'cluster'],
        'scheduler.policy': ['string', 'spread', 'cluster'],
        'scheduler.cpu_overcommit': ['float', '4.0', 'cluster'],
        'scheduler.memory_overcommit': ['float', '1.0', 'cluster'],
        'user.*': ['string', '', 'cluster'],
      });
    });

    it('describes every key', () => {
      for (const d of CONFIG_KEYS) assert.ok(d.description.length > 10, `${d.entity} ${d.key}`);
    });
  });

  describe('validateConfig', () => {
    const refuses = (fn: () => void, message: string): void =>
      assert.throws(fn, (err: ShoalError) => err.code === 'INVALID_ARGUMENT' && err.message === message);

    it('refuses unknown keys but accepts user.* and the other free-form families', () => {
      refuses(() => validateConfig('server', { 'cluster.max_voterz': '3' }), 'Unknown configuration key "cluster.max_voterz"');
      refuses(() => validateConfig('instance', { 'user.': 'x' }), 'Unknown configuration key "user."');
      validateConfig('server', { 'user.owner': 'ops' });
      validateConfig('instance', { 'user.a.b': '1', 'environment.HOME': '/root', 'volatile.eth0.hwaddr': 'x', 'image.os': 'debian' });
    });

    it('checks types and values with the key named', () => {
      refuses(() => validateConfig('server', { 'cluster.max_voters': 'three' }), 'Invalid value for "cluster.max_voters": "three" is not an integer');
      refuses(() => validateConfig('server', { 'cluster.max_voters': '4' }), 'Invalid value for "cluster.max_voters": must be an odd number of at least 3');
      refuses(() => validateConfig('server', { 'cluster.offline_threshold': '5' }), 'Invalid value for "cluster.offline_threshold": must be at least 10');
      refuses(() => validateConfig('server', { 'cluster.join_token_expiry': '3 hours' }), 'Invalid value for "cluster.join_token_expiry": must be a number followed by S, M, H, d, w, m or y');
      refuses(() => validateConfig('server', { 'scheduler.policy': 'random' }), 'Invalid value for "scheduler.policy": must be one of spread, binpack');
      refuses(() => validateConfig('instance', { 'security.nesting': 'maybe' }), 'Invalid value for "security.nesting": "maybe" is not a boolean');
      validateConfig('server', { 'cluster.max_voters': '5', 'cluster.join_token_expiry': '1H', 'scheduler.cpu_overcommit': '2.5', 'cluster.images_minimal_replica': '-1' });
      validateConfig('instance', { 'limits.memory': '25%', 'limits.cpu': '2', 'security.nesting': 'yes' });
    });

    it('keeps member-specific keys out of the cluster-wide config and the other way round', () => {
      refuses(() => validateConfig('server', { 'core.https_address': '10.0.0.1:8443' }, 'cluster'), 'Key "core.https_address" is member-specific (set it per member)');
      refuses(() => validateConfig('server', { 'cluster.max_voters': '3' }, 'member'), 'Key "cluster.max_voters" applies to the whole cluster');
      validateConfig('server', { 'core.https_address': '10.0.0.1:8443' }, 'member');
      refuses(() => validateConfig('storage-pool', { source: '/srv' }, 'cluster'), 'Key "source" is member-specific (set it per member)');
    });

    it('treats an empty value as unset', () => {
      assert.equal(checkConfigValue('server', 'cluster.max_voters', ''), undefined);
    });
  });

  describe('configValue', () => {
    it('returns the value or the default, typed', () => {
      assert.equal(configValue('server', {}, 'cluster.offline_threshold'), '20');
      assert.equal(configNumber('server', { 'cluster.offline_threshold': '30' }, 'cluster.offline_threshold'), 30);
      assert.equal(configNumber('server', {}, 'scheduler.cpu_overcommit'), 4);
      assert.equal(configBool('project', {}, 'features.networks'), false);
      assert.equal(configBool('project', { 'features.networks': 'on' }, 'features.networks'), true);
      assert.equal(configKey('member', 'scheduler.instance')?.default, 'all');
    });
  });
});
