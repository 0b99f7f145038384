// Covers src/api/routes/root.ts through buildApp + inject over fakes: GET /, GET /1.0 for
// untrusted, restricted and trusted callers (exact envelopes, ETag), PUT/PATCH /1.0 with If-Match,
// validation and error envelopes, unknown paths, and the generic 500 for bugs.
import { strict as assert } from 'node:assert';
import { etagOf } from '../../../../src/api/response.js';
import { API_EXTENSIONS } from '../../../../src/api/types/index.js';
import { identities } from '../../../support/api/fake-ports.js';
import { apiHarness, errorBody, syncBody } from '../../../support/api/harness.js';

const untrustedServer = {
  api_extensions: [...API_EXTENSIONS],
  api_status: 'stable',
  api_version: '1.0',
  auth: 'untrusted',
  public: false,
  auth_methods: ['tls'],
};

describe('src/api/routes/root', () => {
  const t = apiHarness();
  after(() => t.close());

  describe('GET /', () => {
    it('lists the API versions for anyone', async () => {
      const res = await t.inject({ method: 'GET', url: '/', as: 'untrusted' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), syncBody(['/1.0']));
    });
  });

  describe('GET /1.0', () => {
    it('tells untrusted callers only the ServerUntrusted fields', async () => {
      const res = await t.inject({ method: 'GET', url: '/1.0', as: 'untrusted' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), syncBody(untrustedServer));
    });

    it('gives trusted callers config, environment and an ETag of the config', async () => {
      t.config.config = { 'core.https_address': '127.0.0.1:8443' };
      const res = await t.inject({ method: 'GET', url: '/1.0?project=p1', as: 'unix' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(
        res.json(),
        syncBody({
          ...untrustedServer,
          auth: 'trusted',
          config: { 'core.https_address': '127.0.0.1:8443' },
          environment: t.info.environment('p1'),
        }),
      );
      assert.equal(res.headers['etag'], `"${etagOf({ 'core.https_address': '127.0.0.1:8443' })}"`);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    });

    it('hides the config from restricted callers', async () => {
      t.config.config = { 'core.https_address': '127.0.0.1:8443' };
      const res = await t.inject({ method: 'GET', url: '/1.0', as: identities.restricted(['p1']) });
      assert.deepEqual(res.json().metadata.config, {});
      assert.equal(res.json().metadata.auth, 'trusted');
    });

    it('rejects a bad recursion value with 400', async () => {
      const res = await t.inject({ method: 'GET', url: '/1.0?recursion=x', as: 'unix' });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), errorBody(400, 'Invalid recursion "x"'));
    });

    it('answers an unknown ?target= member with 404', async () => {
      const res = await t.inject({ method: 'GET', url: '/1.0?target=m9', as: 'unix' });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), errorBody(404, 'Cluster member "m9" not found'));
    });

    it('serves ?target=<itself> locally', async () => {
      const res = await t.inject({ method: 'GET', url: '/1.0?target=m1', as: 'unix' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().metadata.environment.server_name, 'm1');
    });

    it('answers 500 with a generic message for a bug and logs the original under err', async () => {
      t.config.failWith = new TypeError('boom in config');
      try {
        const res = await t.inject({ method: 'GET', url: '/1.0', as: 'unix', headers: { 'x-request-id': 'req-bug-1' } });
        assert.equal(res.statusCode, 500);
        assert.deepEqual(res.json(), errorBody(500, 'Internal server error'));
        const line = t.logs.find((l) => l['reqId'] === 'req-bug-1' && l['level'] === 50);
        assert.ok(line, 'error line logged with the request id');
        assert.equal((line['err'] as { message: string }).message, 'boom in config');
        assert.equal(line['component'], 'api');
      } finally {
        t.config.failWith = undefined;
      }
    });
  });

  describe('PUT and PATCH /1.0', () => {
    it('replaces the config on PUT and emits config-updated', async () => {
      t.config.config = { 'core.https_address': '127.0.0.1:8443', 'images.auto_update_interval': '6' };
      const seen: unknown[] = [];
      const sub = t.events.subscribe({ types: ['lifecycle'], project: 'default', allProjects: true }, (e) => seen.push(e.metadata));
      const res = await t.inject({ method: 'PUT', url: '/1.0', as: 'unix', payload: { config: { 'core.https_address': '[::]:8443' } } });
      sub.dispose();
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), syncBody({}));
      assert.deepEqual(t.config.config, { 'core.https_address': '[::]:8443' });
      assert.deepEqual(seen, [{ action: 'config-updated', source: '/1.0', requestor: { username: 'root', protocol: 'unix', address: '@' } }]);
    });

    it('merges on PATCH, stringifies numbers and unsets keys set to ""', async () => {
      t.config.config = { 'core.https_address': '127.0.0.1:8443', 'images.auto_update_interval': '6' };
      const res = await t.inject({
        method: 'PATCH',
        url: '/1.0',
        as: 'unix',
        payload: { config: { 'images.auto_update_interval': 12, 'core.https_address': '' } },
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(t.config.config, { 'images.auto_update_interval': '12' });
    });

    it('accepts a matching If-Match and refuses a stale one with 412, changing nothing', async () => {
      t.config.config = { 'user.a': '1' };
      const get = await t.inject({ method: 'GET', url: '/1.0', as: 'unix' });
      const etag = get.headers['etag'] as string;
      const ok = await t.inject({ method: 'PUT', url: '/1.0', as: 'unix', headers: { 'if-match': etag }, payload: { config: { 'user.a': '2' } } });
      assert.equal(ok.statusCode, 200);
      const stale = await t.inject({ method: 'PUT', url: '/1.0', as: 'unix', headers: { 'if-match': etag }, payload: { config: { 'user.a': '3' } } });
      assert.equal(stale.statusCode, 412);
      assert.deepEqual(stale.json(), errorBody(412, `ETag doesn't match: ${etagOf({ 'user.a': '2' })} vs ${etag.replace(/"/g, '')}`));
      assert.deepEqual(t.config.config, { 'user.a': '2' });
    });

    it('passes the port validation error through as 400', async () => {
      const res = await t.inject({ method: 'PUT', url: '/1.0', as: 'unix', payload: { config: { 'bogus.key': 'x' } } });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), errorBody(400, 'Unknown configuration key "bogus.key"'));
    });

    it('names an unknown body field', async () => {
      const res = await t.inject({ method: 'PUT', url: '/1.0', as: 'unix', payload: { config: {}, configs: {} } });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), errorBody(400, 'Unknown field "configs" in request body'));
    });

    it('names a field with the wrong type', async () => {
      const res = await t.inject({ method: 'PUT', url: '/1.0', as: 'unix', payload: { config: { 'user.a': ['x'] } } });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error, /^Invalid value for "config\.user\.a" in request body: /);
    });

    it('rejects malformed JSON with 400 whatever the content type', async () => {
      for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
        const res = await t.inject({ method: 'PUT', url: '/1.0', as: 'unix', payload: '{"config":', headers: { 'content-type': type } });
        assert.equal(res.statusCode, 400, type);
        assert.match(res.json().error, /^Invalid JSON in request body: /);
      }
    });

    it('reads a JSON body sent with a form content type (curl -d), as LXD does', async () => {
      t.config.config = {};
      const res = await t.inject({
        method: 'PATCH',
        url: '/1.0',
        as: 'unix',
        payload: '{"config":{"user.b":"1"}}',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(t.config.config, { 'user.b': '1' });
    });

    it('refuses untrusted and restricted callers with 403 "not authorized"', async () => {
      for (const as of ['untrusted' as const, identities.restricted(['default'])]) {
        const res = await t.inject({ method: 'PUT', url: '/1.0', as, payload: { config: {} } });
        assert.equal(res.statusCode, 403);
        assert.deepEqual(res.json(), errorBody(403, 'not authorized'));
      }
    });

    it('rejects a __proto__ key in a body', async () => {
      const res = await t.inject({ method: 'PUT', url: '/1.0', as: 'unix', payload: '{"config":{"__proto__":{"x":"1"}}}', headers: { 'content-type': 'application/json' } });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error, /forbidden key "__proto__"/);
    });
  });

  describe('unknown paths', () => {
    it('answers 404 "not found" to trusted and untrusted callers alike', async () => {
      for (const as of ['unix' as const, 'untrusted' as const]) {
        const res = await t.inject({ method: 'GET', url: '/1.0/nothing-here', as });
        assert.equal(res.statusCode, 404);
        assert.deepEqual(res.json(), errorBody(404, 'not found'));
      }
    });
  });
});
