/**
 * The idmap of unprivileged instances, from /etc/subuid and /etc/subgid (shadow-utils format
 * `user:start:count`): container ids [0, size) map to host ids [start, start + size).
 */
import { readFile } from 'node:fs/promises';
import { errors } from '../shared/index.js';
import type { IdmapRange } from './types.js';

/** Ids mapped per instance (LXD's default for a container: 65536). */
export const IDMAP_SIZE = 65536;

/** Parses a subid file and returns the first range of `user` with at least `size` ids. */
export function parseSubids(text: string, user: string, size: number): IdmapRange | undefined {
  for (const line of text.split('\n')) {
    const [u, start, count] = line.trim().split(':');
    if (u !== user || start === undefined || count === undefined) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c >= size) return { hostStart: s, size };
  }
  return undefined;
}

/**
 * Reads the idmap for `user` (default root) from /etc/subuid and /etc/subgid. Both files must give
 * the same start (one range maps uids and gids alike); FAILED_PRECONDITION otherwise.
 */
export async function readIdmap(
  user = 'root',
  files: { readonly subuid: string; readonly subgid: string } = { subuid: '/etc/subuid', subgid: '/etc/subgid' },
): Promise<IdmapRange> {
  const read = async (f: string): Promise<string> => {
    try {
      return await readFile(f, 'utf8');
    } catch (err) {
      throw errors.precondition(`Cannot read "${f}" for unprivileged instances: ${(err as Error).message}`);
    }
  };
  const uid = parseSubids(await read(files.subuid), user, IDMAP_SIZE);
  const gid = parseSubids(await read(files.subgid), user, IDMAP_SIZE);
  if (!uid || !gid) {
    throw errors.precondition(`No subordinate id range of ${IDMAP_SIZE} ids for "${user}" in ${files.subuid} and ${files.subgid}`);
  }
  if (uid.hostStart !== gid.hostStart) {
    throw errors.precondition(`Subordinate uid and gid ranges of "${user}" start at different ids (${uid.hostStart}, ${gid.hostStart})`);
  }
  return uid;
}
