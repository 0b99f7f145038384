/**
 * StorageDriver: pools and volumes on this host (incus `storage/drivers/interface.go`). One file
 * family per implementation (dir, btrfs; lvm/zfs later need only a new driver). Every method is
 * idempotent and honours its AbortSignal; errors are ShoalErrors naming the pool or volume.
 *
 * Volume layout inside a pool (LXD's): `containers/<name>`, `containers-snapshots/<name>/<snap>`,
 * `images/<fingerprint>`, `custom/<name>`, `custom-snapshots/<name>/<snap>`. A container volume
 * holds `metadata.yaml`, `templates/` and `rootfs/`, as unpacked from its image.
 */
import type { ConfigMap, PoolSpec, VolumeRef } from '../types.js';

export interface PoolUsage {
  readonly totalBytes: number;
  readonly usedBytes: number;
}

/** Fills an empty directory with an unpacked image (metadata.yaml, templates/, rootfs/). */
export type ImageUnpacker = (targetDir: string, signal: AbortSignal) => Promise<void>;

export interface StorageDriver {
  readonly name: string;
  /** Throws INVALID_ARGUMENT for unknown or bad pool config keys. Pure. */
  validatePool(config: ConfigMap): void;
  /**
   * Creates (or adopts, when it exists with the same config) the pool and mounts it. Returns the
   * effective config (e.g. the loop file chosen as `source`, the default `size`).
   */
  createPool(pool: PoolSpec, signal: AbortSignal): Promise<ConfigMap>;
  /** Makes an existing pool usable after a restart (mount loop file…). Idempotent. */
  mountPool(pool: PoolSpec, signal: AbortSignal): Promise<void>;
  unmountPool(pool: PoolSpec, signal: AbortSignal): Promise<void>;
  /** Removes the pool and everything on it (loop file, mount, directory). Missing → no-op. */
  deletePool(pool: PoolSpec, signal: AbortSignal): Promise<void>;
  /** Applies config changes; raising `size` of a loop-backed pool grows it online. */
  updatePool(pool: PoolSpec, changed: ConfigMap, signal: AbortSignal): Promise<void>;
  poolUsage(pool: PoolSpec, signal: AbortSignal): Promise<PoolUsage>;

  /** Ensures the image volume `images/<fingerprint>` exists, unpacking once with `unpack`. */
  ensureImageVolume(pool: PoolSpec, fingerprint: string, unpack: ImageUnpacker, signal: AbortSignal): Promise<void>;
  /**
   * Creates an instance or custom volume from the image volume (copy for dir, subvolume snapshot
   * for btrfs), with an optional quota. The image volume must exist.
   */
  createVolumeFromImage(
    pool: PoolSpec,
    volume: VolumeRef,
    fingerprint: string,
    options: { readonly sizeBytes?: number },
    signal: AbortSignal,
  ): Promise<void>;
  /** Creates an empty volume (custom volumes; instances with source none get an empty rootfs/). */
  createVolume(pool: PoolSpec, volume: VolumeRef, options: { readonly sizeBytes?: number }, signal: AbortSignal): Promise<void>;
  copyVolume(pool: PoolSpec, source: VolumeRef, target: VolumeRef, signal: AbortSignal): Promise<void>;
  /** Deletes a volume and its snapshots. Missing → no-op. */
  deleteVolume(pool: PoolSpec, volume: VolumeRef, signal: AbortSignal): Promise<void>;
  renameVolume(pool: PoolSpec, volume: VolumeRef, newName: string, signal: AbortSignal): Promise<void>;
  /** Absolute host path of the (mounted) volume. Pure. */
  volumePath(pool: PoolSpec, volume: VolumeRef): string;
  /** Sets (or with undefined removes) the volume's quota. */
  setVolumeQuota(pool: PoolSpec, volume: VolumeRef, sizeBytes: number | undefined, signal: AbortSignal): Promise<void>;
  volumeUsage(pool: PoolSpec, volume: VolumeRef, signal: AbortSignal): Promise<{ readonly usedBytes: number; readonly quotaBytes: number }>;

  createSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, signal: AbortSignal): Promise<void>;
  /** Replaces the volume's content with the snapshot's (the instance must be stopped). */
  restoreSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, signal: AbortSignal): Promise<void>;
  deleteSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, signal: AbortSignal): Promise<void>;
  renameSnapshot(pool: PoolSpec, volume: VolumeRef, snapshot: string, newName: string, signal: AbortSignal): Promise<void>;
  listSnapshots(pool: PoolSpec, volume: VolumeRef, signal: AbortSignal): Promise<readonly string[]>;
}
