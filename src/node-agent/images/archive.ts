/**
 * Image archives on disk: format detection by magic bytes, vetting a tarball's members (streamed
 * through {@link TarReader} and {@link ArchiveVetter}, decompressing gzip in-process and xz, zstd,
 * bzip2, lzma with their tools), and extraction with GNU tar or unsquashfs keeping numeric owners,
 * modes and xattrs. Every process is started through exec.ts.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { ErrorCode, errors, ExecError, isShoalError, ShoalError, wrap } from '../../shared/index.js';
import { run, spawnChild } from '../exec.js';
import { ArchiveVetter, normaliseMemberPath } from './archive-vetter.js';
import { TarEntryType, TarReader } from './tar-reader.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'lzma' | 'zstd' | 'bzip2';
export type ArchiveKind = { readonly kind: 'tar'; readonly compression: Compression } | { readonly kind: 'squashfs' };

const EXTERNAL: Readonly<Record<Exclude<Compression, 'none' | 'gzip'>, string>> = {
  xz: 'xz',
  lzma: 'xz',
  zstd: 'zstd',
  bzip2: 'bzip2',
};

/** Identifies a tarball's compression or a squashfs image from its first bytes. */
export function detectArchiveKind(head: Buffer): ArchiveKind | undefined {
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return { kind: 'tar', compression: 'gzip' };
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return { kind: 'tar', compression: 'xz' };
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return { kind: 'tar', compression: 'zstd' };
  if (starts(0x42, 0x5a, 0x68)) return { kind: 'tar', compression: 'bzip2' };
  if (starts(0x68, 0x73, 0x71, 0x73)) return { kind: 'squashfs' };
  if (starts(0x5d, 0x00, 0x00)) return { kind: 'tar', compression: 'lzma' };
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') {
    return { kind: 'tar', compression: 'none' };
  }
  return undefined;
}

/** Reads the first bytes of `path` and classifies it; INVALID_ARGUMENT naming `label` when unknown. */
export async function archiveKindOf(path: string, label: string): Promise<ArchiveKind> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const kind = detectArchiveKind(head.subarray(0, bytesRead));
    if (!kind) throw errors.invalid(`Unsupported ${label}: not a tarball (plain, gzip, xz, lzma, zstd or bzip2) or squashfs`);
    return kind;
  } finally {
    await fh.close();
  }
}

/** What {@link scanTarball} learned. */
export interface TarballScan {
  /**
   * First-level names and their types ('directory' also when only implied by deeper members).
   */
  readonly topLevel: ReadonlyMap<string, string>;
  /** Bodies of the members named in `capture` (regular files only). */
  readonly captured: ReadonlyMap<string, Buffer>;
  readonly members: number;
}

/**
 * Streams the whole tarball through the vetter (throwing INVALID_ARGUMENT on the first unsafe
 * member) and returns the first-level names and the bodies of the `capture` members.
 */
export async function scanTarball(
  path: string,
  compression: Compression,
  label: string,
  capture: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<TarballScan> {
  const vetter = new ArchiveVetter();
  const topLevel = new Map<string, string>();
  const captured = new Map<string, Buffer>();
  const reader = new TarReader({
    onEntry(entry) {
      const p = vetter.check(entry);
      const first = p.split('/')[0] ?? p;
      if (p !== '' && !topLevel.has(first)) topLevel.set(first, p === first ? entry.type : TarEntryType.Directory);
      return entry.type === TarEntryType.File && capture.has(p);
    },
    onBody(entry, body) {
      captured.set(normaliseMemberPath(entry.path), body);
    },
  });
  try {
    for await (const chunk of decompressed(path, compression, signal)) reader.push(chunk);
    reader.end();
  } catch (err) {
    if (signal.aborted) throw errors.cancelled(`Reading ${label} cancelled`);
    if (isShoalError(err) && err.code !== ErrorCode.InvalidArgument) throw err;
    throw wrap(err, `Invalid ${label}`, ErrorCode.InvalidArgument);
  }
  return { topLevel, captured, members: reader.entries };
}

async function* decompressed(path: string, compression: Compression, signal: AbortSignal): AsyncGenerator<Buffer> {
  if (compression === 'none') {
    yield* createReadStream(path, { signal, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
    return;
  }
  if (compression === 'gzip') {
    const src = createReadStream(path, { signal, highWaterMark: 1024 * 1024 });
    const gunzip = createGunzip();
    src.on('error', (e) => gunzip.destroy(e));
    src.pipe(gunzip);
    try {
      yield* gunzip as AsyncIterable<Buffer>;
    } finally {
      src.destroy();
    }
    return;
  }
  const cmd = EXTERNAL[compression];
  const child = spawnChild(cmd, ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'], signal });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4096);
  });
  const exit = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  let finished = false;
  try {
    if (child.stdout) yield* child.stdout as AsyncIterable<Buffer>;
    const code = await exit;
    finished = true;
    if (signal.aborted) throw errors.cancelled(`Reading "${path}" cancelled`);
    if (code !== 0) throw new ExecError([cmd, '-dc', path], code, stderr, { code: ErrorCode.InvalidArgument });
  } finally {
    if (!finished) {
      child.kill('SIGKILL');
      await exit.catch(() => undefined);
    }
  }
}

/** GNU tar flags that keep numeric owners, modes and xattrs exactly (LXD's unpack flags). */
const TAR_EXTRACT_FLAGS = ['--numeric-owner', '--same-owner', '--preserve-permissions', '--xattrs', '--xattrs-include=*'];

/** Extracts a vetted tarball (any supported compression, detected by GNU tar) into `dir`. */
export async function extractTarball(path: string, dir: string, signal: AbortSignal): Promise<void> {
  try {
    await run('tar', ['--extract', `--file=${path}`, `--directory=${dir}`, ...TAR_EXTRACT_FLAGS], { signal });
  } catch (err) {
    throw wrap(err, `Failed extracting "${path}"`);
  }
}

/** Checks a squashfs superblock (INVALID_ARGUMENT when unreadable). */
export async function checkSquashfs(path: string, label: string, signal: AbortSignal): Promise<void> {
  try {
    await run('unsquashfs', ['-s', path], { signal });
  } catch (err) {
    if (err instanceof ShoalError && err.code === ErrorCode.Cancelled) throw err;
    throw wrap(err, `Invalid ${label}: not a readable squashfs`, ErrorCode.InvalidArgument);
  }
}

/** Extracts a squashfs image into `dir` (which must not exist yet, or be empty). */
export async function extractSquashfs(path: string, dir: string, signal: AbortSignal): Promise<void> {
  try {
    await run('unsquashfs', ['-f', '-n', '-q', '-d', dir, path], { signal });
  } catch (err) {
    throw wrap(err, `Failed extracting "${path}"`);
  }
}
