/**
 * Host-side preparation of devices before rendering or starting (the I/O half of
 * lxc-config-devices.ts): the kind of each disk source (dir/file/missing), and the device nodes
 * that unix-char/unix-block devices bind-mount. An unprivileged container cannot mknod, so the
 * agent makes the node at `<instanceDir>/devices/unix.<device>` (host root can), owned by the
 * mapped uid/gid (so it shows as the requested uid/gid inside) with the requested mode, like LXD's
 * `devices/<instance>/unix.*` nodes. Idempotent: a node with the right type and numbers is kept.
 */
import { chmod, chown, lstat, mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errors } from '../../../shared/index.js';
import { run } from '../../exec.js';
import type { InstanceRuntime } from '../../types.js';
import { hostId } from './idmap.js';
import { unixDeviceNodePath, type DiskSourceKind } from './lxc-config-devices.js';
import { isTrue } from './units.js';

/**
 * Makes the instance volume traversable by an unprivileged instance's root. LXC mounts the
 * (idmapped) rootfs as the mapped root when it restarts an instance after a reboot from inside,
 * so every directory on the way must have o+x, as LXD keeps its storage directories at 0711. The
 * volume directory itself gets g+x,o+x added; a parent without o+x is FAILED_PRECONDITION (checked
 * at create, see {@link checkVolumeParents}; the start path only fixes the volume directory, which
 * a snapshot restore may recreate).
 */
export async function ensureVolumeTraversable(runtime: InstanceRuntime, opts: { readonly parents: boolean } = { parents: true }): Promise<void> {
  if (runtime.idmap === null) return;
  const st = await stat(runtime.volumePath);
  if ((st.mode & 0o011) !== 0o011) await chmod(runtime.volumePath, (st.mode & 0o7777) | 0o011);
  if (opts.parents) await checkVolumeParents(runtime);
}

/**
 * FAILED_PRECONDITION unless every parent directory of the instance volume is traversable by
 * unprivileged instances (o+x). Needs only the parents: it can run while the volume is made.
 */
export async function checkVolumeParents(runtime: InstanceRuntime): Promise<void> {
  if (runtime.idmap === null) return;
  for (let dir = dirname(runtime.volumePath); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw errors.precondition(
        `Instance "${runtime.spec.name}": "${dir}" must be traversable by unprivileged instances (mode o+x, e.g. 0711)`,
      );
    }
    if (dir === '/') break;
  }
}

/** Linux dev_t → major (glibc gnu_dev_major). */
export function devMajor(rdev: number): number {
  const r = BigInt(rdev);
  return Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn));
}

/** Linux dev_t → minor (glibc gnu_dev_minor). */
export function devMinor(rdev: number): number {
  const r = BigInt(rdev);
  return Number((r & 0xffn) | ((r >> 12n) & ~0xffn));
}

/** Stats every disk source. A missing source is INVALID_ARGUMENT unless the device says `required=false`. */
export async function statDiskSources(runtime: InstanceRuntime): Promise<Record<string, DiskSourceKind>> {
  const out: Record<string, DiskSourceKind> = {};
  for (const disk of runtime.disks) {
    try {
      out[disk.device] = (await stat(disk.source)).isDirectory() ? 'dir' : 'file';
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      const device = runtime.spec.devices[disk.device] ?? {};
      if (device['required'] !== undefined && !isTrue(device, 'required')) {
        out[disk.device] = 'missing';
        continue;
      }
      throw errors.invalid(`Invalid instance "${runtime.spec.name}": device "${disk.device}": source "${disk.source}" does not exist`);
    }
  }
  return out;
}

/** Creates (or fixes) the host nodes of the instance's unix devices. */
export async function ensureUnixDeviceNodes(runtime: InstanceRuntime, instanceDir: string): Promise<void> {
  if (runtime.unixDevices.length === 0) return;
  await mkdir(`${instanceDir}/devices`, { recursive: true, mode: 0o711 });
  await chmod(`${instanceDir}/devices`, 0o711);
  for (const dev of runtime.unixDevices) {
    const path = unixDeviceNodePath(instanceDir, dev.device);
    const want = dev.kind === 'unix-char' ? 'c' : 'b';
    const st = await lstat(path).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 'ENOENT') return null;
      throw err;
    });
    const sameNode =
      st !== null &&
      (want === 'c' ? st.isCharacterDevice() : st.isBlockDevice()) &&
      devMajor(st.rdev) === dev.major &&
      devMinor(st.rdev) === dev.minor;
    if (!sameNode) {
      if (st !== null) await rm(path, { force: true });
      await run('mknod', ['-m', '0600', path, want, String(dev.major), String(dev.minor)]);
    }
    await chown(path, hostId(runtime.idmap, dev.uid), hostId(runtime.idmap, dev.gid));
    await chmod(path, dev.mode);
  }
}
