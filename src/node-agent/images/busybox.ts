/**
 * Builds a small LXD unified image from Debian's `busybox-static` (`shoal image build busybox`):
 * metadata.yaml, templates/ (hostname, hosts; on create, copy and start) and rootfs/ with
 * /bin/busybox, its applets as hard links, busybox init configuration (DHCP on eth0 when present),
 * users and the directories LXC's autodev needs. The output is deterministic: the same busybox
 * binary gives the same bytes, hence the same fingerprint.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { machine } from 'node:os';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { errors, wrap } from '../../shared/index.js';
import { run } from '../exec.js';
import * as files from './busybox-files.js';
import { canonicalArchitecture } from './metadata.js';
import { writeTar, type TarWriteEntry } from './tar-writer.js';

/** Default creation date and member mtime (2024-01-01T00:00:00Z): fixed so output is reproducible. */
export const BUSYBOX_IMAGE_EPOCH = 1704067200;

export interface BusyboxImageOptions {
  /** Static busybox binary to ship (default /bin/busybox from Debian's busybox-static). */
  readonly busyboxPath?: string;
  /** LXD architecture name; default the host's (`uname -m`, canonicalised as LXD does). */
  readonly architecture?: string;
  /** Epoch seconds for metadata.yaml `creation_date` and every member's mtime. */
  readonly creationDate?: number;
  /** 'none' (default, byte-for-byte reproducible anywhere) or 'gzip' (reproducible for one zlib). */
  readonly compression?: 'none' | 'gzip';
}

export interface BuiltImage {
  /** The unified tarball. */
  readonly tarball: Buffer;
  /** SHA-256 of `tarball`, as LXD computes the fingerprint. */
  readonly fingerprint: string;
  readonly architecture: string;
  /** Busybox version, e.g. "1.35.0". */
  readonly release: string;
}

/** Builds the busybox image in memory (about 2 MiB). */
export async function buildBusyboxImage(options: BusyboxImageOptions, signal: AbortSignal): Promise<BuiltImage> {
  const busyboxPath = options.busyboxPath ?? '/bin/busybox';
  const archRaw = options.architecture ?? machine();
  const architecture = canonicalArchitecture(archRaw);
  if (architecture === undefined) throw errors.invalid(`Unknown architecture "${archRaw}"`);
  const mtime = options.creationDate ?? BUSYBOX_IMAGE_EPOCH;

  let binary: Buffer;
  let banner: string;
  let applets: string;
  try {
    binary = await readFile(busyboxPath);
    banner = (await run(busyboxPath, [], { signal })).stdout;
    applets = (await run(busyboxPath, ['--list-full'], { signal })).stdout;
  } catch (err) {
    throw wrap(err, `Failed reading busybox from "${busyboxPath}" (install busybox-static)`);
  }
  const release = /BusyBox v(\d+(?:\.\d+)*)/.exec(banner)?.[1];
  if (!release) throw errors.precondition(`"${busyboxPath}" does not look like busybox`);

  const metadata = stringify({
    architecture,
    creation_date: mtime,
    properties: {
      architecture,
      description: `Busybox ${release} ${architecture} (Shoal)`,
      name: `busybox-${release}-${architecture}`,
      os: 'busybox',
      release,
    },
    templates: {
      '/etc/hostname': { when: ['create', 'copy', 'start'], template: 'hostname.tpl' },
      '/etc/hosts': { when: ['create', 'copy', 'start'], template: 'hosts.tpl' },
    },
  });

  const rootfs: TarWriteEntry[] = [
    ...['bin', 'dev', 'etc', 'etc/init.d', 'home', 'mnt', 'proc', 'run', 'sbin', 'sys', 'usr', 'usr/bin', 'usr/sbin']
      .concat(['usr/share', 'usr/share/udhcpc', 'var', 'var/log'])
      .map((p): TarWriteEntry => ({ type: 'directory', path: p, mode: 0o755 })),
    { type: 'directory', path: 'root', mode: 0o700 },
    { type: 'directory', path: 'tmp', mode: 0o1777 },
    { type: 'symlink', path: 'var/run', target: '../run' },
    { type: 'symlink', path: 'var/tmp', target: '../tmp' },
    { type: 'file', path: 'bin/busybox', mode: 0o755, content: binary },
    text('etc/inittab', files.INITTAB),
    text('etc/init.d/rcS', files.RCS, 0o755),
    text('etc/init.d/network', files.NETWORK, 0o755),
    text('usr/share/udhcpc/default.script', files.UDHCPC_SCRIPT, 0o755),
    text('etc/passwd', files.PASSWD),
    text('etc/group', files.GROUP),
    text('etc/shadow', files.SHADOW, 0o640),
    text('etc/profile', files.PROFILE),
    text('etc/hostname', files.HOSTNAME),
    text('etc/hosts', files.HOSTS),
    text('etc/resolv.conf', ''),
  ];
  rootfs.sort(byPath);
  // Applets are hard links to /bin/busybox, after it in the archive: one inode instead of ~270,
  // which makes unpacking and `cp -a` several times faster than symlinks (each new inode costs).
  const taken = new Set(rootfs.map((e) => e.path));
  const links: TarWriteEntry[] = [];
  for (const line of applets.split('\n')) {
    const p = line.trim();
    if (p === '' || !p.includes('/') || taken.has(p) || !/^[a-z0-9_./[\]-]+$/i.test(p)) continue;
    links.push({ type: 'hardlink', path: p, target: 'rootfs/bin/busybox' });
    taken.add(p);
  }
  rootfs.push(...links.sort(byPath));

  const entries: TarWriteEntry[] = [
    text('metadata.yaml', metadata),
    { type: 'directory', path: 'rootfs', mode: 0o755 },
    ...rootfs.map((e) => ({ ...e, path: `rootfs/${e.path}` })),
    { type: 'directory', path: 'templates', mode: 0o755 },
    text('templates/hostname.tpl', files.HOSTNAME_TEMPLATE),
    text('templates/hosts.tpl', files.HOSTS_TEMPLATE),
  ];
  const tar = writeTar(entries, mtime);
  const tarball = options.compression === 'gzip' ? gzipSync(tar, { level: 9 }) : tar;
  return { tarball, fingerprint: createHash('sha256').update(tarball).digest('hex'), architecture, release };
}

function byPath(a: TarWriteEntry, b: TarWriteEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function text(path: string, content: string, mode = 0o644): TarWriteEntry {
  return { type: 'file', path, mode, content: Buffer.from(content, 'utf8') };
}
