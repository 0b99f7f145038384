/**
 * Helpers shared by storage drivers: LXD's on-pool layout, name and config validation, per-volume
 * locks, temp names swept after a crash, and usage figures (statfs, du). Nothing here knows a
 * particular driver, so lvm/zfs drivers can reuse it.
 */
import { lstat, mkdir, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { errors, randomHex } from '../../../shared/index.js';
import { parseByteSize } from '../../../shared/units.js';
import { run } from '../../exec.js';
import type { ConfigMap, PoolSpec, VolumeRef } from '../../types.js';
import type { PoolUsage } from '../storage-driver.js';

/** Directory of each volume type inside a pool, and of its snapshots (LXD layout). */
export const VOLUME_DIRS: Readonly<Record<VolumeRef['type'], { readonly dir: string; readonly snapshots?: string }>> = {
  container: { dir: 'containers', snapshots: 'containers-snapshots' },
  image: { dir: 'images' },
  custom: { dir: 'custom', snapshots: 'custom-snapshots' },
};

/** Modes LXD gives the pool's top-level directories (snapshots and images are root-only). */
export const POOL_DIR_MODES: Readonly<Record<string, number>> = {
  containers: 0o711,
  'containers-snapshots': 0o700,
  images: 0o700,
  custom: 0o711,
  'custom-snapshots': 0o700,
};

/** Prefix of in-progress entries (never a valid volume name, swept on mount). */
export const TMP_PREFIX = '.shoal-tmp-';

/** A sibling temp name for `name` in `dir`. */
export function tmpPath(dir: string, name: string): string {
  return join(dir, `${TMP_PREFIX}${name}-${randomHex(4)}`);
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.+@:-]{0,254}$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Throws INVALID_ARGUMENT unless the volume name is safe as a single path component. */
export function checkVolumeRef(volume: VolumeRef): void {
  if (volume.type === 'image') {
    if (!FINGERPRINT.test(volume.name)) throw errors.invalid(`Invalid image volume name "${volume.name}"`);
    return;
  }
  if (!NAME.test(volume.name)) throw errors.invalid(`Invalid ${volume.type} volume name "${volume.name}"`);
}

export function checkSnapshotName(name: string): void {
  if (!NAME.test(name)) throw errors.invalid(`Invalid snapshot name "${name}"`);
}

export function checkPoolName(name: string): void {
  if (!NAME.test(name) || name.includes(':') || name.includes('@')) throw errors.invalid(`Invalid storage pool name "${name}"`);
}

/** Throws INVALID_ARGUMENT naming the first key not in `allowed` (user.* keys are always allowed). */
export function checkConfigKeys(driver: string, config: ConfigMap, allowed: readonly string[]): void {
  for (const key of Object.keys(config)) {
    if (key.startsWith('user.') || allowed.includes(key)) continue;
    throw errors.invalid(`Invalid pool config key "${key}" for the "${driver}" driver`);
  }
}

/** Parses an optional byte-size config key (INVALID_ARGUMENT when malformed or not positive). */
export function sizeKey(config: ConfigMap, key: string): number | undefined {
  const raw = config[key];
  if (raw === undefined || raw === '') return undefined;
  const n = parseByteSize(raw, key);
  if (n <= 0) throw errors.invalid(`Invalid value for "${key}": must be greater than zero`);
  return n;
}

export function checkAbort(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw errors.cancelled(`${what} cancelled`);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Creates the pool's volume directories with LXD's modes. */
export async function makePoolDirs(root: string): Promise<void> {
  for (const [d, mode] of Object.entries(POOL_DIR_MODES)) {
    await mkdir(join(root, d), { recursive: true, mode });
  }
}

/** Entries of `dir` that are volumes or snapshots (no temp entries); [] when `dir` is missing. */
export async function listNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** All entries of `dir`; [] when it is missing or not a directory. */
async function listNamesRaw(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/** Leftover temp entries (from a crash) in the pool's volume directories. */
export async function listTempEntries(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of Object.keys(POOL_DIR_MODES)) {
    const dir = join(root, d);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const n of names) {
      if (n.startsWith(TMP_PREFIX)) out.push(join(dir, n));
    }
    if (d.endsWith('-snapshots')) {
      for (const vol of names.filter((n) => !n.startsWith('.'))) {
        for (const s of await listNamesRaw(join(dir, vol))) {
          if (s.startsWith(TMP_PREFIX)) out.push(join(dir, vol, s));
        }
      }
    }
  }
  return out;
}

/** Filesystem totals of the filesystem holding `path` (statfs). */
export async function statfsUsage(path: string): Promise<PoolUsage> {
  const s = await statfs(path);
  return { totalBytes: s.blocks * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize };
}

/** Disk space used by the tree at `path`, in bytes (`du -s -B1 -x`). */
export async function duBytes(path: string, signal: AbortSignal): Promise<number> {
  const out = await run('du', ['-s', '-B1', '-x', path], { signal });
  const n = Number(out.stdout.split(/\s/)[0]);
  if (!Number.isFinite(n)) throw errors.internal(`Unexpected du output for "${path}": ${out.stdout}`);
  return n;
}

/** Serialises work per key (one in-flight operation per volume) inside this process. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** Host path of a pool's mount point / directory. */
export function poolMountPath(storagePools: string, pool: PoolSpec): string {
  return join(storagePools, pool.name);
}
