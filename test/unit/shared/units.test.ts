// Covers src/shared/units.ts: LXD byte sizes (binary and decimal suffixes) and formatting.
import { strict as assert } from 'node:assert';
import { formatByteSize, parseByteSize } from '../../../src/shared/units.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';

describe('src/shared/units', () => {
  describe('parseByteSize', () => {
    it('parses LXD suffixes', () => {
      assert.deepEqual(
        ['1048576', '512B', '1kB', '10MB', '5GiB', '512MiB', '1.5KiB', '2 TiB'].map((s) => parseByteSize(s)),
        [1048576, 512, 1000, 10_000_000, 5 * 2 ** 30, 512 * 2 ** 20, 1536, 2 * 2 ** 40],
      );
    });
    it('rejects malformed sizes naming the key', () => {
      for (const s of ['', 'lots', '5 GiBs', '-1', '5gib']) {
        assert.throws(() => parseByteSize(s, 'size'), (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && /"size"/.test(err.message));
      }
    });
  });
  describe('formatByteSize', () => {
    it('uses IEC units', () => {
      assert.deepEqual([512, 1536, 5 * 2 ** 30].map(formatByteSize), ['512B', '1.50KiB', '5.00GiB']);
    });
  });
});
