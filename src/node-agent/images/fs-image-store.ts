/**
 * FsImageStore: the member's content-addressed image store in one directory.
 *
 *   <dir>/<fp>          unified tarball, or the metadata tarball of a split image (the commit point)
 *   <dir>/<fp>.rootfs   rootfs of a split image (squashfs or tarball)
 *   <dir>/<fp>.json     what was learned at import (ImageInfo + parsed metadata.yaml)
 *   <dir>/.tmp/         uploads in progress
 *
 * An upload is written to .tmp/, fsynced, hashed on the way in (fingerprints exactly as LXD
 * computes them), vetted (format, metadata.yaml, safe member paths) and only then renamed into
 * place, the main file last, with the directory fsynced before and after. A crash or a bad
 * upload therefore never leaves a visible half image; leftovers are swept by {@link FsImageStore.open}.
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { errors, isShoalError, ErrorCode, randomHex, Reverter, type Logger } from '../../shared/index.js';
import type { ImageInfo } from '../types.js';
import {
  archiveKindOf,
  checkSquashfs,
  extractSquashfs,
  extractTarball,
  scanTarball,
  type TarballScan,
} from './archive.js';
import type { ImagePart, ImageStore, ImportOptions } from './image-store.js';
import { parseImageMetadata, type ImageMetadata } from './metadata.js';

const FINGERPRINT = /^[0-9a-f]{64}$/;
const METADATA_YAML = 'metadata.yaml';

interface StoredRecord {
  readonly info: ImageInfo;
  readonly metadata: ImageMetadata;
  /** Kind of the rootfs part of a split image. */
  readonly rootfsKind?: 'squashfs' | 'tar';
}

/** Returns the lowercase fingerprint, or throws INVALID_ARGUMENT. */
export function checkFingerprint(fp: string): string {
  const lower = fp.toLowerCase();
  if (!FINGERPRINT.test(lower)) throw errors.invalid(`Invalid image fingerprint "${fp}"`);
  return lower;
}

export class FsImageStore implements ImageStore {
  private constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Opens (creating if needed) the store in `dir` and sweeps what a crash may have left. */
  static async open(dir: string, log: Logger): Promise<FsImageStore> {
    const store = new FsImageStore(dir, log.child({ component: 'image-store' }));
    await mkdir(join(dir, '.tmp'), { recursive: true, mode: 0o700 });
    await store.sweep();
    return store;
  }

