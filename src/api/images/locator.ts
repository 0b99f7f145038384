/**
 * ImageLocator (session contract 1): finds an image from an instance `source` and makes sure a
 * member's node agent holds it. Distribution is peer to peer between agents: the target's
 * ImportImage is fed straight from a holder's ExportImage (metadata part, then rootfs for split
 * images), so the image never sits whole in this process. The target verifies the fingerprint.
 * Presence is recorded in the `image-members` table (LXD images_nodes).
 */
import { ErrorCode, ShoalError, errorMessage, errors, isShoalError, newOperationId, type Logger } from '../../shared/index.js';
import { configBool, imageAliases, imageMembers, images, projects, type ImageRecord, type StateStore, type StateView, type WriteTx } from '../../state/index.js';
import type { MemberAgents } from '../ports.js';
import { ImageFormat, ImagePart, type Image as AgentImage } from '../../../proto/gen/shoal/agent/v1/agent.js';

/** See the module comment. The contract the instance routes use. */
export interface ImageLocator {
  /** An instance `source` ({alias} or {fingerprint}, a unique fingerprint prefix is accepted) in
   *  `project` → the image record. NOT_FOUND `Image "x" not found` otherwise. */
  resolve(project: string, source: { alias?: string; fingerprint?: string }): Promise<ImageRecord>;
  /** Makes sure `member`'s node agent holds the image: streams it from a member that has it
   *  (ExportImage → ImportImage) and records it in the image-members table. Idempotent;
   *  concurrent calls for the same (fingerprint, member) share one transfer. */
  ensureOn(project: string, fingerprint: string, member: string): Promise<void>;
}

/** The project whose images `project` uses (LXD `features.images`: false → the default project's). */
export function imageProjectOf(view: StateView | WriteTx, project: string): string {
  const p = view.get(projects, project);
  return p && !configBool('project', p.record.config, 'features.images') ? 'default' : project;
}

/**
 * The image record of `project` named by a full fingerprint or a unique prefix. NOT_FOUND when
 * none matches; INVALID_ARGUMENT when the prefix is ambiguous (LXD's messages).
 */
export function findImage(view: StateView | WriteTx, project: string, fingerprint: string): ImageRecord {
  const fp = fingerprint.toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(fp)) throw errors.notFound(`Image "${fingerprint}" not found`);
  const ip = imageProjectOf(view, project);
  if (fp.length === 64) {
    const got = view.get(images, ip, fp);
    if (!got) throw errors.notFound(`Image "${fingerprint}" not found`);
    return got.record;
  }
  const matches = view.list(images, ip).filter((s) => s.record.fingerprint.startsWith(fp));
  if (matches.length === 0) throw errors.notFound(`Image "${fingerprint}" not found`);
  if (matches.length > 1) throw errors.invalid(`More than one image matches "${fingerprint}"`);
  return matches[0]!.record;
}

/** Options of {@link AgentImageLocator}. */
export interface AgentImageLocatorOptions {
  readonly store: StateStore;
  readonly agents: MemberAgents;
  readonly log: Logger;
  /** Deadline of one transfer (default 30 min: images can be large). */
  readonly transferTimeoutMs?: number;
}

/** The ImageLocator over the cluster database and the members' agents. */
export class AgentImageLocator implements ImageLocator {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly transferTimeoutMs: number;
  /** Completed transfers (tests and the README's figures). */
  transfers = 0;

  constructor(private readonly o: AgentImageLocatorOptions) {
    this.transferTimeoutMs = o.transferTimeoutMs ?? 30 * 60_000;
  }

  async resolve(project: string, source: { alias?: string; fingerprint?: string }): Promise<ImageRecord> {
    const view = await this.o.store.view();
    if (source.alias !== undefined && source.alias !== '') {
      const ip = imageProjectOf(view, project);
      const alias = view.get(imageAliases, ip, source.alias);
      if (!alias) throw errors.notFound(`Image "${source.alias}" not found`);
      return findImage(view, project, alias.record.target);
    }
    if (source.fingerprint !== undefined && source.fingerprint !== '') return findImage(view, project, source.fingerprint);
    throw errors.invalid('Image source needs an alias or a fingerprint');
  }

