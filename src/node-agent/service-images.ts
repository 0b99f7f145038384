/**
 * Images: chunked import (unified or split, fingerprint verified by the store), export from an
 * offset, list and delete. Chunks must arrive in order per part (offset = bytes received so far),
 * metadata before rootfs; the store's streams apply backpressure to the sender.
 */
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { errors } from '../shared/index.js';
import { allValues } from './agent-db.js';
import { buildBusyboxImage } from './images/busybox.js';
import type { ImagePart } from './images/image-store.js';
import { lockKey } from './locks.js';
import type { ServiceContext } from './service-context.js';
import type { ImageInfo } from './types.js';

/** One piece of an image part in an import. */
export interface ImageChunkIn {
  readonly part: ImagePart;
  readonly offset: number;
  readonly data: Uint8Array;
}

/** The header of an import. */
export interface ImportHeader {
  readonly format: 'unified' | 'split';
  /** Empty: no check (the computed fingerprint is returned). */
  readonly expectedFingerprint: string;
}

/** An image and the sizes of its stored parts. */
export interface ImageDescription {
  readonly info: ImageInfo;
  readonly parts: { readonly metadata: number; readonly rootfs: number };
}

/** Default and maximum export chunk sizes (see raft-and-dependencies.md §3.2: 256 KiB measured best). */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
export const MAX_CHUNK_BYTES = 1024 * 1024;

export class ImageService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Imports an image from `chunks`. When the expected fingerprint is already stored, returns it
   * without reading the chunks (the caller ends the transfer).
   */
  import(opId: string, header: ImportHeader, chunks: AsyncIterable<ImageChunkIn>, signal: AbortSignal): Promise<ImageInfo> {
    const expected = header.expectedFingerprint.toLowerCase();
    return this.ctx.ledger.run(opId, 'ImportImage', { format: header.format, expectedFingerprint: expected }, async () => {
      if (expected && !/^[0-9a-f]{64}$/.test(expected)) throw errors.invalid(`Invalid image fingerprint "${expected}"`);
      const store = this.ctx.drivers.images;
      const run = async (): Promise<ImageInfo> => {
        if (expected && (await store.has(expected))) return store.get(expected);
        const opts = expected ? { expectedFingerprint: expected } : {};
        const meta = new PassThrough({ highWaterMark: 1024 * 1024 });
        if (header.format === 'unified') {
          const done = store.importUnified(meta, opts, signal);
          await settleBoth(done, pump(chunks, { metadata: meta }, signal), [meta]);
          return done;
        }
        const rootfs = new PassThrough({ highWaterMark: 1024 * 1024 });
        const done = store.importSplit(meta, rootfs, opts, signal);
        await settleBoth(done, pump(chunks, { metadata: meta, rootfs }, signal), [meta, rootfs]);
        return done;
      };
      const info = expected ? await this.ctx.locks.with([{ key: lockKey.image(expected), mode: 'exclusive' }], run) : await run();
      this.ctx.log.info({ fingerprint: info.fingerprint, sizeBytes: info.sizeBytes }, 'image imported');
      return info;
    });
  }

  /**
   * Builds an image with a built-in recipe (`busybox`) and stores it. The recipes are
   * deterministic, so building again finds the image stored and returns it.
   */
  build(opId: string, recipe: string, signal: AbortSignal): Promise<ImageInfo> {
    return this.ctx.ledger.run(opId, 'BuildImage', { recipe }, async () => {
      if (recipe !== 'busybox') throw errors.invalid(`Unknown image recipe "${recipe}" (known: busybox)`);
      const built = await buildBusyboxImage({}, signal);
      const store = this.ctx.drivers.images;
      const fp = built.fingerprint;
      const info = await this.ctx.locks.with([{ key: lockKey.image(fp), mode: 'exclusive' }], async () =>
        (await store.has(fp)) ? store.get(fp) : store.importUnified(Readable.from([built.tarball]), { expectedFingerprint: fp }, signal),
      );
      this.ctx.log.info({ fingerprint: fp, sizeBytes: info.sizeBytes, recipe }, 'image built');
      return info;
    });
  }

  /** A part of an image as a stream of chunks from `offset`, with the part's total size. */
  async export(
    fingerprint: string,
    part: ImagePart,
    offset: number,
    chunkBytes: number,
  ): Promise<{ readonly fingerprint: string; readonly totalBytes: number; readonly stream: Readable }> {
    const store = this.ctx.drivers.images;
    const fp = await store.resolve(fingerprint);
    const info = await store.get(fp);
    if (part === 'rootfs' && info.format !== 'split') throw errors.invalid(`Image "${fp}" is unified: it has no rootfs part`);
    const totalBytes = await store.partSize(fp, part);
    if (offset > totalBytes) throw errors.invalid(`Offset ${offset} is beyond the ${part} part of image "${fp}" (${totalBytes} bytes)`);
    const size = Math.min(MAX_CHUNK_BYTES, chunkBytes > 0 ? chunkBytes : DEFAULT_CHUNK_BYTES);
    return { fingerprint: fp, totalBytes, stream: store.open(fp, part, offset, size) };
  }

  /** Describes an image (prefixes accepted). */
  async get(fingerprint: string): Promise<ImageInfo> {
    const store = this.ctx.drivers.images;
    return store.get(await store.resolve(fingerprint));
  }

  /** Describes an image with the sizes of its stored parts (rootfs 0 for unified images). */
  async describe(fingerprint: string): Promise<ImageDescription> {
    const info = await this.get(fingerprint);
    const store = this.ctx.drivers.images;
    const metadata = await store.partSize(info.fingerprint, 'metadata');
    const rootfs = info.format === 'split' ? await store.partSize(info.fingerprint, 'rootfs') : 0;
    return { info, parts: { metadata, rootfs } };
  }

  /** Stored images. */
  async list(): Promise<readonly ImageInfo[]> {
    return this.ctx.drivers.images.list();
  }

  /** Deletes an image and its image volumes on every pool. Missing: no-op. */
  delete(opId: string, fingerprint: string, signal: AbortSignal): Promise<null> {
    return this.ctx.ledger.run(opId, 'DeleteImage', { fingerprint }, async () => {
      const store = this.ctx.drivers.images;
      if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw errors.invalid(`Invalid image fingerprint "${fingerprint}" (give it in full)`);
      return this.ctx.locks.with([{ key: lockKey.image(fingerprint), mode: 'exclusive' }], async () => {
        for (const pool of await allValues(this.ctx.db.pools)) {
          await this.ctx.storage(pool.spec).deleteVolume(pool.spec, { type: 'image', name: fingerprint }, signal);
        }
        await store.delete(fingerprint);
        this.ctx.log.info({ fingerprint }, 'image deleted');
        return null;
      });
    });
  }
}

