/**
 * Safe path resolution inside an instance's root filesystem, seen from the host. Node has no
 * openat(2), so every step opens `/proc/self/fd/<dirfd>/<name>`: the kernel jumps to the directory
 * the open fd pins (a magic link) and resolves only `<name>` from there, with O_NOFOLLOW. That is
 * openat(dirfd, name, O_NOFOLLOW): renaming or swapping path components after we opened a
 * directory cannot redirect us, and a component that turns out to be a symlink is never followed
 * by the kernel; we read it and resolve it ourselves:
 * - absolute targets restart from the instance root (chroot semantics: `/etc` means the instance's
 *   /etc, never the host's);
 * - `..` (only possible inside symlink targets; request paths may not contain it) goes back to
 *   the directory we came from; `..` at the instance root is refused as an escape attempt
 *   (PERMISSION_DENIED) rather than clamped;
 * - at most 40 symlinks per resolution (ELOOP → INVALID_ARGUMENT).
 * Every opened object is also checked after opening: the realpath of `/proc/self/fd/<fd>` must be
 * the root or below it (belt and braces against anything the walk missed).
 */
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readlink, type FileHandle } from 'node:fs/promises';
import { ErrorCode, ShoalError } from '../../shared/index.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;
const MAX_SYMLINKS = 40;

/** The path of `name` inside the directory an open handle pins (the openat emulation). */
export function at(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/** Errors of the walk, phrased for the instance. */
export interface WalkErrors {
  notFound(path: string): ShoalError;
  escape(path: string): ShoalError;
  invalid(path: string, why: string): ShoalError;
}

/** Splits a request path into components. Refuses NUL bytes and `..` components (INVALID_ARGUMENT). */
export function splitRequestPath(path: string, errs: WalkErrors): string[] {
  if (path.includes('\0')) throw errs.invalid(path, 'contains a NUL byte');
  const parts = path.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw errs.invalid(path, 'must not contain ".." components');
  return parts;
}

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** The instance root, opened once per operation. */
export class RootHandle {
  private constructor(
    readonly handle: FileHandle,
    /** The root's real path on the host (what `/proc/self/fd/<fd>` of the root reads as). */
    readonly realPath: string,
    private readonly errs: WalkErrors,
  ) {}

  static async open(root: string, errs: WalkErrors): Promise<RootHandle> {
    let handle: FileHandle;
    try {
      handle = await open(root, O_RDONLY | O_DIRECTORY);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new ShoalError(ErrorCode.NotFound, `Root filesystem "${root}" not found`, { cause: err });
      throw err;
    }
    const realPath = await readlink(`/proc/self/fd/${handle.fd}`);
    return new RootHandle(handle, realPath, errs);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /** Throws PERMISSION_DENIED unless the object `h` refers to is the root or inside it. */
  async verifyInside(h: FileHandle, requested: string): Promise<void> {
    const p = (await readlink(`/proc/self/fd/${h.fd}`)).replace(/ \(deleted\)$/, '');
    if (p !== this.realPath && !p.startsWith(this.realPath === '/' ? '/' : `${this.realPath}/`)) throw this.errs.escape(requested);
  }

  /**
   * Resolves `components` as directories from the root, following symlinks as described above, and
   * returns a handle on the last one (the caller closes it; it may be `this.handle` itself when
   * `components` is empty — check with `=== root.handle` before closing). With `create`, missing
   * directories are made (mode/uid/gid applied through the new directory's handle).
   */
  async walkDir(
    components: readonly string[],
    requested: string,
    create?: { readonly uid: number; readonly gid: number; readonly mode: number },
  ): Promise<FileHandle> {
    const stack: FileHandle[] = [this.handle];
    const queue = [...components];
    let links = 0;
    const release = async (keep?: FileHandle): Promise<void> => {
      for (const h of stack) if (h !== this.handle && h !== keep) await h.close();
    };
    try {
      while (queue.length > 0) {
        const c = queue.shift() as string;
        if (c === '' || c === '.') continue;
        if (c === '..') {
          if (stack.length === 1) throw this.errs.escape(requested);
          await (stack.pop() as FileHandle).close();
          continue;
        }
        const cur = stack[stack.length - 1] as FileHandle;
        const next = await this.openDirAt(cur, c, requested, create);
        if (next !== null) {
          stack.push(next);
          continue;
        }
        // `c` is a symlink: resolve its target ourselves.
        links += 1;
        if (links > MAX_SYMLINKS) throw this.errs.invalid(requested, 'too many levels of symbolic links');
        let target: string;
        try {
          target = await readlink(at(cur, c));
        } catch (err) {
          const code = errno(err);
          if (code === 'ENOENT') throw this.errs.notFound(requested);
          if (code !== 'EINVAL') throw err;
          queue.unshift(c); // no longer a symlink (swapped meanwhile): look at it again
          continue;
        }
        if (target.startsWith('/')) {
          while (stack.length > 1) await (stack.pop() as FileHandle).close();
        }
        queue.unshift(...target.split('/'));
      }
      const last = stack[stack.length - 1] as FileHandle;
      await release(last);
      return last;
    } catch (err) {
      await release();
      throw err;
    }
  }

  /**
   * Opens directory `name` under `dir` without following a symlink; null when it is a symlink.
   * An entry that changes type between the open and the lstat (a concurrent swap) is retried.
   */
  private async openDirAt(
    dir: FileHandle,
    name: string,
    requested: string,
    create?: { readonly uid: number; readonly gid: number; readonly mode: number },
  ): Promise<FileHandle | null> {
    let created = false;
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        const h = await open(at(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        try {
          await this.verifyInside(h, requested);
        } catch (err) {
          await h.close();
          throw err;
        }
        return h;
      } catch (err) {
        const code = errno(err);
        if (code === 'ELOOP' || code === 'ENOTDIR') {
          const st = await lstatOrNull(at(dir, name));
          if (st?.isSymbolicLink()) return null;
          if (st === null || st.isDirectory()) continue; // swapped meanwhile: look again
          throw this.errs.invalid(requested, `"${name}" is not a directory`);
        }
        if (code === 'ENOENT' && create !== undefined && !created) {
          created = true;
          await mkdirAt(dir, name, create);
          continue;
        }
        if (code === 'ENOENT') throw this.errs.notFound(requested);
        throw err;
      }
    }
    throw new ShoalError(ErrorCode.Aborted, `Path "${requested}" keeps changing; try again`);
  }
}

async function mkdirAt(dir: FileHandle, name: string, opts: { readonly uid: number; readonly gid: number; readonly mode: number }): Promise<void> {
  try {
    await mkdir(at(dir, name), { mode: 0o700 });
  } catch (err) {
    if (errno(err) === 'EEXIST') return; // made concurrently: the caller re-opens and checks it
    throw err;
  }
  const h = await open(at(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    await h.chown(opts.uid, opts.gid);
    await h.chmod(opts.mode);
  } finally {
    await h.close();
  }
}

/** lstat through the pinned directory, or null when the entry does not exist. */
export async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    throw err;
  }
}

export { errno as errnoOf };
