// scripts/demo/net-hosts.ts against the real kernel: a bridge and network namespaces with their
// own addresses (the demo's and the cluster tests' "servers"), reachability between them and the
// host, processes inside, and teardown — normal, and after the creating process was killed -9.
// Needs root and iproute2; each test uses its own prefix and subnet and removes what it made.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../../src/node-agent/exec.js';
import { makeTempDir } from '../../support/tmpdir.js';
import {
  createTestNetHosts,
  listNetHostsByPrefix,
  NetHosts,
  pickFreeSubnet,
  removeNetHostsByPrefix,
  subnetConflicts,
  TEST_NET_POOL,
  testNetPrefix,
} from '../../support/net-hosts.js';

const ping = (args: readonly string[]) => run('busybox', ['ping', '-c', '1', '-W', '2', ...args], { timeoutMs: 10_000 });

describe('scripts/demo/net-hosts.ts', () => {
  describe('NetHosts', () => {
    let hosts: NetHosts | undefined;
    afterEach(async () => {
      await hosts?.destroy();
      hosts = undefined;
    });

    it('creates a bridge with the host on .1 and one namespace per name with its own address', async () => {
      hosts = await createTestNetHosts(['m1', 'm2', 'm3']);
      const net = hosts.subnet.replace(/\.0\/24$/, '');
      assert.equal(hosts.hostAddress, `${net}.1`);
      assert.deepEqual(
        hosts.hosts.map((h) => [h.name, h.address]),
        [
          ['m1', `${net}.11`],
          ['m2', `${net}.12`],
          ['m3', `${net}.13`],
        ],
      );
      const { namespaces, links } = await listNetHostsByPrefix(hosts.namePrefix);
      assert.deepEqual(namespaces.sort(), hosts.hosts.map((h) => h.ns).sort());
      assert.deepEqual(links.sort(), [hosts.bridge, ...hosts.hosts.map((h) => h.hostVeth)].sort());
      for (const h of hosts.hosts) {
        const addrs = JSON.parse((await run('ip', ['-n', h.ns, '-4', '-j', 'addr', 'show'])).stdout) as {
          ifname: string;
          operstate: string;
          addr_info: { local: string; prefixlen: number }[];
        }[];
        assert.deepEqual(
          addrs.map((a) => [a.ifname, a.addr_info.map((i) => `${i.local}/${i.prefixlen}`)]),
          [
            ['lo', ['127.0.0.1/8']],
            ['eth0', [`${h.address}/24`]],
          ],
        );
      }
    });

    it('lets namespaces reach each other and the host, and the host reach them', async () => {
      hosts = await createTestNetHosts(['a', 'b']);
      const [a, b] = [hosts.host('a'), hosts.host('b')];
      await hosts.exec(a, 'busybox', ['ping', '-c', '1', '-W', '2', b.address]);
      await hosts.exec(b, 'busybox', ['ping', '-c', '1', '-W', '2', a.address]);
      await hosts.exec(a, 'busybox', ['ping', '-c', '1', '-W', '2', hosts.hostAddress]);
      await hosts.exec(a, 'busybox', ['ping', '-c', '1', '-W', '2', '127.0.0.1']);
      await ping([a.address]);
      await ping([b.address]);
    });

    it('runs a spawned process inside the namespace, reachable over TCP from the host', async () => {
      hosts = await createTestNetHosts(['srv']);
      const dir = await makeTempDir('sdm');
      try {
        const h = hosts.host('srv');
        const pid = await hosts.spawn(h, 'busybox', ['nc', '-l', '-p', '7777', '-e', 'echo', 'hello from srv'], {
          logFile: join(dir.path, 'nc.log'),
        });
        // `ip` joins the namespace just after it starts, then execs the command under the same PID.
        let ns = '';
        for (let i = 0; i < 50 && ns !== h.ns; i++) {
          ns = (await run('ip', ['netns', 'identify', String(pid)])).stdout.trim();
          if (ns !== h.ns) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(ns, h.ns);
        let reply = '';
        for (let i = 0; i < 50 && !reply.includes('hello'); i++) {
          reply = (await run('busybox', ['nc', '-w', '2', h.address, '7777'], { okCodes: [0, 1] })).stdout;
          if (!reply.includes('hello')) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(reply.trim(), 'hello from srv');
      } finally {
        await dir.remove();
      }
    });

    it('removes exactly what it made, including processes still running inside', async () => {
      hosts = await createTestNetHosts(['x', 'y']);
      const dir = await makeTempDir('sdm');
      try {
        const pid = await hosts.spawn(hosts.host('x'), 'sleep', ['600'], { logFile: join(dir.path, 'sleep.log') });
        const prefix = hosts.namePrefix;
        const subnet = hosts.subnet;
        await hosts.destroy();
        await hosts.destroy(); // idempotent
        hosts = undefined;
        assert.deepEqual(await listNetHostsByPrefix(prefix), { namespaces: [], links: [] });
        assert.deepEqual(await subnetConflicts(subnet), []);
        assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
      } finally {
        await dir.remove();
      }
    });

    it('refuses a subnet already in use and leaves nothing behind', async () => {
      hosts = await createTestNetHosts(['p']);
      const prefix = testNetPrefix();
      await assert.rejects(NetHosts.create({ prefix, subnet: hosts.subnet, names: ['q'] }), {
        code: 'FAILED_PRECONDITION',
        message: new RegExp(`^Subnet "${hosts.subnet.replace(/\./g, '\\.')}" is already in use \\(`),
      });
      assert.deepEqual(await listNetHostsByPrefix(prefix), { namespaces: [], links: [] });
    });
  });

  describe('removeNetHostsByPrefix', () => {
    it('cleans up after a run that was killed -9 with a process inside a namespace', async function () {
      this.timeout(60_000);
      const prefix = testNetPrefix();
      const subnet = await pickFreeSubnet(TEST_NET_POOL);
      const dir = await makeTempDir('sdm');
      const fixture = join(import.meta.dirname, 'crash-fixture.ts');
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, prefix, subnet, join(dir.path, 'sleep.log')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        let out = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        while (!out.includes('ready')) {
          const [exited] = await Promise.race([once(child, 'exit').then(() => [true]), once(child.stdout, 'data').then(() => [false])]);
          if (exited) assert.fail(`fixture exited early: ${out}`);
        }
        child.kill('SIGKILL');
        await once(child, 'exit');
        const left = await listNetHostsByPrefix(prefix);
        assert.deepEqual(left.namespaces.sort(), [`${prefix}a`, `${prefix}b`]);
        const sleeper = Number((await run('ip', ['netns', 'pids', `${prefix}a`])).stdout.trim());
        assert.match(await readFile(`/proc/${sleeper}/cmdline`, 'utf8'), /^sleep\x00600\x00$/);

        const removed = await removeNetHostsByPrefix(prefix);
        assert.deepEqual(removed.sort(), [`${prefix}a`, `${prefix}b`, `${prefix}br`].sort());
        assert.deepEqual(await listNetHostsByPrefix(prefix), { namespaces: [], links: [] });
        assert.deepEqual(await subnetConflicts(subnet), []);
        assert.deepEqual(await removeNetHostsByPrefix(prefix), []);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await removeNetHostsByPrefix(prefix);
        await dir.remove();
      }
    });
  });
});