  async ensureOn(project: string, fingerprint: string, member: string): Promise<void> {
    // Keyed by the full fingerprint, so a prefix and the full form share one transfer.
    const fp = findImage(await this.o.store.view(), project, fingerprint).fingerprint;
    const key = `${fp}/${member}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.ensure(fp, member).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async ensure(fp: string, member: string): Promise<void> {
    const view = await this.o.store.view();
    const target = this.o.agents.client(member);
    // The record says it is there: trust but verify (a member's disk can be replaced).
    if (view.get(imageMembers, fp, member)?.record.ready) {
      if (await agentHas(target, fp)) return;
      this.o.log.warn({ fingerprint: fp, member }, 'image recorded on member but missing there; copying again');
    } else if (await agentHas(target, fp)) {
      await this.record(fp, member);
      return;
    }
    const holders = view
      .list(imageMembers, fp)
      .filter((c) => c.record.ready && c.record.member !== member)
      .map((c) => c.record.member);
    if (holders.length === 0) throw errors.notFound(`Image "${fp}" is not stored on any member`);
    const failures: string[] = [];
    for (const source of holders) {
      try {
        await this.transfer(fp, source, member);
        await this.record(fp, member);
        return;
      } catch (err) {
        if (isShoalError(err, ErrorCode.InvalidArgument)) throw err;
        failures.push(`"${source}": ${errorMessage(err)}`);
        this.o.log.warn({ err, fingerprint: fp, member, peer: source }, 'image copy from member failed');
      }
    }
    throw new ShoalError(ErrorCode.Unavailable, `Failed copying image "${fp}" to member "${member}": ${failures.join('; ')}`);
  }

  private async transfer(fp: string, source: string, member: string): Promise<void> {
    const from = this.o.agents.client(source);
    const to = this.o.agents.client(member);
    const signal = AbortSignal.timeout(this.transferTimeoutMs);
    const desc = (await from.unary('getImage', { fingerprint: fp }, { signal })).image;
    if (!desc) throw errors.internal(`Member "${source}" described image "${fp}" without an image`);
    const split = desc.format === ImageFormat.IMAGE_FORMAT_SPLIT;
    const started = Date.now();
    async function* chunks(): AsyncGenerator<{ readonly part: ImagePart; readonly data: Buffer }> {
      for (const part of split ? [ImagePart.IMAGE_PART_METADATA, ImagePart.IMAGE_PART_ROOTFS] : [ImagePart.IMAGE_PART_METADATA]) {
        for await (const m of from.exportImage({ fingerprint: fp, part, offset: 0 }, { signal, timeoutMs: 0 })) {
          if (m.chunk && m.chunk.data.length > 0) yield { part, data: m.chunk.data };
        }
      }
    }
    const format = split ? ImageFormat.IMAGE_FORMAT_SPLIT : ImageFormat.IMAGE_FORMAT_UNIFIED;
    await to.importImage(newOperationId(), { format, expectedFingerprint: fp }, chunks(), { signal, timeoutMs: 0 });
    this.transfers++;
    this.o.log.info({ fingerprint: fp, peer: source, member, sizeBytes: sizeOf(desc), durationMs: Date.now() - started }, 'image copied to member');
  }

  /** Records `member`'s copy (only while some project still has the image; see ./README.md). */
  private async record(fp: string, member: string): Promise<void> {
    await this.o.store.update((tx) => {
      const cur = tx.get(imageMembers, fp, member);
      if (cur?.record.ready) return;
      tx.put(imageMembers, { fingerprint: fp, member, ready: true });
    });
  }
}

/** True when the agent stores `fp`; NOT_FOUND → false, other failures propagate. */
export async function agentHas(client: ReturnType<MemberAgents['client']>, fp: string): Promise<boolean> {
  try {
    await client.unary('getImage', { fingerprint: fp }, { timeoutMs: 30_000 });
    return true;
  } catch (err) {
    if (isShoalError(err, ErrorCode.NotFound)) return false;
    throw err;
  }
}

function sizeOf(i: AgentImage): number {
  return Number(i.sizeBytes);
}
