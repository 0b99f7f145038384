// Covers src/shared/errors.ts: default retryability per code, wrap() message and code inheritance,
// and the data-carrying subclasses.
import { strict as assert } from 'node:assert';
import {
  ErrorCode,
  ExecError,
  RevertIncompleteError,
  ShoalError,
  isShoalError,
  wrap,
} from '../../../src/shared/index.js';

describe('src/shared/errors', () => {
  describe('ShoalError', () => {
    it('is retryable by default only for transient codes', () => {
      const retryable = Object.values(ErrorCode).filter((c) => new ShoalError(c, 'x').retryable);
      assert.deepEqual(retryable.sort(), ['ABORTED', 'DEADLINE_EXCEEDED', 'NOT_LEADER', 'UNAVAILABLE']);
    });
    it('lets the caller override retryability', () => {
      assert.equal(new ShoalError(ErrorCode.Unavailable, 'x', { retryable: false }).retryable, false);
    });
  });

  describe('wrap', () => {
    it('prefixes context and inherits code and retryability from a ShoalError cause', () => {
      const cause = new ShoalError(ErrorCode.NotFound, 'Image "abc" not found');
      const err = wrap(cause, 'Failed creating root volume for "web1"');
      assert.equal(err.message, 'Failed creating root volume for "web1": Image "abc" not found');
      assert.equal(err.code, ErrorCode.NotFound);
      assert.equal(err.retryable, false);
      assert.equal(err.cause, cause);
    });
    it('makes plain errors INTERNAL unless a code is given', () => {
      assert.equal(wrap(new Error('boom'), 'Failed x').code, ErrorCode.Internal);
      assert.equal(wrap(new Error('boom'), 'Failed x', ErrorCode.Unavailable).code, ErrorCode.Unavailable);
    });
  });

  describe('subclasses', () => {
    it('ExecError names the command, exit code and stderr', () => {
      const err = new ExecError(['lxc-start', '-n', 'c1'], 1, 'no such container\n');
      assert.equal(err.message, 'Command "lxc-start -n c1" failed with exit code 1: no such container');
      assert.ok(isShoalError(err, ErrorCode.Internal));
    });
    it('RevertIncompleteError lists what remains', () => {
      const err = new RevertIncompleteError(['bridge "b0"', 'volume "v1"'], new Error('busy'));
      assert.equal(err.message, 'Revert incomplete, remaining: bridge "b0"; volume "v1"');
      assert.deepEqual(err.remaining, ['bridge "b0"', 'volume "v1"']);
    });
  });
});
