// FakeImageStore: an in-memory ImageStore for unit tests of the service. Imports read the stream
// and fingerprint it with SHA-256 (unified: of the bytes; split: of metadata ‖ rootfs), as LXD
// does; unpacking does nothing on disk.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ImagePart, ImageStore, ImportOptions } from '../../../src/node-agent/images/image-store.js';
import type { ImageInfo } from '../../../src/node-agent/types.js';
import { errors } from './fake-deps.js';
import { FakeFailures } from './fake-failures.js';

interface FakeImage {
  readonly info: ImageInfo;
  readonly parts: Partial<Record<ImagePart, Buffer>>;
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export class FakeImageStore implements ImageStore {
  readonly failures = new FakeFailures();
  readonly images = new Map<string, FakeImage>();

  /** Adds an image directly (tests that do not exercise import). */
  add(fingerprint: string, architecture = 'x86_64'): ImageInfo {
    const info: ImageInfo = { fingerprint, format: 'unified', architecture, createdAt: 1_700_000_000, properties: {}, sizeBytes: 3 };
    this.images.set(fingerprint, { info, parts: { metadata: Buffer.from('img') } });
    return info;
  }

  async importUnified(tarball: Readable, options: ImportOptions, _signal: AbortSignal): Promise<ImageInfo> {
    const data = await readAll(tarball);
    return this.store({ metadata: data }, createHash('sha256').update(data).digest('hex'), 'unified', options);
  }

  async importSplit(metadata: Readable, rootfs: Readable, options: ImportOptions, _signal: AbortSignal): Promise<ImageInfo> {
    const m = await readAll(metadata);
    const r = await readAll(rootfs);
    return this.store({ metadata: m, rootfs: r }, createHash('sha256').update(m).update(r).digest('hex'), 'split', options);
  }

  async get(fingerprint: string): Promise<ImageInfo> {
    const i = this.images.get(fingerprint);
    if (!i) throw errors.notFound(`Image "${fingerprint}" not found`);
    return i.info;
  }

  async has(fingerprint: string): Promise<boolean> {
    return this.images.has(fingerprint);
  }

  async list(): Promise<readonly ImageInfo[]> {
    return [...this.images.values()].map((i) => i.info);
  }

  async resolve(prefix: string): Promise<string> {
    const matches = [...this.images.keys()].filter((k) => k.startsWith(prefix));
    if (matches.length === 0) throw errors.notFound(`Image "${prefix}" not found`);
    if (matches.length > 1) throw errors.invalid(`Image prefix "${prefix}" is ambiguous`);
    return matches[0]!;
  }

  async delete(fingerprint: string): Promise<void> {
    this.images.delete(fingerprint);
  }

  async partSize(fingerprint: string, part: ImagePart): Promise<number> {
    const p = this.images.get(fingerprint)?.parts[part];
    if (!p) throw errors.notFound(`Image "${fingerprint}" has no ${part}`);
    return p.length;
  }

  open(fingerprint: string, part: ImagePart, offset: number, chunkBytes: number): Readable {
    const p = this.images.get(fingerprint)?.parts[part] ?? Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for (let i = offset; i < p.length; i += chunkBytes) chunks.push(p.subarray(i, i + chunkBytes));
    return Readable.from(chunks);
  }

  async unpack(fingerprint: string, _targetDir: string, _signal: AbortSignal): Promise<void> {
    this.failures.hit('unpack', fingerprint);
    if (!this.images.has(fingerprint)) throw errors.notFound(`Image "${fingerprint}" not found`);
  }

  private store(parts: FakeImage['parts'], fingerprint: string, format: 'unified' | 'split', options: ImportOptions): ImageInfo {
    if (options.expectedFingerprint && options.expectedFingerprint !== fingerprint) {
      throw errors.invalid(`Image fingerprint mismatch: expected "${options.expectedFingerprint}", got "${fingerprint}"`);
    }
    const size = (parts.metadata?.length ?? 0) + (parts.rootfs?.length ?? 0);
    const info: ImageInfo = { fingerprint, format, architecture: 'x86_64', createdAt: 1_700_000_000, properties: {}, sizeBytes: size };
    this.images.set(fingerprint, { info, parts });
    return info;
  }
}
