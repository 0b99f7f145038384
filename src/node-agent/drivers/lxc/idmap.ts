/**
 * Unprivileged id mapping: which host uids/gids an instance's ids 0..size-1 map to. The service
 * derives the range once from /etc/subuid and /etc/subgid (the ranges delegated to root) and puts it
 * in every unprivileged InstanceRuntime. `pickIdmap` is pure; `readHostIdmap` reads the two files.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, errors, wrap } from '../../../shared/index.js';
import type { IdmapRange } from '../../types.js';

/** One line of /etc/subuid or /etc/subgid: `owner:start:count`. */
export interface SubIdEntry {
  readonly owner: string;
  readonly start: number;
  readonly count: number;
}

/** The smallest range an instance can use (a full 16-bit id space, as LXD requires). */
export const MIN_IDMAP_SIZE = 65536;

/** Parses subuid/subgid text; ignores blank lines, comments and malformed lines. */
export function parseSubIds(text: string): SubIdEntry[] {
  const out: SubIdEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([^:\s]+):(\d+):(\d+)$/.exec(line);
    if (!m) continue;
    const start = Number(m[2]);
    const count = Number(m[3]);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || count <= 0) continue;
    out.push({ owner: m[1] as string, start, count });
  }
  return out;
}

/** Result of {@link pickIdmap}: a range, or why there is none. */
export type IdmapPick = { readonly ok: true; readonly range: IdmapRange } | { readonly ok: false; readonly reason: string };

/**
 * Picks the id range for unprivileged instances: the first overlap (in subuid order) of a subuid
 * range and a subgid range delegated to `owner` (by name or numeric uid), of at least
 * {@link MIN_IDMAP_SIZE} ids. One range serves both uids and gids, so the overlap must be common.
 * With the Debian default `root:100000:65536` in both files this is `{hostStart: 100000, size: 65536}`.
 */
export function pickIdmap(subuid: string, subgid: string, owner = 'root', ownerUid = 0): IdmapPick {
  const mine = (e: SubIdEntry): boolean => e.owner === owner || e.owner === String(ownerUid);
  const uids = parseSubIds(subuid).filter(mine);
  const gids = parseSubIds(subgid).filter(mine);
  if (uids.length === 0) return { ok: false, reason: `no subordinate uid range for "${owner}" in /etc/subuid` };
  if (gids.length === 0) return { ok: false, reason: `no subordinate gid range for "${owner}" in /etc/subgid` };
  for (const u of uids) {
    for (const g of gids) {
      const start = Math.max(u.start, g.start);
      const end = Math.min(u.start + u.count, g.start + g.count);
      if (end - start >= MIN_IDMAP_SIZE) return { ok: true, range: { hostStart: start, size: end - start } };
    }
  }
  return {
    ok: false,
    reason: `no range of at least ${MIN_IDMAP_SIZE} ids delegated to "${owner}" in both /etc/subuid and /etc/subgid`,
  };
}

/** Reads /etc/subuid and /etc/subgid (or the given files) and picks root's range. FAILED_PRECONDITION if none. */
export async function readHostIdmap(subuidPath = '/etc/subuid', subgidPath = '/etc/subgid'): Promise<IdmapRange> {
  let subuid: string;
  let subgid: string;
  try {
    [subuid, subgid] = await Promise.all([readFile(subuidPath, 'utf8'), readFile(subgidPath, 'utf8')]);
  } catch (err) {
    throw wrap(err, 'Failed reading subordinate id ranges', ErrorCode.FailedPrecondition);
  }
  const pick = pickIdmap(subuid, subgid);
  if (!pick.ok) throw errors.precondition(`Unprivileged instances need an id range: ${pick.reason}`);
  return pick.range;
}

/** The `lxc.idmap` lines for a range. */
export function idmapLines(range: IdmapRange): string[] {
  return [`u 0 ${range.hostStart} ${range.size}`, `g 0 ${range.hostStart} ${range.size}`];
}

/** The host id an instance id maps to (identity for privileged instances). */
export function hostId(range: IdmapRange | null, id: number): number {
  return range === null ? id : range.hostStart + id;
}
