/**
 * cloud-init NoCloud seed: `cloud-init.user-data`, `cloud-init.vendor-data`,
 * `cloud-init.network-config` and `cloud-init.meta-data` (falling back to LXD's older `user.*`
 * names) become files in /var/lib/cloud/seed/nocloud-net/ inside the instance, written on create
 * and on every start through the safe rootfs file API. Nothing is written when none of them is
 * set. meta-data defaults to LXD's `instance-id: <name>` / `local-hostname: <name>`; a configured
 * meta-data replaces it. Seed files no longer configured are removed.
 */
import { isShoalError, ErrorCode } from '../../../shared/index.js';
import type { InstanceFiles } from '../../files/instance-files.js';
import type { InstanceSpec } from '../../types.js';

/** The NoCloud seed directory inside the instance. */
export const SEED_DIR = '/var/lib/cloud/seed/nocloud-net';

const FILES = ['meta-data', 'user-data', 'vendor-data', 'network-config'] as const;
type SeedFile = (typeof FILES)[number];

/** The seed files for `spec`, or null when no cloud-init key is set. Pure. */
export function cloudInitSeed(spec: InstanceSpec): Partial<Record<SeedFile, string>> | null {
  const get = (f: SeedFile): string | undefined => spec.config[`cloud-init.${f}`] ?? spec.config[`user.${f}`];
  if (FILES.every((f) => get(f) === undefined)) return null;
  const seed: Partial<Record<SeedFile, string>> = {
    'meta-data': get('meta-data') ?? `instance-id: ${spec.name}\nlocal-hostname: ${spec.name}\n`,
  };
  for (const f of ['user-data', 'vendor-data', 'network-config'] as const) {
    const v = get(f);
    if (v !== undefined) seed[f] = v;
  }
  return seed;
}

/**
 * Writes the seed for `spec` into the instance (root-owned, 0600; directories 0755) and removes
 * stale seed files. Returns the paths written (for a revert), empty when there is no seed.
 */
export async function writeCloudInitSeed(files: InstanceFiles, spec: InstanceSpec): Promise<string[]> {
  const seed = cloudInitSeed(spec);
  if (seed === null) return [];
  await files.push(SEED_DIR, { type: 'directory', uid: 0, gid: 0, mode: 0o755 }, { createParents: true });
  const written: string[] = [];
  for (const f of FILES) {
    const path = `${SEED_DIR}/${f}`;
    const content = seed[f];
    if (content !== undefined) {
      await files.push(path, { type: 'file', content, uid: 0, gid: 0, mode: 0o600 });
      written.push(path);
      continue;
    }
    try {
      await files.delete(path);
    } catch (err) {
      if (!isShoalError(err, ErrorCode.NotFound)) throw err;
    }
  }
  return written;
}
