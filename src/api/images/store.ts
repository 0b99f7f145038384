/**
 * ImageCatalog: the image work behind `/1.0/images` that touches both the cluster database and
 * the members' agents.
 * - import: the upload streams into the serving member's agent (ImportImage; the agent hashes,
 *   vets and verifies the fingerprint and keeps nothing on failure), then one transaction
 *   records the image, its copy on this member and its aliases. If that transaction fails the
 *   agent copy is removed again (unless another record uses it).
 * - build: the serving member's agent builds a recipe (BuildImage), then the same recording.
 * - delete: removes the record, then the files from every member holding them (only when no
 *   other project still has the fingerprint). A member that cannot be reached keeps its
 *   `image-members` row although the image is gone: such orphan rows are the to-do list of
 *   {@link ImageCatalog.sweep}, which runs after every delete and upload and removes the files
 *   once the member answers again.
 */
import { ErrorCode, ShoalError, errorMessage, errors, isShoalError, newOperationId, type Logger } from '../../shared/index.js';
import { clusterConfig, configNumber, imageAliases, imageMembers, images, members, type ImageRecord, type StateStore } from '../../state/index.js';
import type { MemberAgents } from '../ports.js';
import { ImageFormat, type Image as AgentImage, type ImagePart } from '../../../proto/gen/shoal/agent/v1/agent.js';
import { findImage, imageProjectOf, type ImageLocator } from './locator.js';
import { checkAliasName } from './records.js';

/** How an uploaded image's bytes arrive. */
export interface ImageUpload {
  readonly format: 'unified' | 'split';
  /** Metadata part first, then (split) the rootfs part. */
  readonly chunks: AsyncIterable<{ readonly part: ImagePart; readonly data: Buffer }>;
}

/** The record fields a request decides. */
export interface NewImageFields {
  /** Expected fingerprint ('' = whatever the bytes hash to). */
  readonly fingerprint: string;
  readonly filename: string;
  readonly public: boolean;
  readonly autoUpdate: boolean;
  /** Added to (and overriding) the image's metadata.yaml properties. */
  readonly properties: Readonly<Record<string, string>>;
  /** Undefined: ["default"] (LXD). */
  readonly profiles: readonly string[] | undefined;
  readonly aliases: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly expiresAt: string | null;
}

/** What a delete left behind, by member: the reason it could not be removed there. */
export type Leftovers = Readonly<Record<string, string>>;

export interface ImageCatalogOptions {
  readonly store: StateStore;
  readonly agents: MemberAgents;
  readonly log: Logger;
  /** This member's name: uploads and builds land on its agent. */
  readonly memberName: () => string;
  /** Upload size limit in bytes (all parts together). */
  readonly maxUploadBytes: number;
  /** Copies images for `cluster.images_minimal_replica` (absent: no eager copies). */
  readonly locator?: ImageLocator;
}

/** See the module comment. */
export class ImageCatalog {
  private sweeping: Promise<void> | undefined;

  constructor(private readonly o: ImageCatalogOptions) {}

