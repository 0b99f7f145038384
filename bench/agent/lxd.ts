/**
 * The LXD 5.0.2 side of the agent benchmark: a throw-away daemon from test/support/lxd (Debian's
 * `lxd`, its own LXD_DIR, outbound fetches to a closed loopback port, image auto-updates off). It
 * gets the same busybox image, a dir pool and a btrfs pool on a loop file, and a managed bridge (no
 * NAT, no firewall rules); instances have the same devices as ours (root disk + one bridged nic).
 * Driven through its REST API on the unix socket (the cheapest way in: no CLI process per call).
 */
import { createHash } from 'node:crypto';
import { LxdDaemon, ensureLxd as ensureLxdInstalled } from '../../test/support/lxd/lxd-daemon.js';
import { onCleanup } from './cleanup.js';
import { SUBNETS, type BenchSide, type BenchStorage } from './side.js';
import { say } from './stats.js';

const POOLS: Readonly<Record<BenchStorage, string>> = { dir: 'bdir', btrfs: 'bbtrfs' };

/** Installs lxd (Debian 12: 5.0.2) and lxd-client when missing. Idempotent. */
export function ensureLxd(): Promise<string> {
  return ensureLxdInstalled(say);
}

export class LxdSide implements BenchSide {
  readonly label = 'lxd';

  private constructor(
    private readonly lxd: LxdDaemon,
    private readonly network: string,
    private readonly fingerprint: string,
  ) {}

  /** Starts LXD and prepares pools, network and image. Cleanup is registered. */
  static async setup(tag: string, tarball: Buffer, btrfsSize: string): Promise<LxdSide> {
    const lxd = await LxdDaemon.start(tag);
    onCleanup(`LXD daemon and dir ${lxd.dir}`, () => lxd.close());
    const side = new LxdSide(lxd, `${tag}l`, createHash('sha256').update(tarball).digest('hex'));

    await lxd.sync('POST', '/1.0/storage-pools', { name: POOLS.dir, driver: 'dir', config: {} });
    await lxd.sync('POST', '/1.0/storage-pools', { name: POOLS.btrfs, driver: 'btrfs', config: { size: btrfsSize } });
    await lxd.sync('POST', '/1.0/networks', {
      name: side.network,
      type: 'bridge',
      config: {
        'ipv4.address': SUBNETS.lxd,
        'ipv4.nat': 'false',
        'ipv4.firewall': 'false',
        'ipv6.address': 'none',
        'ipv6.firewall': 'false',
      },
    });
    onCleanup('LXD objects', async () => {
      const names = ((await lxd.sync('GET', '/1.0/instances')) as string[]).map((u) => u.split('/').pop()!);
      for (const n of names) {
        await lxd.async('PUT', `/1.0/instances/${n}/state`, { action: 'stop', force: true }).catch(() => undefined);
        await lxd.async('DELETE', `/1.0/instances/${n}`);
      }
      await lxd.async('DELETE', `/1.0/images/${side.fingerprint}`).catch(() => undefined);
      await lxd.sync('DELETE', `/1.0/networks/${side.network}`);
      for (const p of Object.values(POOLS)) await lxd.sync('DELETE', `/1.0/storage-pools/${p}`);
    });
    await lxd.async('POST', '/1.0/images', tarball);
    return side;
  }

  async createStart(name: string, storage: BenchStorage): Promise<void> {
    await this.lxd.async('POST', '/1.0/instances', {
      name,
      type: 'container',
      source: { type: 'image', fingerprint: this.fingerprint },
      profiles: [],
      config: {},
      devices: {
        root: { type: 'disk', path: '/', pool: POOLS[storage] },
        eth0: { type: 'nic', network: this.network, name: 'eth0' },
      },
    });
    await this.lxd.async('PUT', `/1.0/instances/${name}/state`, { action: 'start', timeout: -1 });
  }

  async stop(name: string): Promise<void> {
    await this.lxd.async('PUT', `/1.0/instances/${name}/state`, { action: 'stop', force: true, timeout: -1 });
  }

  async delete(name: string): Promise<void> {
    await this.lxd.async('DELETE', `/1.0/instances/${name}`);
  }
}
