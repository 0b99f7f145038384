// Client configuration of the shoal CLI: config.yml parsing and rendering, the implicit
// `local` remote over $SHOAL_DIR's socket, remote:name splitting, endpoints, aliases, and
// trust-token decoding for `remote add`. Files go to a temp dir removed after each test.
import { strict as assert } from 'node:assert';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allRemotes,
  cliPaths,
  derToPem,
  endpointOf,
  loadConfig,
  parseConfig,
  pemToDer,
  renderConfig,
  saveConfig,
  splitRemote,
  type CliConfig,
} from '../../../src/cli/client/config.js';
import { decodeTrustToken, normalizeAddress } from '../../../src/cli/client/remote-add.js';
import { fingerprintOfDer, splitHostPort } from '../../../src/cli/client/transport.js';

const paths = { confDir: '/nonexistent/conf', shoalDir: '/tmp/m2' };
const config: CliConfig = {
  defaultRemote: 'local',
  remotes: { prod: { addr: 'https://10.0.0.1:8443', protocol: 'shoal', project: 'web' } },
  aliases: { ls: 'list -c ns' },
};

describe('src/cli/client/config', () => {
  describe('cliPaths', () => {
    it('uses SHOAL_CONF and SHOAL_DIR, else ~/.config/shoal and /var/lib/shoal', () => {
      assert.deepEqual(cliPaths({ SHOAL_CONF: '/c', SHOAL_DIR: '/d' }), { confDir: '/c', shoalDir: '/d' });
      assert.deepEqual(cliPaths({ HOME: '/home/u' }), { confDir: '/home/u/.config/shoal', shoalDir: '/var/lib/shoal' });
    });
  });

  describe('parseConfig / renderConfig', () => {
    it('round-trips remotes, the default remote and aliases', () => {
      assert.deepEqual(parseConfig(renderConfig(config)), config);
    });

    it('treats an empty file as the default configuration', () => {
      assert.deepEqual(parseConfig(''), { defaultRemote: 'local', remotes: {}, aliases: {} });
    });

    it('rejects a remote without an address', () => {
      assert.throws(() => parseConfig('remotes:\n  x: {protocol: shoal}\n'), { code: 'INVALID_ARGUMENT', message: /remote "x" has no "addr"/ });
    });

    it('never writes the built-in local remote', () => {
      const text = renderConfig({ ...config, remotes: { ...config.remotes, local: { addr: 'unix:///x' } } });
      assert.equal(parseConfig(text).remotes['local'], undefined);
    });
  });

  describe('allRemotes', () => {
    it('adds local as the unix socket of SHOAL_DIR', () => {
      assert.deepEqual(allRemotes(config, paths)['local'], { addr: 'unix:///tmp/m2/unix.socket', protocol: 'shoal' });
    });
  });

  describe('splitRemote', () => {
    it('splits at the first colon only when the prefix is a remote', () => {
      assert.deepEqual(splitRemote(config, paths, 'prod:web1'), { remote: 'prod', name: 'web1' });
      assert.deepEqual(splitRemote(config, paths, 'prod:'), { remote: 'prod', name: '' });
      assert.deepEqual(splitRemote(config, paths, 'local:c1'), { remote: 'local', name: 'c1' });
      assert.deepEqual(splitRemote(config, paths, 'web1'), { remote: 'local', name: 'web1' });
      assert.deepEqual(splitRemote(config, paths, 'nope:web1'), { remote: 'local', name: 'nope:web1' });
    });
  });

  describe('endpointOf', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'shoal-cli-unit-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('gives the local socket path', async () => {
      assert.deepEqual(await endpointOf(config, { confDir: dir, shoalDir: '/s' }, 'local'), { kind: 'unix', socketPath: '/s/unix.socket' });
    });

    it('gives an https endpoint pinned to the stored server certificate', async () => {
      const der = Buffer.from('not really a certificate, but DER bytes all the same');
      await mkdir(join(dir, 'servercerts'));
      await writeFile(join(dir, 'servercerts', 'prod.crt'), derToPem(der));
      const ep = await endpointOf(config, { confDir: dir, shoalDir: '/s' }, 'prod');
      assert.deepEqual(ep, { kind: 'https', address: '10.0.0.1:8443', serverFingerprint: fingerprintOfDer(der) });
      assert.deepEqual(pemToDer(derToPem(der)), der);
    });

    it('says which remote does not exist', async () => {
      await assert.rejects(endpointOf(config, { confDir: dir, shoalDir: '/s' }, 'staging'), { code: 'NOT_FOUND', message: 'Remote "staging" doesn\'t exist' });
    });

    it('saves and loads the configuration file', async () => {
      const p = { confDir: join(dir, 'conf'), shoalDir: '/s' };
      assert.deepEqual(await loadConfig(p), { defaultRemote: 'local', remotes: {}, aliases: {} });
      await saveConfig(p, config);
      assert.deepEqual(await loadConfig(p), config);
    });
  });
});

describe('src/cli/client/remote-add', () => {
  const token = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64');

  describe('decodeTrustToken', () => {
    it('decodes what the server encodes', () => {
      const t = { client_name: 'me', fingerprint: 'ab'.repeat(32), addresses: ['127.0.0.1:8443'], secret: 's3', expires_at: '2026-11-24T00:00:00Z' };
      assert.deepEqual(decodeTrustToken(token(t)), t);
    });

    it('refuses addresses, join tokens and garbage', () => {
      assert.equal(decodeTrustToken('10.0.0.1:8443'), undefined);
      assert.equal(decodeTrustToken(token({ server_name: 'm4', fingerprint: 'x', addresses: ['a'], secret: 's' })), undefined);
      assert.equal(decodeTrustToken(token({ client_name: 'me', fingerprint: 'x', addresses: [], secret: 's' })), undefined);
    });
  });

  describe('normalizeAddress', () => {
    it('defaults the port to 8443 and drops the scheme', () => {
      assert.equal(normalizeAddress('https://h.example/'), 'h.example:8443');
      assert.equal(normalizeAddress('10.0.0.1:9443'), '10.0.0.1:9443');
      assert.equal(normalizeAddress('::1'), '[::1]:8443');
      assert.equal(normalizeAddress('[::1]:9443'), '[::1]:9443');
    });
  });
});

describe('src/cli/client/transport', () => {
  describe('splitHostPort', () => {
    it('reads IPv4, names and bracketed IPv6', () => {
      assert.deepEqual(splitHostPort('127.0.0.1:8444'), { host: '127.0.0.1', port: 8444 });
      assert.deepEqual(splitHostPort('[::1]:1'), { host: '::1', port: 1 });
      assert.deepEqual(splitHostPort('h'), { host: 'h', port: 8443 });
    });
  });
});
