/**
 * `shoal image`: list, show, import (tarball upload with progress), delete, aliases, and
 * `image build busybox` (the server builds the busybox image through its node agent:
 * `POST /1.0/images {source: {type: "busybox"}}`, a Shoal extension).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { Image, ImageAliasesEntry, ImagesPost, Operation } from '../../api/types/index.js';
import type { CliContext } from '../context.js';
import { renderListing, type ListFormat } from '../format/table.js';
import { progressPrinter } from './instances.js';
import { bytes } from './list.js';

function shortTime(ts: string): string {
  if (!ts || ts.startsWith('0001-')) return '';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toUTCString().replace(/^\w+, /, '');
}

/** `image list [remote:] [filter...]`: ALIAS FINGERPRINT PUBLIC DESCRIPTION ARCHITECTURE TYPE SIZE UPLOAD DATE. */
export async function imageList(ctx: CliContext, args: readonly string[], opts: { format: ListFormat }): Promise<void> {
  let remote: string | undefined;
  let filters = [...args];
  if (args[0]?.endsWith(':')) {
    remote = (await ctx.resolve(args[0])).remote;
    filters = args.slice(1);
  }
  const client = await ctx.client(remote);
  const images = await client.get<Image[]>('/1.0/images', { recursion: 1, project: await ctx.project(remote) });
  const shown = images
    .filter((i) => filters.every((f) => i.fingerprint.startsWith(f) || i.aliases.some((a) => a.name.startsWith(f))))
    .sort((a, b) => (a.aliases[0]?.name ?? '~' + a.fingerprint).localeCompare(b.aliases[0]?.name ?? '~' + b.fingerprint));
  const headers = ['ALIAS', 'FINGERPRINT', 'PUBLIC', 'DESCRIPTION', 'ARCHITECTURE', 'TYPE', 'SIZE', 'UPLOAD DATE'];
  const rows = shown.map((i) => [
    i.aliases.map((a) => a.name).join('\n'),
    i.fingerprint.slice(0, 12),
    i.public ? 'yes' : 'no',
    i.properties['description'] ?? '',
    i.architecture,
    (i.type || 'container').toUpperCase(),
    bytes(i.size),
    shortTime(i.uploaded_at),
  ]);
  ctx.out(await renderListing({ headers, rows, objects: shown }, opts.format));
}

/** Resolves an alias or fingerprint prefix to the full fingerprint. */
export async function resolveImage(ctx: CliContext, arg: string): Promise<{ fingerprint: string; ref: Awaited<ReturnType<CliContext['resolve']>> }> {
  const ref = await ctx.resolve(arg);
  if (ref.name === '') throw new ShoalError(ErrorCode.InvalidArgument, 'Missing image fingerprint or alias');
  try {
    const alias = await ref.client.get<ImageAliasesEntry>(`/1.0/images/aliases/${encodeURIComponent(ref.name)}`, { project: ref.project });
    return { fingerprint: alias.target, ref };
  } catch (err) {
    if (!(err instanceof ShoalError && err.code === ErrorCode.NotFound)) throw err;
  }
  if (/^[0-9a-f]{64}$/.test(ref.name)) return { fingerprint: ref.name, ref };
  const images = await ref.client.get<string[]>('/1.0/images', { project: ref.project });
  const matches = images.map((u) => u.split('/').pop() ?? '').filter((f) => f.startsWith(ref.name));
  if (matches.length === 0) throw new ShoalError(ErrorCode.NotFound, `Image "${ref.name}" not found`);
  if (matches.length > 1) throw new ShoalError(ErrorCode.InvalidArgument, `Image "${ref.name}" is ambiguous (${matches.length} matches)`);
  return { fingerprint: matches[0]!, ref };
}

/** `image show`/`image info`. */
export async function imageShow(ctx: CliContext, arg: string): Promise<void> {
  const { fingerprint, ref } = await resolveImage(ctx, arg);
  const image = await ref.client.get<Image>(`/1.0/images/${fingerprint}`, { project: ref.project });
  ctx.out((await import('yaml')).stringify(image));
}

/** `image delete`. */
export async function imageDelete(ctx: CliContext, args: readonly string[]): Promise<void> {
  for (const arg of args) {
    const { fingerprint, ref } = await resolveImage(ctx, arg);
    await ref.client.send('DELETE', `/1.0/images/${fingerprint}`, undefined, { query: { project: ref.project } });
  }
}

async function addAliases(ctx: CliContext, remote: string, fingerprint: string, aliases: readonly string[]): Promise<void> {
  const client = await ctx.client(remote);
  const project = await ctx.project(remote);
  for (const name of aliases) {
    await client.send('POST', '/1.0/images/aliases', { name, target: fingerprint }, { query: { project } });
  }
}

