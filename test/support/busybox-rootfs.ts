/**
 * Builds a minimal busybox root filesystem for LXC tests (until the storage branch's image builder
 * is used): Debian's static /bin/busybox, applet symlinks, passwd/group with root and a uid-1000
 * user, an inittab that runs /etc/init.d/rcS and keeps a shell on the console. Owned by host root
 * (the rootfs is idmapped at start). Test-only; no network, no downloads.
 */
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/node-agent/exec.js';

const DIRS = ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc/init.d', 'dev', 'proc', 'sys', 'tmp', 'root', 'home/user', 'var/log', 'run', 'mnt'];

/** Creates `<dir>/rootfs` (dir must exist, traversable by the container's root, e.g. 0711). */
export async function buildBusyboxRootfs(dir: string): Promise<string> {
  const root = join(dir, 'rootfs');
  for (const d of DIRS) await mkdir(join(root, d), { recursive: true, mode: 0o755 });
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile('/usr/bin/busybox', join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  const applets = (await run('/usr/bin/busybox', ['--list-full'])).stdout.split('\n').filter(Boolean);
  for (const a of applets) {
    if (a === 'bin/busybox') continue;
    await symlink('/bin/busybox', join(root, a)).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
    });
  }
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nuser:x:1000:\n');
  await writeFile(join(root, 'etc/init.d/rcS'), '#!/bin/sh\necho "shoal-test rcS ran"\n', { mode: 0o755 });
  await writeFile(join(root, 'etc/inittab'), '::sysinit:/etc/init.d/rcS\nconsole::respawn:/bin/sh\n');
  await run('chown', ['-R', '1000:1000', join(root, 'home/user')]);
  return root;
}
