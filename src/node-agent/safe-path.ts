/**
 * Host access to paths inside an instance's root filesystem that the instance itself may have
 * booby-trapped with symlinks. A path is resolved component by component the way the instance
 * would see it (absolute symlink targets restart at the rootfs, relative ones continue from the
 * link's directory); any `..` or symlink that would climb above the rootfs is refused with
 * PERMISSION_DENIED, and the final open uses O_NOFOLLOW. Callers use this while the instance is
 * not running (templates are applied before start), so the checks are not racing the instance.
 */
import { constants } from 'node:fs';
import { chown, lstat, mkdir, open, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, ShoalError } from '../shared/index.js';

const MAX_SYMLINKS = 40;

/** Options of {@link resolveInRoot}. */
export interface ResolveOptions {
  /** Follow a symlink in the last component too (default true: what open() inside the instance does). */
  readonly followFinal?: boolean;
}

function escape(path: string): ShoalError {
  return new ShoalError(ErrorCode.PermissionDenied, `Path "${path}" escapes the instance's root filesystem`);
}

/**
 * Resolves `path` (as seen inside the instance; relative paths are taken from its root) to a host
 * path under `root`. Missing components are allowed (the result names where they would be).
 */
export async function resolveInRoot(root: string, path: string, options: ResolveOptions = {}): Promise<string> {
  return join(root, ...(await resolveParts(root, path, options)).parts);
}

/**
 * `parts`: the resolved components; `missingFrom`: the index of the first one that does not
 * exist (every one before it was found a real directory), or -1 when all exist.
 */
async function resolveParts(root: string, path: string, options: ResolveOptions): Promise<{ parts: string[]; missingFrom: number }> {
  const followFinal = options.followFinal ?? true;
  const resolved: string[] = [];
  let queue = path.split('/').filter((p) => p !== '' && p !== '.');
  let hops = 0;
  let missing = false;
  let missingFrom = -1;
  while (queue.length > 0) {
    const c = queue.shift() as string;
    if (c === '.') continue;
    if (c === '..') {
      if (resolved.length === 0) throw escape(path);
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, c);
    if (missing) {
      resolved.push(c);
      continue;
    }
    let st;
    try {
      st = await lstat(host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing = true;
      missingFrom = resolved.length;
      resolved.push(c);
      continue;
    }
    const last = queue.length === 0;
    if (st.isSymbolicLink() && (!last || followFinal)) {
      if (++hops > MAX_SYMLINKS) {
        throw new ShoalError(ErrorCode.InvalidArgument, `Too many levels of symbolic links in "${path}"`);
      }
      const target = await readlink(host);
      if (target.startsWith('/')) resolved.length = 0;
      queue = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...queue];
      continue;
    }
    if (!last && !st.isDirectory()) {
      throw new ShoalError(ErrorCode.InvalidArgument, `Path "${path}": "/${[...resolved, c].join('/')}" is not a directory`);
    }
    resolved.push(c);
  }
  return { parts: resolved, missingFrom };
}

/** Options of {@link writeFileInRoot}. */
export interface WriteInRootOptions {
  /** Mode of a new file (an existing file keeps its mode and owner). Default 0o644. */
  readonly mode?: number;
  /** Host uid/gid owning new files and directories (the instance's root as seen from the host). */
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Writes `content` to `path` inside the rootfs at `root`, creating missing parent directories
 * (0755), never following a symlink out of the rootfs. Returns the host path written.
 */
export async function writeFileInRoot(
  root: string,
  path: string,
  content: string | Uint8Array,
  options: WriteInRootOptions = {},
): Promise<string> {
  const { parts: rel, missingFrom } = await resolveParts(root, path, {});
  const host = join(root, ...rel);
  if (rel.length === 0) throw new ShoalError(ErrorCode.InvalidArgument, `Path "${path}" is the root directory`);
  // Create missing parents one at a time; each must end up a real directory (not a symlink).
  // Parents the resolution found to be real directories need no second look.
  const firstMissing = missingFrom < 0 ? rel.length - 1 : Math.min(missingFrom, rel.length - 1);
  let dir = join(root, ...rel.slice(0, firstMissing));
  for (const part of rel.slice(firstMissing, -1)) {
    dir = join(dir, part);
    try {
      await mkdir(dir, { mode: 0o755 });
      if (options.uid !== undefined) await chown(dir, options.uid, options.gid ?? options.uid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!(await lstat(dir)).isDirectory()) throw escape(path);
  }
  let created = false;
  let fh;
  try {
    fh = await open(host, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw escape(path);
    if (code !== 'ENOENT') throw err;
    fh = await open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode ?? 0o644);
    created = true;
  }
  try {
    if (created) {
      await fh.chmod(options.mode ?? 0o644);
      if (options.uid !== undefined) await fh.chown(options.uid, options.gid ?? options.uid);
    }
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
  return host;
}
