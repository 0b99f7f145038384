/**
 * The raw LXC floor of the agent benchmark: what a create+start costs with nothing but the lxc
 * tools, done by hand on the same storage with an equivalent unprivileged config.
 * - dir: the image is unpacked once into a directory; an instance is `cp -a --reflink=auto` of
 *   its rootfs (what the dir driver does).
 * - btrfs: a btrfs filesystem on its own loop file; the image is unpacked once into a subvolume;
 *   an instance is `btrfs subvolume snapshot` of it.
 * - The LXC config is the one our driver renders for the same runtime (same idmap, mounts,
 *   seccomp, one veth nic on a bridge), minus our stop hook: only the machinery is missing.
 * - The nic joins a plain bridge made here (no DHCP server: the floor needs none to start).
 * create+start = mkdir + copy/snapshot + write config + `lxc-start -d` (waits for RUNNING);
 * stop = `lxc-stop -k`; delete = remove the instance dir and the volume.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeHostFeatures } from '../../src/node-agent/drivers/lxc/host-features.js';
import { renderLxcConfig } from '../../src/node-agent/drivers/lxc/lxc-config.js';
import { parseByteSize } from '../../src/shared/units.js';
import { run } from '../../src/node-agent/exec.js';
import type { InstanceRuntime } from '../../src/node-agent/types.js';
import { releaseHostObjectsUnder } from '../../test/support/storage-cleanup.js';
import { onCleanup } from './cleanup.js';
import { SUBNETS, type BenchSide, type BenchStorage } from './side.js';
import type { HostFeatures } from '../../src/node-agent/drivers/lxc/host-features.js';

export class FloorSide implements BenchSide {
  readonly label = 'floor';
  private readonly storageOf = new Map<string, BenchStorage>();

  private constructor(
    private readonly dir: string,
    private readonly tag: string,
    private readonly bridge: string,
    private readonly features: HostFeatures,
  ) {}

  private get lxcpath(): string {
    return join(this.dir, 'containers');
  }

  /** Prepares the bridge, the unpacked image (dir and btrfs) and the LXC path. Cleanup is registered. */
  static async setup(tag: string, tarball: Buffer, btrfsSize: string): Promise<FloorSide> {
    const dir = await mkdtemp(join(tmpdir(), `shoal-${tag}-floor-`));
    await chmod(dir, 0o711);
    onCleanup(`floor dir ${dir}`, async () => {
      await releaseHostObjectsUnder(dir);
      await rm(dir, { recursive: true, force: true });
    });
    const bridge = `${tag}f`;
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    onCleanup(`bridge ${bridge}`, async () => void (await run('ip', ['link', 'del', bridge], { okCodes: [0, 1] })));
    await run('ip', ['addr', 'add', SUBNETS.floor, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
    const side = new FloorSide(dir, tag, bridge, await probeHostFeatures());
    onCleanup('floor containers', async () => {
      for (const name of side.storageOf.keys()) await run('lxc-stop', ['-P', side.lxcpath, '-n', name, '-k'], { okCodes: [0, 1, 2] });
    });
    await mkdir(side.lxcpath, { mode: 0o711 });
    for (const d of ['dir', 'dir/containers']) await mkdir(join(dir, d), { mode: 0o711 });
    // dir: the image unpacked once.
    await mkdir(join(dir, 'dir/image'), { mode: 0o700 });
    await run('tar', ['-xf', '-', '-C', join(dir, 'dir/image'), '--numeric-owner'], { input: tarball });
    // btrfs: its own loop-backed filesystem, the image unpacked once into a subvolume.
    const img = join(dir, 'btrfs.img');
    await run('truncate', ['-s', String(parseByteSize(btrfsSize)), img]);
    await run('mkfs.btrfs', ['-q', img]);
    await mkdir(join(dir, 'btrfs'), { mode: 0o711 });
    await run('mount', ['-o', 'loop,user_subvol_rm_allowed', img, join(dir, 'btrfs')]);
    await mkdir(join(dir, 'btrfs/containers'), { mode: 0o711 });
    await run('btrfs', ['subvolume', 'create', join(dir, 'btrfs/image')]);
    await run('tar', ['-xf', '-', '-C', join(dir, 'btrfs/image'), '--numeric-owner'], { input: tarball });
    return side;
  }

  private volume(name: string, storage: BenchStorage): string {
    return join(this.dir, storage, 'containers', name);
  }

  async createStart(name: string, storage: BenchStorage): Promise<void> {
    this.storageOf.set(name, storage);
    const volumePath = this.volume(name, storage);
    const instanceDir = join(this.lxcpath, name);
    const runtime: InstanceRuntime = {
      spec: { name, project: 'default', ephemeral: false, config: {}, devices: {} },
      hostName: name,
      volumePath,
      nics: [
        {
          device: 'eth0',
          ifname: 'eth0',
          kind: 'bridged',
          parent: this.bridge,
          hwaddr: `00:16:3e:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`,
          hostName: `${this.tag}${randomBytes(4).toString('hex')}`,
        },
      ],
      disks: [],
      unixDevices: [],
      idmap: { hostStart: 100000, size: 65536 },
    };
    const config = renderLxcConfig(runtime, { features: this.features, instanceDir, stopHook: null, diskKinds: {} });
    await mkdir(instanceDir, { mode: 0o711 });
    if (storage === 'dir') {
      await mkdir(volumePath, { mode: 0o711 });
      await run('cp', ['-a', '--reflink=auto', join(this.dir, 'dir/image/rootfs'), join(volumePath, 'rootfs')]);
    } else {
      await run('btrfs', ['subvolume', 'snapshot', join(this.dir, 'btrfs/image'), volumePath]);
    }
    await writeFile(join(instanceDir, 'config'), config, { mode: 0o640 });
    await run('lxc-start', ['-P', this.lxcpath, '-n', name, '-d']);
  }

  async stop(name: string): Promise<void> {
    await run('lxc-stop', ['-P', this.lxcpath, '-n', name, '-k'], { okCodes: [0, 2] });
  }

  async delete(name: string): Promise<void> {
    const storage = this.storageOf.get(name) ?? 'dir';
    await rm(join(this.lxcpath, name), { recursive: true, force: true });
    if (storage === 'btrfs') await run('btrfs', ['subvolume', 'delete', this.volume(name, storage)]);
    else await rm(this.volume(name, storage), { recursive: true, force: true });
    this.storageOf.delete(name);
  }
}
