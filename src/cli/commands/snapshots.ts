/** `shoal snapshot`, `restore`, `copy` and `move` (within one server; `move --target` relocates in a cluster). */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { CliContext } from '../context.js';
import { instancePath, progressPrinter } from './instances.js';

/** `snapshot NAME [SNAPSHOT] [--stateful]` (the server names it snapN when omitted). */
export async function snapshot(ctx: CliContext, arg: string, snap: string | undefined, opts: { stateful?: boolean | undefined }): Promise<void> {
  const ref = await ctx.resolve(arg);
  await ref.client.send('POST', `${instancePath(ref.name)}/snapshots`, { ...(snap ? { name: snap } : {}), stateful: opts.stateful ?? false }, { query: { project: ref.project } });
}

/** `restore NAME SNAPSHOT`. */
export async function restore(ctx: CliContext, arg: string, snap: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  await ref.client.send('PUT', instancePath(ref.name), { restore: snap }, { query: { project: ref.project } });
}

/** `copy SOURCE[/SNAP] DEST [--target M] [--instance-only]`. */
export async function copy(ctx: CliContext, source: string, dest: string, opts: { target?: string | undefined; instanceOnly?: boolean | undefined }): Promise<void> {
  const src = await ctx.resolve(source);
  const dst = await ctx.resolve(dest);
  if (src.remote !== dst.remote) throw new ShoalError(ErrorCode.InvalidArgument, 'Copying instances between remotes is not supported');
  await dst.client.send(
    'POST',
    '/1.0/instances',
    { name: dst.name, source: { type: 'copy', source: src.name, instance_only: opts.instanceOnly ?? false } },
    { query: { project: dst.project, target: opts.target }, progress: progressPrinter(ctx) },
  );
}

/** `move SOURCE DEST` (rename) or `move NAME --target MEMBER` (relocate within the cluster). */
export async function move(ctx: CliContext, source: string, dest: string | undefined, opts: { target?: string | undefined; instanceOnly?: boolean | undefined }): Promise<void> {
  const src = await ctx.resolve(source);
  if (opts.target) {
    const name = dest ? (await ctx.resolve(dest)).name : src.name;
    await src.client.send('POST', instancePath(src.name), { name, migration: true, instance_only: opts.instanceOnly ?? false }, {
      query: { project: src.project, target: opts.target },
      progress: progressPrinter(ctx),
    });
    return;
  }
  if (!dest) throw new ShoalError(ErrorCode.InvalidArgument, 'Missing destination (or --target)');
  const dst = await ctx.resolve(dest);
  if (dst.remote !== src.remote) throw new ShoalError(ErrorCode.InvalidArgument, 'Moving instances between remotes is not supported');
  await src.client.send('POST', instancePath(src.name), { name: dst.name }, { query: { project: src.project } });
}