  /** Imports a unified tarball; see {@link ImageStore.importUnified}. */
  async importUnified(tarball: Readable, options: ImportOptions, signal: AbortSignal): Promise<ImageInfo> {
    const tmp = this.tmpPath();
    try {
      const hash = createHash('sha256');
      const size = await this.receive(tarball, tmp, hash, signal);
      const fp = this.checkExpected(hash.digest('hex'), options);
      if (await this.has(fp)) return await this.get(fp);
      const kind = await archiveKindOf(tmp, 'image tarball');
      if (kind.kind !== 'tar') throw errors.invalid('Invalid image tarball: a unified image must be a tarball');
      const scan = await scanTarball(tmp, kind.compression, 'image tarball', new Set([METADATA_YAML]), signal);
      const metadata = metadataOf(scan, 'image tarball');
      if (scan.topLevel.get('rootfs') !== 'directory') {
        throw errors.invalid(
          scan.topLevel.has('rootfs.img')
            ? 'Invalid image tarball: virtual-machine images are not supported'
            : 'Invalid image tarball: no rootfs/ directory',
        );
      }
      checkLayout(scan, 'image tarball');
      const info = infoOf(fp, 'unified', metadata, size);
      await this.commit(fp, { info, metadata }, tmp, undefined);
      this.log.info({ fingerprint: fp, sizeBytes: size }, 'image imported');
      return info;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Reads `metadataTar` to its end before it starts on `rootfs` (the fingerprint hashes them in
   * that order), so the two streams must not depend on each other being drained concurrently.
   */
  async importSplit(metadataTar: Readable, rootfs: Readable, options: ImportOptions, signal: AbortSignal): Promise<ImageInfo> {
    const metaTmp = this.tmpPath();
    const rootTmp = this.tmpPath();
    try {
      // LXD: fingerprint = SHA-256 over the metadata bytes followed by the rootfs bytes.
      const hash = createHash('sha256');
      const metaSize = await this.receive(metadataTar, metaTmp, hash, signal);
      const rootSize = await this.receive(rootfs, rootTmp, hash, signal);
      const fp = this.checkExpected(hash.digest('hex'), options);
      if (await this.has(fp)) return await this.get(fp);
      const metaKind = await archiveKindOf(metaTmp, 'metadata tarball');
      if (metaKind.kind !== 'tar') throw errors.invalid('Invalid metadata tarball: not a tarball');
      const scan = await scanTarball(metaTmp, metaKind.compression, 'metadata tarball', new Set([METADATA_YAML]), signal);
      const metadata = metadataOf(scan, 'metadata tarball');
      checkLayout(scan, 'metadata tarball');
      const rootKind = await archiveKindOf(rootTmp, 'rootfs');
      if (rootKind.kind === 'squashfs') await checkSquashfs(rootTmp, 'rootfs', signal);
      else await scanTarball(rootTmp, rootKind.compression, 'rootfs tarball', new Set(), signal);
      const info = infoOf(fp, 'split', metadata, metaSize + rootSize);
      await this.commit(fp, { info, metadata, rootfsKind: rootKind.kind }, metaTmp, rootTmp);
      this.log.info({ fingerprint: fp, sizeBytes: metaSize + rootSize }, 'image imported');
      return info;
    } finally {
      await rm(metaTmp, { force: true });
      await rm(rootTmp, { force: true });
    }
  }

  async get(fingerprint: string): Promise<ImageInfo> {
    return (await this.record(fingerprint)).info;
  }

  /** The parsed metadata.yaml of a stored image (NOT_FOUND when absent). */
  async metadata(fingerprint: string): Promise<ImageMetadata> {
    return (await this.record(fingerprint)).metadata;
  }

  async has(fingerprint: string): Promise<boolean> {
    return exists(join(this.dir, checkFingerprint(fingerprint)));
  }

  async list(): Promise<readonly ImageInfo[]> {
    const out: ImageInfo[] = [];
    for (const fp of await this.fingerprints()) {
      try {
        out.push(await this.get(fp));
      } catch (err) {
        // Deleted between readdir and read: not an image any more.
        if (!isShoalError(err, ErrorCode.NotFound)) throw err;
      }
    }
    return out;
  }

  async resolve(prefix: string): Promise<string> {
    const p = prefix.toLowerCase();
    if (!/^[0-9a-f]{1,64}$/.test(p)) throw errors.invalid(`Invalid image fingerprint prefix "${prefix}"`);
    const matches = (await this.fingerprints()).filter((fp) => fp.startsWith(p));
    if (matches.length === 0) throw errors.notFound(`Image "${prefix}" not found`);
    if (matches.length > 1) {
      throw errors.invalid(`Image prefix "${prefix}" is ambiguous: it matches ${matches.length} images`);
    }
    return matches[0] as string;
  }

  async delete(fingerprint: string): Promise<void> {
    const fp = checkFingerprint(fingerprint);
    // Main file first: once it is gone the image is gone, whatever else a crash leaves (swept later).
    await rm(join(this.dir, fp), { force: true });
    await rm(join(this.dir, `${fp}.rootfs`), { force: true });
    await rm(join(this.dir, `${fp}.json`), { force: true });
    this.log.info({ fingerprint: fp }, 'image deleted');
  }

  async partSize(fingerprint: string, part: ImagePart): Promise<number> {
    const path = await this.partPath(fingerprint, part);
    return (await stat(path)).size;
  }

  open(fingerprint: string, part: ImagePart, offset: number, chunkBytes: number): Readable {
    if (!Number.isSafeInteger(offset) || offset < 0) throw errors.invalid(`Invalid offset ${offset}`);
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw errors.invalid(`Invalid chunk size ${chunkBytes}`);
    const chunks = async function* (store: FsImageStore): AsyncGenerator<Buffer> {
      const path = await store.partPath(fingerprint, part);
      const fh = await open(path, 'r');
      try {
        const size = (await fh.stat()).size;
        if (offset > size) throw errors.invalid(`Offset ${offset} is beyond the end of the ${part} (${size} bytes)`);
        for (let pos = offset; pos < size; ) {
          const buf = Buffer.allocUnsafe(Math.min(chunkBytes, size - pos));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    };
    return Readable.from(chunks(this), { objectMode: false });
  }

  async unpack(fingerprint: string, targetDir: string, signal: AbortSignal): Promise<void> {
    const fp = checkFingerprint(fingerprint);
    const rec = await this.record(fp);
    const created = !(await exists(targetDir));
    if (created) await mkdir(targetDir, { recursive: true, mode: 0o700 });
    else if ((await readdir(targetDir)).length > 0) {
      throw errors.precondition(`Cannot unpack image "${fp}": "${targetDir}" is not empty`);
    }
    const r = new Reverter();
    r.add(`unpacked files in ${targetDir}`, () => clearDir(targetDir, created));
    try {
      await extractTarball(join(this.dir, fp), targetDir, signal);
      if (rec.info.format === 'split') {
        const rootfs = join(targetDir, 'rootfs');
        const src = join(this.dir, `${fp}.rootfs`);
        if (rec.rootfsKind === 'squashfs') {
          await extractSquashfs(src, rootfs, signal);
        } else {
          await mkdir(rootfs, { recursive: true, mode: 0o755 });
          await extractTarball(src, rootfs, signal);
        }
      }
      if (!(await exists(join(targetDir, 'rootfs')))) {
        throw errors.internal(`Image "${fp}" unpacked without a rootfs directory`);
      }
      r.success();
    } finally {
      await r.fail();
    }
  }

  private async partPath(fingerprint: string, part: ImagePart): Promise<string> {
    const fp = checkFingerprint(fingerprint);
    const info = await this.get(fp);
    if (part === 'rootfs' && info.format !== 'split') {
      throw errors.invalid(`Image "${fp}" is a unified image: it has no rootfs part`);
    }
    return join(this.dir, part === 'rootfs' ? `${fp}.rootfs` : fp);
  }

  private async record(fingerprint: string): Promise<StoredRecord> {
    const fp = checkFingerprint(fingerprint);
    let text: string;
    try {
      if (!(await exists(join(this.dir, fp)))) throw errors.notFound(`Image "${fp}" not found`);
      text = await readFile(join(this.dir, `${fp}.json`), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw errors.notFound(`Image "${fp}" not found`);
      throw err;
    }
    return JSON.parse(text) as StoredRecord;
  }

  private async fingerprints(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => FINGERPRINT.test(n)).sort();
  }

  private tmpPath(): string {
    return join(this.dir, '.tmp', `upload-${randomHex(8)}`);
  }

  private checkExpected(fp: string, options: ImportOptions): string {
    if (options.expectedFingerprint !== undefined && options.expectedFingerprint.toLowerCase() !== fp) {
      throw errors.invalid(`Image fingerprint mismatch: got "${fp}", expected "${options.expectedFingerprint}"`);
    }
    return fp;
  }

  /** Writes `src` to a new file at `path`, feeding `hash`, then fsyncs it. Returns the byte count. */
  private async receive(src: Readable, path: string, hash: Hash, signal: AbortSignal): Promise<number> {
    if (signal.aborted) throw errors.cancelled('Image upload cancelled');
    addAbortSignal(signal, src);
    const fh = await open(path, 'wx', 0o600);
    let size = 0;
    try {
      for await (const chunk of src as AsyncIterable<Buffer | string>) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        hash.update(b);
        size += b.length;
        await fh.write(b);
      }
      await fh.sync();
    } catch (err) {
      if (signal.aborted) throw errors.cancelled('Image upload cancelled');
      throw isShoalError(err) ? err : errors.invalid(`Image upload failed: ${(err as Error).message}`);
    } finally {
      await fh.close();
    }
    return size;
  }

  private async commit(fp: string, record: StoredRecord, mainTmp: string, rootfsTmp: string | undefined): Promise<void> {
    const r = new Reverter();
    try {
      if (rootfsTmp !== undefined) {
        await rename(rootfsTmp, join(this.dir, `${fp}.rootfs`));
        r.add(`${fp}.rootfs`, () => rm(join(this.dir, `${fp}.rootfs`), { force: true }));
      }
      const jsonTmp = this.tmpPath();
      await writeSynced(jsonTmp, JSON.stringify(record));
      await rename(jsonTmp, join(this.dir, `${fp}.json`));
      r.add(`${fp}.json`, () => rm(join(this.dir, `${fp}.json`), { force: true }));
      await fsyncDir(this.dir);
      await rename(mainTmp, join(this.dir, fp));
      await fsyncDir(this.dir);
      r.success();
    } finally {
      await r.fail();
    }
  }

  /** Removes uploads in progress and the side files of images whose main file is missing. */
  private async sweep(): Promise<void> {
    const tmpDir = join(this.dir, '.tmp');
    for (const n of await readdir(tmpDir)) await rm(join(tmpDir, n), { recursive: true, force: true });
    const names = new Set(await readdir(this.dir));
    for (const n of names) {
      const m = /^([0-9a-f]{64})\.(rootfs|json)$/.exec(n);
      if (m && !names.has(m[1] as string)) {
        this.log.warn({ file: n }, 'removing leftover of an incomplete image import');
        await rm(join(this.dir, n), { force: true });
      }
    }
  }
}

function metadataOf(scan: TarballScan, label: string): ImageMetadata {
  const body = scan.captured.get(METADATA_YAML);
  if (!body) throw errors.invalid(`Invalid ${label}: no metadata.yaml`);
  return parseImageMetadata(body.toString('utf8'));
}

/** metadata.yaml must be a regular file and templates/ (when present) a directory. */
function checkLayout(scan: TarballScan, label: string): void {
  if (scan.topLevel.get(METADATA_YAML) !== 'file') throw errors.invalid(`Invalid ${label}: metadata.yaml is not a file`);
  const templates = scan.topLevel.get('templates');
  if (templates !== undefined && templates !== 'directory') {
    throw errors.invalid(`Invalid ${label}: templates is not a directory`);
  }
}

function infoOf(fp: string, format: 'unified' | 'split', md: ImageMetadata, size: number): ImageInfo {
  return {
    fingerprint: fp,
    format,
    architecture: md.architecture,
    createdAt: md.creationDate,
    properties: md.properties,
    sizeBytes: size,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Empties `dir` (and removes it when `remove`). */
async function clearDir(dir: string, remove: boolean): Promise<void> {
  if (remove) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  for (const n of await readdir(dir)) await rm(join(dir, n), { recursive: true, force: true });
}

