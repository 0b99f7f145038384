// Covers src/api/app.ts request-body handling through buildApp + inject over fakes: any content
// type is read as JSON, invalid JSON is a 400 envelope on a known route, and an unknown path is a
// 404 whatever its body (lxc 5.0 pushing a file to a route we lack saw "Invalid JSON" before).
import { strict as assert } from 'node:assert';
import { apiHarness, errorBody } from '../../support/api/harness.js';

describe('src/api/app', () => {
  const t = apiHarness();
  after(() => t.close());

  describe('request bodies', () => {
    it('answers a non-JSON body on an unknown path with 404', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/1.0/containers/c1/files?path=/tmp/x',
        headers: { 'content-type': 'application/octet-stream' },
        payload: 'default-remote: local\n',
      });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), errorBody(404, 'not found'));
    });

    it('answers invalid JSON on a known route with a 400 envelope', async () => {
      const res = await t.inject({ method: 'PATCH', url: '/1.0', headers: { 'content-type': 'text/plain' }, payload: '{"config": ' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().type, 'error');
      assert.match(res.json().error, /^Invalid JSON in request body/);
    });
  });
});
