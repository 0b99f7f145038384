// The pure parts of instance I/O: X-LXD-* header parsing (LXD's ParseLXDFileHeaders rules), the
// exec environment (request, then environment.* config, then LXD's defaults), control messages and
// the websocket stream protocol's message classification.
import { strict as assert } from 'node:assert';
import { DEFAULT_EXEC_PATH, execEnvironment } from '../../../../src/api/instance-io/exec-env.js';
import { parseControlMessage } from '../../../../src/api/instance-io/exec-control.js';
import { isExecOutputFileName } from '../../../../src/api/instance-io/exec-output-store.js';
import { filePathParam, formatMode, parseFileHeaders } from '../../../../src/api/instance-io/file-headers.js';
import { classifyMessage } from '../../../../src/api/instance-io/ws-stream.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';

const invalid = (message: string) => (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && err.message === message;

describe('src/api/instance-io/file-headers.ts', () => {
  describe('parseFileHeaders', () => {
    it('defaults to an overwritten file with nothing else set', () => {
      assert.deepEqual(parseFileHeaders({}), { type: 'file', write: 'overwrite' });
      assert.deepEqual(parseFileHeaders({ 'x-lxd-uid': '-1', 'x-lxd-gid': '' }), { type: 'file', write: 'overwrite' });
    });

    it('reads ids in base 10 and modes as Go ParseInt(raw, 0) masked to 0777', () => {
      assert.deepEqual(parseFileHeaders({ 'x-lxd-uid': '1000', 'x-lxd-gid': '0', 'x-lxd-mode': '0640', 'x-lxd-type': 'directory', 'x-lxd-write': 'append' }), {
        uid: 1000, gid: 0, mode: 0o640, type: 'directory', write: 'append',
      });
      assert.equal(parseFileHeaders({ 'x-lxd-mode': '420' }).mode, 0o644);
      assert.equal(parseFileHeaders({ 'x-lxd-mode': '0o755' }).mode, 0o755);
      assert.equal(parseFileHeaders({ 'x-lxd-mode': '0x1ed' }).mode, 0o755);
      assert.equal(parseFileHeaders({ 'x-lxd-mode': '04755' }).mode, 0o755);
      assert.equal(parseFileHeaders({ 'x-lxd-mode': '0' }).mode, 0);
    });

    it('refuses malformed values with a 400 naming the header', () => {
      assert.throws(() => parseFileHeaders({ 'x-lxd-uid': '1e3' }), invalid('Invalid UID: "1e3"'));
      assert.throws(() => parseFileHeaders({ 'x-lxd-gid': '4294967296' }), invalid('Invalid GID: "4294967296"'));
      assert.throws(() => parseFileHeaders({ 'x-lxd-mode': '0689' }), invalid('Invalid Mode: "0689"'));
      assert.throws(() => parseFileHeaders({ 'x-lxd-mode': '-1' }), invalid('Invalid Mode: "-1"'));
      assert.throws(() => parseFileHeaders({ 'x-lxd-type': 'socket' }), invalid('Bad file type: socket'));
      assert.throws(() => parseFileHeaders({ 'x-lxd-write': 'prepend' }), invalid('Bad file write mode: prepend'));
    });
  });

  it('formats modes as LXD does (%04o) and makes paths absolute', () => {
    assert.deepEqual([formatMode(0o644), formatMode(0o7), formatMode(0o4755)], ['0644', '0007', '4755']);
    assert.deepEqual([filePathParam('etc/hosts'), filePathParam('/etc/hosts')], ['/etc/hosts', '/etc/hosts']);
    assert.throws(() => filePathParam(undefined), invalid('Missing path argument'));
    assert.throws(() => filePathParam(''), invalid('Missing path argument'));
  });
});

describe('src/api/instance-io/exec-env.ts', () => {
  describe('execEnvironment', () => {
    it('adds PATH, HOME, USER and LANG for root without overriding the request', () => {
      assert.deepEqual(execEnvironment({ environment: { LANG: 'fr_FR.UTF-8' } }, {}), { LANG: 'fr_FR.UTF-8', PATH: DEFAULT_EXEC_PATH, HOME: '/root', USER: 'root' });
    });

    it('fills environment.* config keys the request did not set and skips HOME/USER for other users', () => {
      assert.deepEqual(execEnvironment({ environment: null, user: 1000 }, { 'environment.A': '1', 'environment.PATH': '/opt/bin', 'limits.cpu': '2' }), {
        A: '1', PATH: '/opt/bin', LANG: 'C.UTF-8',
      });
    });
  });
});

describe('src/api/instance-io/exec-control.ts', () => {
  describe('parseControlMessage', () => {
    it('understands window-resize (string args, as lxc sends them) and signal', () => {
      assert.deepEqual(parseControlMessage('{"command":"window-resize","args":{"width":"132","height":"50"}}'), { kind: 'resize', width: 132, height: 50 });
      assert.deepEqual(parseControlMessage('{"command":"signal","signal":15}'), { kind: 'signal', signal: 15 });
    });

    it('ignores what it cannot use', () => {
      for (const m of ['nope', '{"command":"window-resize","args":{"width":"x","height":"1"}}', '{"command":"signal","signal":0}', '{"command":"reboot"}', 'null']) {
        assert.equal(parseControlMessage(m), undefined, m);
      }
    });
  });
});

describe('src/api/instance-io/ws-stream.ts', () => {
  it('classifies binary messages as data and text messages as the end-of-stream barrier', () => {
    assert.deepEqual(classifyMessage(Buffer.from('ab'), true), { kind: 'data', data: Buffer.from('ab') });
    assert.deepEqual(classifyMessage([Buffer.from('a'), Buffer.from('b')], true), { kind: 'data', data: Buffer.from('ab') });
    assert.deepEqual(classifyMessage(Buffer.alloc(0), false), { kind: 'eof' });
  });
});

describe('src/api/instance-io/exec-output-store.ts', () => {
  it('accepts only exec_*.stdout|stderr names', () => {
    assert.deepEqual(
      ['exec_1f.stdout', 'exec_a-b.stderr', 'exec_x.log', 'lxc.log', 'exec_../x.stdout', 'exec_/x.stdout'].map(isExecOutputFileName),
      [true, true, false, false, false, false],
    );
  });
});
