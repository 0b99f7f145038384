/**
 * ImageStore: this member's content-addressed store of LXD images (unified tarballs and split
 * metadata + rootfs). Files are named by fingerprint, written under a temporary name and renamed
 * only once the SHA-256 matches, so a crash or a bad upload never leaves a half image behind.
 * Reads stream in chunks from any offset, ready for peer-to-peer distribution.
 */
import type { Readable } from 'node:stream';
import type { ImageInfo } from '../types.js';

/** Which stored file of an image. A unified image has only `metadata` (the whole tarball). */
export type ImagePart = 'metadata' | 'rootfs';

export interface ImportOptions {
  /** When set, the import fails with INVALID_ARGUMENT unless the computed fingerprint matches. */
  readonly expectedFingerprint?: string;
}

export interface ImageStore {
  /** Imports a unified tarball (metadata.yaml, rootfs/, templates/; optionally compressed). Idempotent by fingerprint. */
  importUnified(tarball: Readable, options: ImportOptions, signal: AbortSignal): Promise<ImageInfo>;
  /** Imports a split image: metadata tarball + rootfs (squashfs or tarball). Idempotent by fingerprint. */
  importSplit(metadata: Readable, rootfs: Readable, options: ImportOptions, signal: AbortSignal): Promise<ImageInfo>;
  /** NOT_FOUND when absent. */
  get(fingerprint: string): Promise<ImageInfo>;
  has(fingerprint: string): Promise<boolean>;
  list(): Promise<readonly ImageInfo[]>;
  /** Resolves a unique fingerprint prefix (LXD accepts prefixes); NOT_FOUND or INVALID_ARGUMENT when ambiguous. */
  resolve(prefix: string): Promise<string>;
  /** Removes the image's files. Missing → no-op. */
  delete(fingerprint: string): Promise<void>;
  /** Size of a stored part, for chunked transfers. */
  partSize(fingerprint: string, part: ImagePart): Promise<number>;
  /** Streams a stored part from `offset` in chunks of at most `chunkBytes` (export and peer transfer). */
  open(fingerprint: string, part: ImagePart, offset: number, chunkBytes: number): Readable;
  /** Unpacks the image into an empty `targetDir`: metadata.yaml, templates/ and rootfs/. */
  unpack(fingerprint: string, targetDir: string, signal: AbortSignal): Promise<void>;
}

/** When templates apply (LXD metadata.yaml `templates.<path>.when`). */
export type TemplateTrigger = 'create' | 'copy' | 'start';