/** Copies chunks into the part streams, checking order and offsets, with backpressure. */
async function pump(
  chunks: AsyncIterable<ImageChunkIn>,
  parts: { readonly metadata: PassThrough; readonly rootfs?: PassThrough },
  signal: AbortSignal,
): Promise<void> {
  const received = { metadata: 0, rootfs: 0 };
  let current: ImagePart = 'metadata';
  for await (const chunk of chunks) {
    if (signal.aborted) throw errors.cancelled('Image import cancelled');
    const target = chunk.part === 'rootfs' ? parts.rootfs : parts.metadata;
    if (!target) throw errors.invalid('A unified image has no rootfs part');
    if (chunk.part === 'metadata' && current === 'rootfs') throw errors.invalid('Metadata chunk after rootfs chunks');
    if (chunk.part === 'rootfs' && current === 'metadata') {
      current = 'rootfs';
      parts.metadata.end();
    }
    if (chunk.offset !== received[chunk.part]) {
      throw errors.invalid(`Chunk of ${chunk.part} at offset ${chunk.offset}, expected ${received[chunk.part]}`);
    }
    received[chunk.part] += chunk.data.length;
    if (!target.write(chunk.data)) await once(target, 'drain', { signal });
  }
  if (parts.rootfs && received.rootfs === 0) throw errors.invalid('Split image import without rootfs chunks');
  parts.metadata.end();
  parts.rootfs?.end();
}

/**
 * Waits for the store and the pump. Whichever fails first destroys the part streams with its
 * error, so the other side stops too (the pump's pending 'drain' rejects; the store removes its
 * temporary files); that first error is thrown.
 */
async function settleBoth(store: Promise<ImageInfo>, pumping: Promise<void>, streams: readonly PassThrough[]): Promise<void> {
  let first: { readonly err: unknown } | undefined;
  const stop = (err: unknown): void => {
    first ??= { err };
    for (const s of streams) {
      if (s.destroyed) continue;
      // The store may have stopped listening already; without a listener the 'error' event of
      // destroy() would be an uncaught exception. The error itself is thrown below.
      s.on('error', () => undefined);
      s.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  };
  await Promise.allSettled([pumping.catch(stop), store.catch(stop)]);
  if (first) throw first.err;
}
