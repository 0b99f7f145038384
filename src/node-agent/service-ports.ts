/**
 * Ports the service needs beyond the three driver interfaces: file access inside an instance and
 * the writing of image templates and cloud-init seeds into a root volume. Owned here (the
 * consumer); implemented by the LXC driver family and the image store's template renderer.
 */
import type { Readable } from 'node:stream';
import type { TemplateTrigger } from './images/image-store.js';
import type { InstanceRuntime } from './types.js';

/** A path inside an instance (ids as seen inside the instance). */
export interface FileInfo {
  readonly type: 'file' | 'directory' | 'symlink';
  readonly uid: number;
  readonly gid: number;
  /** Permission bits. */
  readonly mode: number;
  readonly size: number;
  /** Directory entries (names), for a directory. */
  readonly entries?: readonly string[];
  /** Symlink target, for a symlink. */
  readonly target?: string;
}

/** What to write at a path inside an instance. */
export interface PushFileSpec {
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  readonly append: boolean;
  /** Symlink target. */
  readonly target?: string;
}

/**
 * Files inside an instance, running or not. A path that escapes the instance's root (through
 * `..` or a symlink, absolute or relative) is refused with PERMISSION_DENIED or INVALID_ARGUMENT.
 */
export interface InstanceFiles {
  /** Describes `path`; for a regular file also streams its content. NOT_FOUND when missing. */
  pull(runtime: InstanceRuntime, path: string, signal: AbortSignal): Promise<{ info: FileInfo; content: Readable | null }>;
  /** Writes `path` (content for regular files). */
  push(runtime: InstanceRuntime, spec: PushFileSpec, content: Readable, signal: AbortSignal): Promise<void>;
  /** Removes a file, symlink or empty directory. NOT_FOUND when missing. */
  delete(runtime: InstanceRuntime, path: string, signal: AbortSignal): Promise<void>;
}

/** Writes image templates and cloud-init seeds into an instance's root volume. */
export interface InstanceTemplates {
  /**
   * Renders the templates of the instance's volume (`metadata.yaml` + `templates/`) whose `when`
   * includes `trigger` into its rootfs. Idempotent.
   */
  apply(runtime: InstanceRuntime, trigger: TemplateTrigger, signal: AbortSignal): Promise<void>;
  /** Writes the NoCloud seed from `cloud-init.*` config keys (no-op when there are none). Idempotent. */
  writeCloudInit(runtime: InstanceRuntime, signal: AbortSignal): Promise<void>;
}
