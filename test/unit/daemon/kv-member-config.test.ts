/*
 * Flag parsing of the Raft KV member program (src/daemon/kv-member-config.ts): defaults, the
 * --peers syntax, and one-line INVALID_ARGUMENT errors for bad input.
 */
import { strict as assert } from 'node:assert';
import { parseKvMemberArgs } from '../../../src/daemon/kv-member-config.js';
import { ErrorCode, isShoalError } from '../../../src/shared/index.js';

const base = ['--id', '2', '--data-dir', '/d', '--listen', '127.0.0.1:7002', '--cert', 'c', '--key', 'k', '--ca', 'a'];
const peers = ['--peers', '1=m1@127.0.0.1:7001,2=m2@127.0.0.1:7002'];

describe('src/daemon/kv-member-config', () => {
  describe('parseKvMemberArgs', () => {
    it('parses flags with etcd-like defaults', () => {
      const cfg = parseKvMemberArgs([...base, ...peers]);
      assert.deepEqual(cfg, {
        id: 2,
        dataDir: '/d',
        listen: '127.0.0.1:7002',
        peers: new Map([
          [1, 'm1@127.0.0.1:7001'],
          [2, 'm2@127.0.0.1:7002'],
        ]),
        join: false,
        cert: 'c',
        key: 'k',
        ca: 'a',
        tickMs: 100,
        heartbeatTick: 1,
        electionTick: 10,
        snapshotEntries: 100_000,
        snapshotTrailing: 5_000,
        logLevel: 'info',
        logFile: undefined,
        schemaMax: undefined,
      });
    });

    it('lets a joining member leave itself out of --peers', () => {
      assert.equal(parseKvMemberArgs([...base, '--join', '--peers', '1=m1@127.0.0.1:7001']).join, true);
    });

    it('refuses bad input with INVALID_ARGUMENT', () => {
      const bad = [
        [...base.slice(2), ...peers],
        [...base, '--peers', '1=127.0.0.1:7001'],
        [...base, '--peers', '1=m1@127.0.0.1:7001'],
        [...base, ...peers, '--election-tick', '1'],
        [...base, ...peers, '--tick-ms', 'x'],
        [...base, ...peers, '--bogus'],
      ];
      for (const argv of bad) {
        assert.throws(() => parseKvMemberArgs(argv), (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument), argv.join(' '));
      }
    });
  });
});
