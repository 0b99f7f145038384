/**
 * Block-device plumbing for storage drivers that put a filesystem on a loop file or a disk (btrfs
 * now; lvm/zfs later): loop attach/lookup/resize, mount-table lookup, filesystem probing. Loop
 * devices are detached lazily right after mounting (autoclear), so unmounting releases them and a
 * crash never strands one.
 */
import { readFile, readdir, readlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, errors, wrap } from '../../../shared/index.js';
import { run } from '../../exec.js';

/** One line of /proc/self/mountinfo. */
export interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
  readonly options: string;
}

/** Undoes mountinfo's octal escapes (`\040` for a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount table of this process's mount namespace. */
export async function readMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    const l = (left ?? '').split(' ');
    const r = (right ?? '').split(' ');
    out.push({
      mountPoint: unescape(l[4] ?? ''),
      options: l[5] ?? '',
      fsType: r[0] ?? '',
      source: unescape(r[1] ?? ''),
    });
  }
  return out;
}

/** The topmost mount at exactly `path`, if any. */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  const mounts = (await readMounts()).filter((m) => m.mountPoint === path);
  return mounts[mounts.length - 1];
}

/** Loop devices backed by `file` (normally at most one). */
export async function loopDevicesFor(file: string, signal: AbortSignal): Promise<string[]> {
  const out = await run('losetup', ['--list', '--noheadings', '--output', 'NAME', '--associated', file], { signal });
  return out.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Attaches `file` to a free loop device and returns its path. */
export async function attachLoop(file: string, signal: AbortSignal): Promise<string> {
  const out = await run('losetup', ['--find', '--show', file], { signal });
  const dev = out.stdout.trim();
  if (!dev.startsWith('/dev/loop')) throw errors.internal(`Unexpected losetup output "${dev}"`);
  return dev;
}

/** Detaches a loop device; while it is mounted this only marks it to go away on unmount. */
export async function detachLoop(dev: string, signal: AbortSignal): Promise<void> {
  await run('losetup', ['--detach', dev], { signal });
}

/**
 * Detaches every loop device backed by `file` and waits until none is left. The kernel may still
 * be tearing down an autoclear device right after an unmount (it then refuses the detach), so
 * this polls briefly instead of failing on that race.
 */
export async function releaseLoops(file: string, signal: AbortSignal, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const devs = await loopDevicesFor(file, signal);
    if (devs.length === 0) return;
    let lastErr: unknown;
    for (const dev of devs) {
      try {
        await detachLoop(dev, signal);
      } catch (err) {
        lastErr = err; // being cleared already (ENXIO) or still busy: look again shortly
      }
    }
    if (performance.now() > until) {
      const holders = await mountHolders(devs);
      const held = holders.length > 0 ? `; still mounted in the mount namespace of ${holders.join(', ')}` : '';
      throw wrap(lastErr ?? new Error('still attached'), `Loop device(s) ${devs.join(', ')} for "${file}" did not go away${held}`);
    }
    await delay(50, undefined, { signal });
  }
}

/**
 * Processes (`pid (comm)`, one per mount namespace other than ours, at most 5) whose mount table
 * still has a filesystem on one of `devs`: what keeps an unmounted loop device attached. For error
 * messages only; unreadable entries are skipped.
 */
async function mountHolders(devs: readonly string[]): Promise<string[]> {
  const own = await readlink('/proc/self/ns/mnt').catch(() => '');
  const seen = new Set<string>([own]);
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    if (out.length >= 5) break;
    try {
      const ns = await readlink(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      const table = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
      if (!devs.some((d) => table.includes(` ${d} `))) continue;
      out.push(`${pid} (${(await readFile(`/proc/${pid}/comm`, 'utf8')).trim()})`);
    } catch {
      continue; // the process exited or is not readable: it holds nothing we can name
    }
  }
  return out;
}

/** Makes the loop device pick up its backing file's new size. */
export async function refreshLoopSize(dev: string, signal: AbortSignal): Promise<void> {
  await run('losetup', ['--set-capacity', dev], { signal });
}

/** Filesystem type and label on a device (blkid low-level probe); type '' when blank. */
export async function probeFilesystem(dev: string, signal: AbortSignal): Promise<{ type: string; label: string }> {
  const out = await run('blkid', ['--probe', '--output', 'export', dev], { signal, okCodes: [0, 2] });
  const kv = new Map(
    out.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  return { type: kv.get('TYPE') ?? '', label: kv.get('LABEL') ?? '' };
}

/** mount(8) with options; FAILED_PRECONDITION with the stderr on failure. */
export async function mount(source: string, target: string, fsType: string, options: string, signal: AbortSignal): Promise<void> {
  try {
    await run('mount', ['-t', fsType, ...(options ? ['-o', options] : []), source, target], { signal });
  } catch (err) {
    throw wrap(err, `Failed mounting "${source}" on "${target}"`);
  }
}

/** umount(8); failure (a busy mount) is FAILED_PRECONDITION. Not mounted → no-op. */
export async function unmount(target: string, what: string, signal: AbortSignal): Promise<void> {
  if (!(await mountAt(target))) return;
  try {
    await run('umount', [target], { signal });
  } catch (err) {
    // Almost always "target is busy": something (a running instance) still uses the pool.
    throw wrap(err, `Failed unmounting ${what}`, ErrorCode.FailedPrecondition);
  }
}
