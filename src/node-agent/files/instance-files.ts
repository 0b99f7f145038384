/**
 * File access to an instance's root filesystem from the host (LXD `/1.0/instances/<n>/files`):
 * pull (file content as a stream, directory entries, or a symlink's target, with uid/gid/mode),
 * push (file with overwrite/append, directory, symlink; optional parent creation), delete and
 * list. Paths are resolved by {@link RootHandle} (openat-style, O_NOFOLLOW, chroot semantics for
 * absolute symlinks, no escape through `..` or symlinks, verified after every open).
 *
 * The final component is never followed: pulling a symlink returns the link; pushing a file or
 * directory onto an existing symlink is refused (PERMISSION_DENIED); deleting a symlink removes the
 * link. Special files (devices, FIFOs, sockets) are refused for pull and push, so an instance
 * cannot make the agent open a device node or block on a FIFO. Directories are deleted only when
 * empty (a recursive delete cannot be made safe against concurrent swaps without openat).
 *
 * Ownership: instance roots are idmapped at mount time (`idmap=container`), so the ids on disk are
 * the ids inside the instance; uid/gid are used as given, with no shifting.
 */
import { constants, type Stats } from 'node:fs';
import { lchown, mkdir, open, readdir, readlink, rmdir, symlink, unlink, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { at, errnoOf, lstatOrNull, RootHandle, splitRequestPath, type WalkErrors } from './rooted-walk.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_APPEND, O_DIRECTORY } = constants;

/** Owner and permission bits of a pulled object. */
export interface FileMeta {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits (`st_mode & 0o7777`). */
  readonly mode: number;
}

/** What {@link InstanceFiles.pull} returns. For a file, the caller must consume or destroy `content`. */
export type PullResult =
  | (FileMeta & { readonly type: 'file'; readonly size: number; readonly content: Readable })
  | (FileMeta & { readonly type: 'directory'; readonly entries: readonly string[] })
  | (FileMeta & { readonly type: 'symlink'; readonly target: string });

/** Ownership for a push; unset fields keep an existing object's value (new objects: 0, 0, 0644/0755). */
export interface PushOwnership {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

/** What to push (LXD `X-LXD-type`, `X-LXD-write`). */
export type PushRequest =
  | (PushOwnership & {
      readonly type: 'file';
      readonly content: Uint8Array | string | AsyncIterable<Uint8Array | string>;
      readonly write?: 'overwrite' | 'append';
    })
  | (PushOwnership & { readonly type: 'directory' })
  | (Omit<PushOwnership, 'mode'> & { readonly type: 'symlink'; readonly target: string });

/** Options of {@link InstanceFiles.push}. */
export interface PushOptions {
  /** Create missing parent directories (root-owned, 0755), like `lxc file push -p`. */
  readonly createParents?: boolean;
}

function meta(st: Stats): FileMeta {
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
}

function sameInode(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** File operations inside one instance's root filesystem. Stateless: each call opens the root anew. */
export class InstanceFiles {
  private readonly errs: WalkErrors;

  /** `root` is the host path of the instance's root (`<volumePath>/rootfs`); `instance` names it in errors. */
  constructor(
    private readonly root: string,
    private readonly instance: string,
  ) {
    this.errs = {
      notFound: (p) => new ShoalError(ErrorCode.NotFound, `Path "${p}" not found in instance "${instance}"`),
      escape: (p) => new ShoalError(ErrorCode.PermissionDenied, `Path "${p}" escapes the root of instance "${instance}"`),
      invalid: (p, why) => new ShoalError(ErrorCode.InvalidArgument, `Invalid path "${p}" in instance "${instance}": ${why}`),
    };
  }

  private async withRoot<T>(fn: (root: RootHandle) => Promise<T>): Promise<T> {
    const root = await RootHandle.open(this.root, this.errs);
    try {
      return await fn(root);
    } finally {
      await root.close();
    }
  }

  /** Opens the parent directory of `path` and returns it with the final name (null name = the root). */
  private async parentOf(
    root: RootHandle,
    path: string,
    create?: { readonly uid: number; readonly gid: number; readonly mode: number },
  ): Promise<{ dir: FileHandle; name: string | null; release: () => Promise<void> }> {
    const parts = splitRequestPath(path, this.errs);
    const name = parts.pop() ?? null;
    const dir = await root.walkDir(parts, path, create);
    return { dir, name, release: async () => (dir === root.handle ? undefined : dir.close()) };
  }

  /** Reads a file (as a stream), a directory (entries) or a symlink (target). */
  async pull(path: string): Promise<PullResult> {
    return this.withRoot(async (root) => {
      const { dir, name, release } = await this.parentOf(root, path);
      try {
        if (name === null) return await this.readDir(root, dir, path, await dir.stat());
        const st = await lstatOrNull(at(dir, name));
        if (st === null) throw this.errs.notFound(path);
        if (st.isSymbolicLink()) return { type: 'symlink', target: await this.readLinkAt(dir, name, path), ...meta(st) };
        if (st.isDirectory()) {
          const h = await this.openChecked(root, dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, path, st);
          try {
            return await this.readDir(root, h, path, st);
          } finally {
            await h.close();
          }
        }
        if (!st.isFile()) throw this.errs.invalid(path, 'not a regular file, directory or symlink');
        const h = await this.openChecked(root, dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, path, st);
        const fst = await h.stat();
        return { type: 'file', size: fst.size, content: h.createReadStream({ autoClose: true }), ...meta(fst) };
      } finally {
        await release();
      }
    });
  }

  /** Lists a directory's entry names (sorted). */
  async list(path: string): Promise<readonly string[]> {
    const r = await this.pull(path);
    if (r.type === 'file') r.content.destroy();
    if (r.type !== 'directory') throw this.errs.invalid(path, 'not a directory');
    return r.entries;
  }

  /** Creates or writes a file, directory or symlink. */
  async push(path: string, req: PushRequest, options: PushOptions = {}): Promise<void> {
    await this.withRoot(async (root) => {
      const parents = options.createParents ? { uid: 0, gid: 0, mode: 0o755 } : undefined;
      const { dir, name, release } = await this.parentOf(root, path, parents);
      try {
        if (name === null) throw this.errs.invalid(path, 'cannot replace the root directory');
        switch (req.type) {
          case 'file':
            return await this.pushFile(root, dir, name, path, req);
          case 'directory':
            return await this.pushDir(root, dir, name, path, req);
          case 'symlink':
            return await this.pushSymlink(dir, name, path, req);
        }
      } finally {
        await release();
      }
    });
  }

  /** Deletes a file, symlink or empty directory. NOT_FOUND when absent. */
  async delete(path: string): Promise<void> {
    await this.withRoot(async (root) => {
      const { dir, name, release } = await this.parentOf(root, path);
      try {
        if (name === null) throw this.errs.invalid(path, 'cannot delete the root directory');
        const st = await lstatOrNull(at(dir, name));
        if (st === null) throw this.errs.notFound(path);
        if (!st.isDirectory()) return await unlink(at(dir, name));
        try {
          await rmdir(at(dir, name));
        } catch (err) {
          if (errnoOf(err) === 'ENOTEMPTY' || errnoOf(err) === 'EEXIST') {
            throw new ShoalError(ErrorCode.FailedPrecondition, `Directory "${path}" in instance "${this.instance}" is not empty`);
          }
          throw err;
        }
      } finally {
        await release();
      }
    });
  }

  private async readLinkAt(dir: FileHandle, name: string, path: string): Promise<string> {
    try {
      return await readlink(at(dir, name));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw this.errs.notFound(path);
      if (errnoOf(err) === 'EINVAL') throw new ShoalError(ErrorCode.Aborted, `Path "${path}" in instance "${this.instance}" changed; try again`);
      throw err;
    }
  }

  private async readDir(root: RootHandle, h: FileHandle, path: string, st: Stats): Promise<PullResult> {
    await root.verifyInside(h, path);
    const entries = (await readdir(`/proc/self/fd/${h.fd}`)).sort();
    return { type: 'directory', entries, ...meta(st) };
  }

  /** Opens `name` with O_NOFOLLOW, then checks it is inside the root and (when given) the same inode as `expected`. */
  private async openChecked(
    root: RootHandle,
    dir: FileHandle,
    name: string,
    flags: number,
    path: string,
    expected: Stats | null,
    mode?: number,
  ): Promise<FileHandle> {
    let h: FileHandle;
    try {
      h = await open(at(dir, name), flags | O_NOFOLLOW, mode);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ELOOP') throw this.errs.escape(path); // swapped for a symlink after our lstat
      if (code === 'ENOENT') throw this.errs.notFound(path);
      if (code === 'EEXIST') throw new ShoalError(ErrorCode.Aborted, `Path "${path}" in instance "${this.instance}" changed; try again`);
      throw err;
    }
    try {
      await root.verifyInside(h, path);
      const st = await h.stat();
      if (expected !== null && !sameInode(st, expected)) throw this.errs.escape(path);
      return h;
    } catch (err) {
      await h.close();
      throw err;
    }
  }

  private async pushFile(
    root: RootHandle,
    dir: FileHandle,
    name: string,
    path: string,
    req: Extract<PushRequest, { type: 'file' }>,
  ): Promise<void> {
    const st = await lstatOrNull(at(dir, name));
    if (st?.isSymbolicLink()) throw this.errs.escape(path);
    if (st !== null && !st.isFile()) throw this.errs.invalid(path, 'exists and is not a regular file');
    const append = req.write === 'append';
    const h =
      st === null
        ? await this.openChecked(root, dir, name, O_WRONLY | O_CREAT | O_EXCL, path, null, 0o600)
        : await this.openChecked(root, dir, name, O_WRONLY | O_NONBLOCK | (append ? O_APPEND : 0), path, st);
    try {
      const fst = await h.stat();
      if (!fst.isFile()) throw this.errs.invalid(path, 'exists and is not a regular file');
      if (st !== null && !append) await h.truncate(0);
      await writeAll(h, req.content);
      await h.chown(req.uid ?? (st === null ? 0 : fst.uid), req.gid ?? (st === null ? 0 : fst.gid));
      await h.chmod(req.mode ?? (st === null ? 0o644 : fst.mode & 0o7777));
    } finally {
      await h.close();
    }
  }

  private async pushDir(
    root: RootHandle,
    dir: FileHandle,
    name: string,
    path: string,
    req: Extract<PushRequest, { type: 'directory' }>,
  ): Promise<void> {
    const st = await lstatOrNull(at(dir, name));
    if (st?.isSymbolicLink()) throw this.errs.escape(path);
    if (st !== null && !st.isDirectory()) {
      throw new ShoalError(ErrorCode.AlreadyExists, `Path "${path}" in instance "${this.instance}" exists and is not a directory`);
    }
    if (st === null) {
      try {
        await mkdir(at(dir, name), { mode: 0o700 });
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
        throw new ShoalError(ErrorCode.Aborted, `Path "${path}" in instance "${this.instance}" was created concurrently`);
      }
    }
    const h = await this.openChecked(root, dir, name, O_RDONLY | O_DIRECTORY, path, st);
    try {
      await h.chown(req.uid ?? st?.uid ?? 0, req.gid ?? st?.gid ?? 0);
      await h.chmod(req.mode ?? (st === null ? 0o755 : st.mode & 0o7777));
    } finally {
      await h.close();
    }
  }

  private async pushSymlink(dir: FileHandle, name: string, path: string, req: Extract<PushRequest, { type: 'symlink' }>): Promise<void> {
    if (req.target === '' || req.target.includes('\0')) throw this.errs.invalid(path, 'invalid symlink target');
    const st = await lstatOrNull(at(dir, name));
    if (st !== null && !st.isSymbolicLink()) {
      throw new ShoalError(ErrorCode.AlreadyExists, `Path "${path}" in instance "${this.instance}" exists and is not a symlink`);
    }
    if (st !== null) await unlink(at(dir, name));
    await symlink(req.target, at(dir, name));
    await lchown(at(dir, name), req.uid ?? 0, req.gid ?? 0);
  }
}


async function writeFully(h: FileHandle, data: Uint8Array | string): Promise<void> {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await h.write(buf, off, buf.length - off, null);
    off += bytesWritten;
  }
}

async function writeAll(h: FileHandle, content: Uint8Array | string | AsyncIterable<Uint8Array | string>): Promise<void> {
  if (typeof content === 'string' || content instanceof Uint8Array) return writeFully(h, content);
  for await (const chunk of content) await writeFully(h, chunk);
}
