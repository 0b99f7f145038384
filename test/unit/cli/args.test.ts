// Argument handling of the shoal CLI: key=value parsing, lxc's `config set` forms, alias
// expansion, list filters and columns, join tokens from operation metadata, YAML edit input,
// and the command tree itself (help with examples everywhere, usage errors on one line).
import { strict as assert } from 'node:assert';
import type { Command } from 'commander';
import type { InstanceFull, Operation } from '../../../src/api/types/index.js';
import { parseKeyValues, parseSetArgs } from '../../../src/cli/commands/args.js';
import { joinTokenOf } from '../../../src/cli/commands/cluster.js';
import { setTargetsServer } from '../../../src/cli/commands/config.js';
import { parseEditYaml } from '../../../src/cli/commands/edit.js';
import { imageSource } from '../../../src/cli/commands/instances.js';
import { addresses, bytes, matchesFilters } from '../../../src/cli/commands/list.js';
import { CliContext } from '../../../src/cli/context.js';
import { bashCompletion } from '../../../src/cli/completion.js';
import { buildProgram, expandAlias, main } from '../../../src/cli/main.js';

function instance(over: Partial<InstanceFull> = {}): InstanceFull {
  const net = (addrs: [string, string, string][]) => ({
    addresses: addrs.map(([family, address, scope]) => ({ family, address, netmask: '24', scope })),
    counters: { bytes_received: 0, bytes_sent: 0, packets_received: 0, packets_sent: 0, errors_received: 0, errors_sent: 0, packets_dropped_outbound: 0, packets_dropped_inbound: 0 },
    hwaddr: '', host_name: '', mtu: 1500, state: 'up', type: 'broadcast',
  });
  return {
    architecture: 'x86_64', config: { 'user.role': 'web' }, devices: {}, ephemeral: false, profiles: ['default'], stateful: false, description: '',
    created_at: '2026-11-23T10:00:00Z', expanded_config: { 'user.role': 'web', 'limits.cpu': '2' }, expanded_devices: {}, name: 'web1',
    status: 'Running', status_code: 103, last_used_at: '0001-01-01T00:00:00Z', location: 'm2', type: 'container', project: 'default',
    backups: [], snapshots: [],
    state: {
      status: 'Running', status_code: 103, disk: {}, memory: { usage: 0, usage_peak: 0, swap_usage: 0, swap_usage_peak: 0 },
      network: { lo: net([['inet', '127.0.0.1', 'local']]), eth0: net([['inet', '10.0.0.2', 'global'], ['inet6', 'fd00::2', 'global'], ['inet6', 'fe80::1', 'link']]) },
      pid: 42, processes: 3, cpu: { usage: 0 },
    },
    ...over,
  };
}

const capture = () => {
  let out = '';
  let err = '';
  return { streams: { out: (t: string) => void (out += t), err: (t: string) => void (err += t), isTTY: false }, get out() { return out; }, get err() { return err; } };
};

describe('src/cli/commands/args', () => {
  describe('parseKeyValues', () => {
    it('splits at the first equals sign', () => {
      assert.deepEqual(parseKeyValues(['a=1', 'b=x=y', 'c=']), { a: '1', b: 'x=y', c: '' });
    });
    it('refuses a pair without a key', () => {
      assert.throws(() => parseKeyValues(['=1']), { code: 'INVALID_ARGUMENT', message: 'Bad key=value pair: "=1"' });
      assert.throws(() => parseKeyValues(['novalue']), { code: 'INVALID_ARGUMENT' });
    });
  });

  describe('parseSetArgs', () => {
    it('accepts KEY VALUE and KEY=VALUE forms', () => {
      assert.deepEqual(parseSetArgs(['limits.cpu', '2']), { 'limits.cpu': '2' });
      assert.deepEqual(parseSetArgs(['limits.cpu=2', 'user.a=b']), { 'limits.cpu': '2', 'user.a': 'b' });
    });
  });
});

describe('src/cli/commands/config', () => {
  describe('setTargetsServer', () => {
    it('follows lxc: KEY=VALUE or KEY VALUE alone is server config, NAME KEY=VALUE an instance', () => {
      assert.equal(setTargetsServer(['core.https_address=:8443']), true);
      assert.equal(setTargetsServer(['core.https_address', ':8443']), true);
      assert.equal(setTargetsServer(['web1', 'limits.cpu=2']), false);
      assert.equal(setTargetsServer(['web1', 'limits.cpu', '2']), false);
    });
  });
});