/** A stream counting what passes, reporting "Transferring image: N% (rate)". */
export function uploadProgress(total: number, report: (text: string) => void, now: () => number = Date.now): Transform {
  let sent = 0;
  let lastShown = -1;
  const startedAt = now();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      const pct = total > 0 ? Math.floor((sent * 100) / total) : 100;
      if (pct !== lastShown) {
        lastShown = pct;
        const secs = Math.max(0.001, (now() - startedAt) / 1000);
        report(`Transferring image: ${pct}% (${bytes(Math.round(sent / secs))}/s)`);
      }
      cb(null, chunk);
    },
  });
}

/** `image import TARBALL [--alias A] [--public]`: one unified tarball as the raw body. */
export async function imageImport(
  ctx: CliContext,
  file: string,
  remoteArg: string | undefined,
  opts: { alias?: readonly string[] | undefined; public?: boolean | undefined },
): Promise<void> {
  const ref = await ctx.resolve(remoteArg ?? '');
  const size = (await stat(file).catch((err: unknown) => {
    throw new ShoalError(ErrorCode.NotFound, `Image file "${file}" not found`, { cause: err });
  })).size;
  const progress = progressPrinter(ctx) ?? (() => undefined);
  const body = createReadStream(file).pipe(uploadProgress(size, progress));
  const op = await ref.client.upload<Operation>(
    '/1.0/images',
    body,
    {
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      'x-lxd-filename': basename(file),
      'x-lxd-public': opts.public ? '1' : '0',
    },
    { query: { project: ref.project }, progress },
  );
  const fingerprint = String(op?.metadata?.['fingerprint'] ?? '');
  if (ctx.streams.isTTY) ctx.streams.err('\r\x1b[K');
  ctx.say(`Image imported with fingerprint: ${fingerprint}`);
  if (opts.alias && opts.alias.length > 0) await addAliases(ctx, ref.remote, fingerprint, opts.alias);
}

/** `image build busybox [--alias A]`: the server builds the image (Shoal extension). */
export async function imageBuild(ctx: CliContext, kind: string, remoteArg: string | undefined, opts: { alias?: readonly string[] | undefined; target?: string | undefined }): Promise<void> {
  if (kind !== 'busybox') throw new ShoalError(ErrorCode.InvalidArgument, `Unknown image recipe "${kind}" (known: busybox)`);
  const ref = await ctx.resolve(remoteArg ?? '');
  const aliases = opts.alias && opts.alias.length > 0 ? opts.alias : ['busybox'];
  const body: ImagesPost = { source: { type: 'busybox' }, aliases: aliases.map((name) => ({ name })) };
  const op = await ref.client.send<Operation>('POST', '/1.0/images', body, {
    query: { project: ref.project, target: opts.target },
    progress: progressPrinter(ctx),
  });
  const fingerprint = String(op?.metadata?.['fingerprint'] ?? '');
  ctx.say(`Image built with fingerprint: ${fingerprint} (alias ${aliases.join(', ')})`);
}

/** `image alias create|delete|list|rename`. */
export async function aliasCreate(ctx: CliContext, aliasArg: string, image: string, description?: string): Promise<void> {
  const { fingerprint, ref } = await resolveImage(ctx, image);
  const alias = await ctx.resolve(aliasArg);
  await ref.client.send('POST', '/1.0/images/aliases', { name: alias.name, target: fingerprint, ...(description ? { description } : {}) }, { query: { project: ref.project } });
}

/** Deletes an alias. */
export async function aliasDelete(ctx: CliContext, aliasArg: string): Promise<void> {
  const ref = await ctx.resolve(aliasArg);
  await ref.client.send('DELETE', `/1.0/images/aliases/${encodeURIComponent(ref.name)}`, undefined, { query: { project: ref.project } });
}

/** Renames an alias. */
export async function aliasRename(ctx: CliContext, aliasArg: string, newName: string): Promise<void> {
  const ref = await ctx.resolve(aliasArg);
  await ref.client.send('POST', `/1.0/images/aliases/${encodeURIComponent(ref.name)}`, { name: newName }, { query: { project: ref.project } });
}

/** Lists aliases: ALIAS FINGERPRINT TYPE DESCRIPTION. */
export async function aliasList(ctx: CliContext, remoteArg: string | undefined, opts: { format: ListFormat }): Promise<void> {
  const ref = await ctx.resolve(remoteArg ?? '');
  const aliases = await ref.client.get<ImageAliasesEntry[]>('/1.0/images/aliases', { recursion: 1, project: ref.project });
  const sorted = [...aliases].sort((a, b) => a.name.localeCompare(b.name));
  const rows = sorted.map((a) => [a.name, a.target.slice(0, 12), (a.type || 'container').toUpperCase(), a.description]);
  ctx.out(await renderListing({ headers: ['ALIAS', 'FINGERPRINT', 'TYPE', 'DESCRIPTION'], rows, objects: sorted }, opts.format));
}