  /** Imports an upload into this member's agent and records it in `project`. */
  async import(project: string, upload: ImageUpload, f: NewImageFields, signal: AbortSignal): Promise<ImageRecord> {
    const member = this.o.memberName();
    const client = this.o.agents.client(member);
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const limit = this.o.maxUploadBytes;
    async function* limited(): AsyncGenerator<{ readonly part: ImagePart; readonly data: Buffer }> {
      let total = 0;
      try {
        for await (const c of upload.chunks) {
          total += c.data.length;
          if (total > limit) throw errors.invalid(`Image upload exceeds the size limit of ${limit} bytes`);
          yield c;
        }
      } catch (err) {
        // Cancel the agent call: it removes its temporary files.
        ac.abort(err);
        throw err;
      }
    }
    let image: AgentImage | undefined;
    try {
      const format = upload.format === 'split' ? ImageFormat.IMAGE_FORMAT_SPLIT : ImageFormat.IMAGE_FORMAT_UNIFIED;
      image = (await client.importImage(newOperationId(), { format, expectedFingerprint: f.fingerprint }, limited(), { signal: ac.signal, timeoutMs: 0 })).image;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (!image) throw errors.internal('The agent stored an image but did not describe it');
    return this.record(project, member, image, f, 'create');
  }

  /** Builds `recipe` on this member's agent and records it in `project` (again: the existing record, aliases retargeted). */
  async build(project: string, recipe: string, f: NewImageFields, signal: AbortSignal): Promise<ImageRecord> {
    const member = this.o.memberName();
    const res = await this.o.agents.client(member).unary('buildImage', { operationId: newOperationId(), recipe }, { signal, timeoutMs: 5 * 60_000 });
    if (!res.image) throw errors.internal('The agent built an image but did not describe it');
    return this.record(project, member, res.image, f, 'reuse');
  }

  /**
   * Records an image stored on `member`. `create`: an existing record or alias is a conflict
   * (LXD); `reuse`: an existing record is kept and aliases are pointed at the image.
   */
  private async record(project: string, member: string, image: AgentImage, f: NewImageFields, mode: 'create' | 'reuse'): Promise<ImageRecord> {
    const fp = image.fingerprint;
    const now = new Date().toISOString();
    try {
      const { result } = await this.o.store.update((tx) => {
        const ip = imageProjectOf(tx, project);
        const cur = tx.get(images, ip, fp)?.record;
        if (cur && mode === 'create') throw errors.exists('Image with same fingerprint already exists');
        const rec: ImageRecord = cur ?? {
          fingerprint: fp,
          project: ip,
          filename: f.filename,
          size: Number(image.sizeBytes),
          architecture: image.architecture,
          type: 'container',
          public: f.public,
          auto_update: f.autoUpdate,
          cached: false,
          properties: { ...image.properties, ...f.properties },
          profiles: [...(f.profiles ?? ['default'])],
          created_at: (image.createdAt ?? new Date(0)).toISOString(),
          uploaded_at: now,
          last_used_at: null,
          expires_at: f.expiresAt,
        };
        if (!cur) tx.create(images, rec);
        if (!tx.get(imageMembers, fp, member)?.record.ready) tx.put(imageMembers, { fingerprint: fp, member, ready: true });
        for (const a of f.aliases) {
          checkAliasName(a.name);
          const existing = tx.get(imageAliases, ip, a.name)?.record;
          if (existing && mode === 'create') throw errors.exists(`Alias "${a.name}" already exists`);
          tx.put(imageAliases, { name: a.name, project: ip, description: a.description || existing?.description || '', target: fp, type: 'container' });
        }
        return rec;
      });
      return result;
    } catch (err) {
      await this.dropUnrecorded(fp, member);
      throw err;
    } finally {
      this.kickSweep();
    }
  }

  /**
   * Copies a new image to more members until `cluster.images_minimal_replica` members hold it
   * (LXD: default 3, -1 = all, 1 = none), picking members by name, skipping evacuated and
   * joining ones. Best effort: a member that fails is logged and skipped (instances created
   * there later get the image through ensureOn). Returns the members that got a copy.
   */
  async replicate(project: string, fp: string): Promise<string[]> {
    const view = await this.o.store.view();
    const want = configNumber('server', view.get(clusterConfig)?.record.config ?? {}, 'cluster.images_minimal_replica');
    if (!this.o.locator || want === 1) return [];
    const holders = new Set(view.list(imageMembers, fp).filter((c) => c.record.ready).map((c) => c.record.member));
    const candidates = view
      .list(members)
      .map((m) => m.record)
      .filter((m) => m.state === 'Created' && !holders.has(m.server_name))
      .map((m) => m.server_name)
      .sort();
    const missing = want < 0 ? candidates.length : Math.max(0, want - holders.size);
    const copied: string[] = [];
    for (const m of candidates) {
      if (copied.length >= missing) break;
      try {
        await this.o.locator.ensureOn(project, fp, m);
        copied.push(m);
      } catch (err) {
        this.o.log.warn({ err, fingerprint: fp, member: m }, 'image replication to member failed');
      }
    }
    return copied;
  }

  /** Removes `fp` from `member`'s agent unless the database says the member holds it for some record. */
  private async dropUnrecorded(fp: string, member: string): Promise<void> {
    try {
      const view = await this.o.store.view();
      if (view.get(imageMembers, fp, member)) return;
      await this.o.agents.client(member).unary('deleteImage', { operationId: newOperationId(), fingerprint: fp });
    } catch (err) {
      // The image stays on the member without a record; the upload already failed and says so.
      this.o.log.warn({ err, fingerprint: fp, member }, 'could not remove an unrecorded image copy');
    }
  }

  /**
   * Deletes the image `fingerprint` (full or prefix) of `project`: the record (and its aliases),
   * then, when no other project has it, the files on every member. Returns what could not be
   * removed (member → reason); those copies are retried by {@link sweep}.
   */
  async delete(project: string, fingerprint: string): Promise<{ readonly record: ImageRecord; readonly leftovers: Leftovers }> {
    let holders: string[] = [];
    let shared = false;
    const { result: record } = await this.o.store.update((tx) => {
      const rec = findImage(tx, project, fingerprint);
      holders = tx.list(imageMembers, rec.fingerprint).map((c) => c.record.member);
      shared = tx.list(images).some((i) => i.record.fingerprint === rec.fingerprint && i.record.project !== rec.project);
      tx.delete(images, rec.project, rec.fingerprint);
      // Keep the copy rows while files remain: removeCopies drops each row once its member confirms.
      if (!shared) for (const m of holders) tx.put(imageMembers, { fingerprint: rec.fingerprint, member: m, ready: false });
      return rec;
    });
    const leftovers = shared ? {} : await this.removeCopies(record.fingerprint, holders);
    this.kickSweep();
    return { record, leftovers };
  }

  /** Deletes `fp` on each member and drops its row; returns the failures. */
  private async removeCopies(fp: string, members: readonly string[]): Promise<Leftovers> {
    const leftovers: Record<string, string> = {};
    await Promise.all(
      members.map(async (m) => {
        try {
          await this.o.agents.client(m).unary('deleteImage', { operationId: newOperationId(), fingerprint: fp }, { timeoutMs: 60_000 });
          await this.o.store.update((tx) => {
            // Only if the image is still gone (it may have been uploaded again meanwhile).
            if (!tx.list(images).some((i) => i.record.fingerprint === fp) && tx.get(imageMembers, fp, m)) tx.delete(imageMembers, fp, m);
          });
        } catch (err) {
          // NOT_FOUND can only mean the member left the cluster (a missing image is a no-op for
          // DeleteImage); its rows go with it.
          if (isShoalError(err, ErrorCode.NotFound)) return;
          leftovers[m] = errorMessage(err);
          this.o.log.warn({ err, fingerprint: fp, member: m }, 'image copy not removed; will retry');
        }
      }),
    );
    return leftovers;
  }

  /**
   * Removes files of deleted images from members that could not be reached before (orphan
   * `image-members` rows). One sweep at a time; failures stay for the next one.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private kickSweep(): void {
    this.sweep().catch((err: unknown) => this.o.log.warn({ err }, 'image sweep failed'));
  }

  private async sweepOnce(): Promise<void> {
    const view = await this.o.store.view();
    const live = new Set(view.list(images).map((i) => i.record.fingerprint));
    const byFp = new Map<string, string[]>();
    for (const c of view.list(imageMembers)) {
      if (live.has(c.record.fingerprint)) continue;
      byFp.set(c.record.fingerprint, [...(byFp.get(c.record.fingerprint) ?? []), c.record.member]);
    }
    for (const [fp, members] of byFp) {
      const left = await this.removeCopies(fp, members);
      if (Object.keys(left).length === 0) this.o.log.info({ fingerprint: fp, members }, 'removed leftover image copies');
    }
  }
}

/** The error of a delete that left copies behind (the record is gone; files remain). */
export function leftoverError(fp: string, leftovers: Leftovers): ShoalError | undefined {
  const entries = Object.entries(leftovers);
  if (entries.length === 0) return undefined;
  const list = entries.map(([m, why]) => `"${m}" (${why})`).join(', ');
  return new ShoalError(
    ErrorCode.Unavailable,
    `Image "${fp}" was deleted, but its files remain on member${entries.length > 1 ? 's' : ''} ${list}; they are removed once the member answers again`,
  );
}
