// Covers src/node-agent/exec.ts: the one place that runs host commands. Uses /bin/sh only:
// exit codes, stdin, stderr tails, timeouts, cancellation and missing commands.
import { strict as assert } from 'node:assert';
import { run } from '../../../src/node-agent/exec.js';
import { ErrorCode, ExecError, ShoalError } from '../../../src/shared/index.js';

describe('src/node-agent/exec', () => {
  describe('run', () => {
    it('returns stdout and stderr of a successful command', async () => {
      const r = await run('sh', ['-c', 'echo out; echo err >&2']);
      assert.deepEqual(r, { code: 0, stdout: 'out\n', stderr: 'err\n' });
    });
    it('feeds input to stdin', async () => {
      const r = await run('sh', ['-c', 'tr a-z A-Z'], { input: 'hello' });
      assert.equal(r.stdout, 'HELLO');
    });
    it('rejects a non-zero exit with argv, code and stderr tail', async () => {
      await assert.rejects(run('sh', ['-c', 'echo broken >&2; exit 3']), (err: unknown) => {
        assert.ok(err instanceof ExecError);
        assert.deepEqual(err.argv, ['sh', '-c', 'echo broken >&2; exit 3']);
        assert.equal(err.exitCode, 3);
        assert.equal(err.stderrTail, 'broken\n');
        return true;
      });
    });
    it('accepts exit codes listed in okCodes', async () => {
      assert.equal((await run('sh', ['-c', 'exit 1'], { okCodes: [0, 1] })).code, 1);
    });
    it('kills a command that outlives its timeout', async () => {
      await assert.rejects(run('sleep', ['5'], { timeoutMs: 50 }), (err: unknown) => {
        assert.ok(err instanceof ShoalError);
        assert.equal(err.code, ErrorCode.DeadlineExceeded);
        return true;
      });
    });
    it('kills a command when its signal aborts', async () => {
      const ac = new AbortController();
      const p = run('sleep', ['5'], { signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      await assert.rejects(p, (err: unknown) => err instanceof ShoalError && err.code === ErrorCode.Cancelled);
    });
    it('reports a missing command as FAILED_PRECONDITION', async () => {
      await assert.rejects(run('no-such-command-shoal', []), (err: unknown) => {
        assert.ok(err instanceof ExecError);
        assert.equal(err.code, ErrorCode.FailedPrecondition);
        assert.equal(err.message, 'Command "no-such-command-shoal" not found');
        return true;
      });
    });
  });
});
