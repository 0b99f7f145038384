// Subordinate id ranges (src/node-agent/idmap.ts): parsing /etc/subuid-style text and reading the
// pair of files, with FAILED_PRECONDITION when they are missing, too small or disagree.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDMAP_SIZE, parseSubids, readIdmap } from '../../../src/node-agent/idmap.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';

describe('src/node-agent/idmap.ts', () => {
  describe('parseSubids', () => {
    it('returns the first range of the user that is large enough', () => {
      const text = 'alice:100000:65536\nroot:200000:1000\nroot:300000:1000000000\n';
      assert.deepEqual(parseSubids(text, 'root', IDMAP_SIZE), { hostStart: 300000, size: IDMAP_SIZE });
      assert.equal(parseSubids(text, 'bob', IDMAP_SIZE), undefined);
    });
  });

  describe('readIdmap', () => {
    it('reads both files and refuses ranges that disagree', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'shoal-ssv-idmap-'));
      try {
        const files = { subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') };
        await writeFile(files.subuid, 'root:100000:1000000000\n');
        await writeFile(files.subgid, 'root:100000:1000000000\n');
        assert.deepEqual(await readIdmap('root', files), { hostStart: 100000, size: IDMAP_SIZE });
        await writeFile(files.subgid, 'root:500000:1000000000\n');
        await assert.rejects(readIdmap('root', files), (err: unknown) => isShoalError(err, ErrorCode.FailedPrecondition));
        await rm(files.subgid);
        await assert.rejects(readIdmap('root', files), (err: unknown) => isShoalError(err, ErrorCode.FailedPrecondition));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
