/**
 * Renders resolved devices into LXC config lines (part of the pure renderer):
 * - nic bridged → `veth` linked to the bridge, host-side name from the runtime; macvlan →
 *   `macvlan` in bridge mode on the parent. MAC, MTU and the name inside as given.
 * - disk → `lxc.mount.entry = <source> <path> none bind,create=dir|file[,ro] 0 0`. Bind mounts
 *   are idmapped (`idmap=container`: host uid N appears as N inside, like the rootfs) when the
 *   device says `shift=true` or the service marked it (custom volumes); otherwise host files keep
 *   their host ids and appear as the overflow id (nobody) inside an unprivileged container, as in
 *   LXD without shifting. `required=false` with a missing source adds `optional`.
 * - unix-char/unix-block → an unprivileged container cannot mknod, so (like LXD) the agent creates
 *   the node on the host at `<instanceDir>/devices/unix.<device>`, owned by the mapped uid/gid,
 *   and bind-mounts it; the devices cgroup allows its major:minor.
 */
import type { InstanceRuntime, ResolvedDisk, ResolvedUnixDevice } from '../../types.js';
import type { RenderContext } from './lxc-config.js';
import { isTrue } from './units.js';

/** What a disk device's source is on the host. */
export type DiskSourceKind = 'dir' | 'file' | 'missing';

/** fstab escaping for `lxc.mount.entry` fields (space, tab, backslash as octal escapes). */
export function fstabEscape(path: string): string {
  return path.replace(/[\\ \t]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** Host path of a unix device node the agent creates for bind-mounting. */
export function unixDeviceNodePath(instanceDir: string, device: string): string {
  return `${instanceDir}/devices/unix.${device}`;
}

/** True when a disk's bind mount is idmapped (see module doc). */
export function diskIsShifted(runtime: InstanceRuntime, disk: ResolvedDisk): boolean {
  if (runtime.idmap === null) return false;
  return disk.shift ?? isTrue(runtime.spec.devices[disk.device] ?? {}, 'shift');
}

function mountTarget(path: string): string {
  return fstabEscape(path.replace(/^\/+/, ''));
}

function unixRule(d: ResolvedUnixDevice): string {
  return `${d.kind === 'unix-char' ? 'c' : 'b'} ${d.major}:${d.minor} rwm`;
}

/** The device sections of the config. */
export function renderDevices(runtime: InstanceRuntime, ctx: RenderContext): string[] {
  const lines: string[] = [];
  const set = (key: string, value: string | number): void => void lines.push(`${key} = ${value}`);

  runtime.nics.forEach((nic, i) => {
    lines.push('', `# Device "${nic.device}" (nic, ${nic.kind})`);
    const k = `lxc.net.${i}`;
    if (nic.kind === 'bridged') {
      set(`${k}.type`, 'veth');
      set(`${k}.link`, nic.parent);
      if (nic.hostName !== undefined) set(`${k}.veth.pair`, nic.hostName);
    } else {
      set(`${k}.type`, 'macvlan');
      set(`${k}.macvlan.mode`, 'bridge');
      set(`${k}.link`, nic.parent);
    }
    set(`${k}.hwaddr`, nic.hwaddr);
    if (nic.mtu !== undefined) set(`${k}.mtu`, nic.mtu);
    set(`${k}.name`, nic.ifname);
    set(`${k}.flags`, 'up');
  });

  for (const disk of runtime.disks) {
    const kind = ctx.diskKinds[disk.device] ?? 'dir';
    const device = runtime.spec.devices[disk.device] ?? {};
    const opts = [isTrue(device, 'recursive') ? 'rbind' : 'bind', kind === 'file' ? 'create=file' : 'create=dir'];
    if (disk.readonly) opts.push('ro');
    if (diskIsShifted(runtime, disk)) opts.push('idmap=container');
    if (kind === 'missing') opts.push('optional');
    const prop = device['propagation'];
    if (prop !== undefined) opts.push(prop);
    lines.push('', `# Device "${disk.device}" (disk)`);
    set('lxc.mount.entry', `${fstabEscape(disk.source)} ${mountTarget(disk.path)} none ${opts.join(',')} 0 0`);
  }

  const devicesVersion = ctx.features.cgroup.devices;
  for (const dev of runtime.unixDevices) {
    lines.push('', `# Device "${dev.device}" (${dev.kind})`);
    if (devicesVersion !== undefined) set(devicesVersion === 'v1' ? 'lxc.cgroup.devices.allow' : 'lxc.cgroup2.devices.allow', unixRule(dev));
    set('lxc.mount.entry', `${fstabEscape(unixDeviceNodePath(ctx.instanceDir, dev.device))} ${mountTarget(dev.path)} none bind,create=file 0 0`);
  }
  return lines;
}