describe('src/cli/commands/edit', () => {
  describe('parseEditYaml', () => {
    it('parses a map, ignoring comments', async () => {
      assert.deepEqual(await parseEditYaml('# header\nconfig:\n  limits.cpu: "2"\nprofiles: [default]\n'), { config: { 'limits.cpu': '2' }, profiles: ['default'] });
    });
    it('reports broken YAML on one line', async () => {
      await assert.rejects(parseEditYaml('config: [unclosed\n'), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT' && /^Failed parsing YAML: /.test(err.message) && !err.message.includes('\n'));
    });
    it('refuses a list where a map is expected', async () => {
      await assert.rejects(parseEditYaml('- a\n'), { message: 'Failed parsing YAML: expected a map' });
    });
  });
});

describe('src/cli/commands/instances', () => {
  describe('imageSource', () => {
    it('treats long hex as a fingerprint and anything else as an alias', () => {
      assert.deepEqual(imageSource('1a2b3c4d5e6f'), { type: 'image', fingerprint: '1a2b3c4d5e6f' });
      assert.deepEqual(imageSource('busybox'), { type: 'image', alias: 'busybox' });
    });
  });
});

describe('src/cli/commands/list', () => {
  describe('addresses', () => {
    it('lists global addresses with their interface, skipping lo and link-local', () => {
      assert.equal(addresses(instance(), 'inet'), '10.0.0.2 (eth0)');
      assert.equal(addresses(instance(), 'inet6'), 'fd00::2 (eth0)');
    });
  });

  describe('matchesFilters', () => {
    it('matches name regexes and key=value on state, location and config', () => {
      const i = instance();
      assert.equal(matchesFilters(i, []), true);
      assert.equal(matchesFilters(i, ['web']), true);
      assert.equal(matchesFilters(i, ['db']), false);
      assert.equal(matchesFilters(i, ['status=running', 'location=m2']), true);
      assert.equal(matchesFilters(i, ['location=m1']), false);
      assert.equal(matchesFilters(i, ['limits.cpu=2', 'role=web']), true);
    });
  });

  describe('bytes', () => {
    it('prints binary units as lxc does', () => {
      assert.equal(bytes(512), '512B');
      assert.equal(bytes(1536), '1.50KiB');
      assert.equal(bytes(256 * 1024 * 1024), '256.00MiB');
    });
  });
});

describe('src/cli/commands/cluster', () => {
  describe('joinTokenOf', () => {
    const op = (metadata: Record<string, unknown>): Operation => ({
      id: 'x', class: 'token', description: '', created_at: '', updated_at: '', status: 'Running', status_code: 103,
      resources: {}, metadata, may_cancel: true, err: '', location: 'm1',
    });

    it('builds the base64 JSON token lxc builds', () => {
      const md = { serverName: 'm4', secret: 'aa', fingerprint: 'bb', addresses: ['127.0.0.1:8443'], expiresAt: '2026-11-23T18:00:00Z' };
      const token = joinTokenOf(op(md));
      assert.deepEqual(JSON.parse(Buffer.from(token!, 'base64').toString()), {
        server_name: 'm4', fingerprint: 'bb', addresses: ['127.0.0.1:8443'], secret: 'aa', expires_at: '2026-11-23T18:00:00Z',
      });
    });

    it('gives nothing when a field is missing', () => {
      assert.equal(joinTokenOf(op({ serverName: 'm4', secret: 'aa' })), undefined);
    });
  });
});

describe('src/cli/main', () => {
  describe('expandAlias', () => {
    it('replaces the alias and places arguments at @ARGS@', () => {
      assert.deepEqual(expandAlias(['ls', 'web'], { ls: 'list -c ns' }), ['list', '-c', 'ns', 'web']);
      assert.deepEqual(expandAlias(['login', 'web1'], { login: 'exec @ARGS@ -- sh' }), ['exec', 'web1', '--', 'sh']);
      assert.deepEqual(expandAlias(['list'], { ls: 'list' }), ['list']);
    });
  });

  describe('buildProgram', () => {
    const io = { streams: capture().streams, env: {} };
    const program = buildProgram(io, () => new CliContext(io.streams));
    const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];

    it('gives every command and sub-command examples in its help', () => {
      const missing = all(program).filter((c) => {
        let text = '';
        c.configureOutput({ writeOut: (s) => void (text += s) });
        c.outputHelp();
        return !text.includes('Examples:');
      });
      assert.deepEqual(missing.map((c) => c.name()), []);
    });

    it('has the verbs the demo uses', () => {
      const names = program.commands.map((c) => c.name());
      for (const v of ['launch', 'list', 'exec', 'cluster', 'image', 'remote', 'config', 'info', 'start', 'stop', 'delete']) assert.ok(names.includes(v), v);
    });

    it('generates a bash completion script naming the verbs', () => {
      const script = bashCompletion(program);
      assert.match(script, /complete -F _shoal shoal/);
      assert.match(script, /cluster\) opts="list ls show add list-tokens/);
    });
  });

  describe('main', () => {
    const env = { SHOAL_CONF: '/nonexistent/shoal-conf', SHOAL_DIR: '/nonexistent/shoal-dir' };

    it('exits 0 on --help and prints usage on stdout', async () => {
      const c = capture();
      assert.equal(await main(['--help'], { streams: c.streams, env }), 0);
      assert.match(c.out, /^Usage: shoal/);
    });

    it('reports an unknown verb as one Error line with exit code 1', async () => {
      const c = capture();
      assert.equal(await main(['lst'], { streams: c.streams, env }), 1);
      assert.equal(c.err, "Error: unknown command 'lst' (Did you mean one of list, ls?)\n");
    });

    it('refuses an unknown output format', async () => {
      const c = capture();
      assert.equal(await main(['list', '--format', 'xml'], { streams: c.streams, env }), 1);
      assert.match(c.err, /^Error: option '-f, --format <format>' argument 'xml' is invalid/);
    });

    it('reports an unreachable server as one line naming the socket', async () => {
      const c = capture();
      assert.equal(await main(['list'], { streams: c.streams, env }), 1);
      assert.equal(c.err, 'Error: Failed connecting to unix:/nonexistent/shoal-dir/unix.socket: no server is listening\n');
    });

    it('reports an unknown remote', async () => {
      const c = capture();
      assert.equal(await main(['remote', 'switch', 'nope'], { streams: c.streams, env }), 1);
      assert.equal(c.err, 'Error: Remote "nope" doesn\'t exist\n');
    });
  });
});
