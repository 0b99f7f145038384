// Covers src/node-agent/drivers/lxc/idmap.ts: subuid/subgid parsing and the choice of the
// unprivileged range (common overlap of root's uid and gid ranges, at least 65536 ids), and
// reading the two files (FAILED_PRECONDITION when missing or without a usable range).
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostId, idmapLines, parseSubIds, pickIdmap, readHostIdmap } from '../../../../src/node-agent/drivers/lxc/idmap.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';
import { HOST_TAG } from '../../../support/host-plan.js';

describe('src/node-agent/drivers/lxc/idmap', () => {
  describe('parseSubIds', () => {
    it('reads owner:start:count lines and skips comments and junk', () => {
      assert.deepEqual(parseSubIds('# c\nroot:100000:65536\n\nbad line\nalice:200000:0\n1000:300000:65536\n'), [
        { owner: 'root', start: 100000, count: 65536 },
        { owner: '1000', start: 300000, count: 65536 },
      ]);
    });
  });

  describe('pickIdmap', () => {
    it('picks Debian\'s default range for root', () => {
      assert.deepEqual(pickIdmap('root:100000:65536\n', 'root:100000:65536\n'), { ok: true, range: { hostStart: 100000, size: 65536 } });
    });
    it('uses the whole delegated range and accepts the numeric owner', () => {
      assert.deepEqual(pickIdmap('0:100000:1000000000\n', 'root:100000:1000000000\n'), {
        ok: true,
        range: { hostStart: 100000, size: 1000000000 },
      });
    });
    it('takes the overlap of differing uid and gid ranges when it is large enough', () => {
      assert.deepEqual(pickIdmap('alice:1:5\nroot:100000:200000\n', 'root:150000:200000\n'), {
        ok: true,
        range: { hostStart: 150000, size: 150000 },
      });
    });
    it('explains why there is no usable range', () => {
      assert.deepEqual(pickIdmap('alice:100000:65536\n', 'root:100000:65536\n'), {
        ok: false,
        reason: 'no subordinate uid range for "root" in /etc/subuid',
      });
      const tooSmall = pickIdmap('root:100000:65536\n', 'root:150000:65536\n');
      assert.equal(tooSmall.ok, false);
    });
  });

  describe('readHostIdmap', () => {
    it('reads both files and fails with FAILED_PRECONDITION when a file or a usable range is missing', async () => {
      const dir = await mkdtemp(join(tmpdir(), `shoal-${HOST_TAG}-idmap-`));
      try {
        const [subuid, subgid] = [join(dir, 'subuid'), join(dir, 'subgid')];
        await writeFile(subuid, 'root:100000:65536\n');
        await writeFile(subgid, 'root:100000:65536\n');
        assert.deepEqual(await readHostIdmap(subuid, subgid), { hostStart: 100000, size: 65536 });
        await writeFile(subgid, 'root:500000:65536\n');
        await assert.rejects(readHostIdmap(subuid, subgid), (err: unknown) => isShoalError(err, ErrorCode.FailedPrecondition));
        await rm(subgid);
        await assert.rejects(readHostIdmap(subuid, subgid), (err: unknown) => isShoalError(err, ErrorCode.FailedPrecondition));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  it('renders lxc.idmap lines and maps ids', () => {
    assert.deepEqual(idmapLines({ hostStart: 100000, size: 65536 }), ['u 0 100000 65536', 'g 0 100000 65536']);
    assert.equal(hostId({ hostStart: 100000, size: 65536 }, 1000), 101000);
    assert.equal(hostId(null, 1000), 1000);
  });
});
