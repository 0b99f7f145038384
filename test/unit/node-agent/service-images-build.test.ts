// ImageService.build (the BuildImage RPC behind `POST /1.0/images {source: {type: "busybox"}}`),
// over the Fake* drivers: the busybox recipe stores a deterministic image (building again finds
// it), and unknown recipes are refused. Needs Debian's busybox-static (/bin/busybox).
import { strict as assert } from 'node:assert';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';
import { op, openFakeAgent, sig, type FakeAgent } from '../../support/fake-agent.js';

describe('src/node-agent/service-images.ts', () => {
  describe('ImageService.build', () => {
    let a: FakeAgent;
    beforeEach(async () => {
      a = await openFakeAgent();
    });
    afterEach(async () => {
      await a.close();
    });

    it('builds the busybox image once and finds it stored the second time', async function () {
      this.timeout(20_000);
      const first = await a.service.images.build(op(), 'busybox', sig());
      assert.match(first.fingerprint, /^[0-9a-f]{64}$/);
      assert.equal(first.format, 'unified');
      assert.equal(await a.images.has(first.fingerprint), true);
      const again = await a.service.images.build(op(), 'busybox', sig());
      assert.equal(again.fingerprint, first.fingerprint);
    });

    it('refuses an unknown recipe', async () => {
      await assert.rejects(a.service.images.build(op(), 'alpine', sig()), (err) => isShoalError(err, ErrorCode.InvalidArgument) && err.message === 'Unknown image recipe "alpine" (known: busybox)');
    });
  });
});
