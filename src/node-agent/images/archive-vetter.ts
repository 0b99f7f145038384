/**
 * Vets tar members before anything is extracted, so a hostile image can never write outside the
 * target directory: no absolute paths, no `..` components, no hard link to such a path, no member
 * (or hard-link target) below a symlink the archive itself planted, no member that changes the
 * type of an earlier one (a directory later replaced by a symlink), and no relative symlink that
 * climbs above the archive root. Absolute symlinks are allowed: inside an instance they resolve
 * within its root (host code that follows them must use safe-path.ts). Pure.
 */
import { errors } from '../../shared/index.js';
import { TarEntryType, type TarEntry } from './tar-reader.js';

/** Normalises a member path: strips leading `./`, repeated and trailing slashes. '' is the root. */
export function normaliseMemberPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return parts.join('/');
}

/** Checks members one at a time (in archive order); throws INVALID_ARGUMENT on the first bad one. */
export class ArchiveVetter {
  private readonly symlinks = new Set<string>();
  private readonly types = new Map<string, TarEntry['type']>();

  /** The type of the member at `path` (normalised), if the archive had one. */
  typeOf(path: string): TarEntry['type'] | undefined {
    return this.types.get(path);
  }

  check(entry: TarEntry): string {
    const path = this.checkPath(entry.path, 'path');
    if (entry.type === TarEntryType.Hardlink) {
      const target = this.checkPath(entry.linkPath, 'hard link target');
      this.checkNotBelowSymlink(target, entry.path);
    }
    this.checkNotBelowSymlink(path, entry.path);
    const before = this.types.get(path);
    if (before !== undefined && before !== entry.type) {
      throw this.bad(entry.path, `replaces an earlier ${before} with a ${entry.type}`);
    }
    this.types.set(path, entry.type);
    if (entry.type === TarEntryType.Symlink) {
      if (entry.linkPath === '') throw this.bad(entry.path, 'has an empty symlink target');
      if (!entry.linkPath.startsWith('/')) {
        let depth = path.split('/').length - 1;
        for (const part of entry.linkPath.split('/')) {
          if (part === '..') depth--;
          else if (part !== '' && part !== '.') depth++;
          if (depth < 0) throw this.bad(entry.path, `is a symlink pointing outside the archive ("${entry.linkPath}")`);
        }
      }
      this.symlinks.add(path);
    }
    return path;
  }

  private checkPath(raw: string, what: string): string {
    if (raw === '' || raw.includes('\0')) throw this.bad(raw, `has an empty or invalid ${what}`);
    if (raw.startsWith('/')) throw this.bad(raw, `has an absolute ${what}`);
    if (raw.split('/').includes('..')) throw this.bad(raw, `has a ${what} containing ".."`);
    return normaliseMemberPath(raw);
  }

  private checkNotBelowSymlink(path: string, raw: string): void {
    if (this.symlinks.size === 0) return;
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (this.symlinks.has(parts.slice(0, i).join('/'))) {
        throw this.bad(raw, `leads through the symlink "${parts.slice(0, i).join('/')}"`);
      }
    }
  }

  private bad(path: string, why: string): Error {
    return errors.invalid(`member "${path}" ${why}`);
  }
}
