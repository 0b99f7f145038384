/** `shoal operation` (list, show, delete), `shoal query` (raw REST) and `shoal monitor` (event stream). */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { Operation, OperationsByStatus } from '../../api/types/index.js';
import { decodeEnvelope, withQuery } from '../client/client.js';
import type { CliContext } from '../context.js';
import { renderListing, type ListFormat } from '../format/table.js';

/** `operation list`: ID TYPE DESCRIPTION STATUS CANCELABLE CREATED. */
export async function operationList(ctx: CliContext, remoteArg: string | undefined, opts: { format: ListFormat; allProjects?: boolean | undefined }): Promise<void> {
  const ref = await ctx.resolve(remoteArg ?? '');
  const byStatus = await ref.client.get<OperationsByStatus>('/1.0/operations', { recursion: 1, project: opts.allProjects ? undefined : ref.project, 'all-projects': opts.allProjects ? true : undefined });
  const ops = Object.values(byStatus).flat().sort((a, b) => a.created_at.localeCompare(b.created_at));
  const rows = ops.map((o) => [o.id, o.class.toUpperCase(), o.description, o.status.toUpperCase(), o.may_cancel ? 'YES' : 'NO', o.created_at]);
  ctx.out(await renderListing({ headers: ['ID', 'TYPE', 'DESCRIPTION', 'STATUS', 'CANCELABLE', 'CREATED'], rows, objects: ops }, opts.format));
}

/** `operation show ID`. */
export async function operationShow(ctx: CliContext, arg: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  ctx.out((await import('yaml')).stringify(await ref.client.get<Operation>(`/1.0/operations/${encodeURIComponent(ref.name)}`)));
}

/** `operation delete ID` (cancel). */
export async function operationDelete(ctx: CliContext, arg: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  await ref.client.send('DELETE', `/1.0/operations/${encodeURIComponent(ref.name)}`);
  ctx.say(`Operation ${ref.name} deleted`);
}

/** `query [-X METHOD] [-d DATA] [--wait] [--raw] [remote:]PATH`: prints the metadata (or the whole envelope with --raw) as JSON. */
export async function query(ctx: CliContext, arg: string, opts: { request: string; data?: string | undefined; wait?: boolean | undefined; raw?: boolean | undefined }): Promise<void> {
  const ref = await ctx.resolve(arg);
  let path = ref.name;
  if (!path.startsWith('/')) throw new ShoalError(ErrorCode.InvalidArgument, `Query path must start with /: "${path}"`);
  if (ref.project && !/[?&]project=/.test(path)) path = withQuery(path, { project: ref.project });
  let body: unknown;
  if (opts.data !== undefined) {
    const text = opts.data === '-' ? await (await import('./edit.js')).readStdin() : opts.data;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new ShoalError(ErrorCode.InvalidArgument, `Invalid JSON in --data: ${(err as Error).message}`, { cause: err });
    }
  }
  const method = opts.request.toUpperCase();
  const res = await ref.client.transport.request({
    method,
    path,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const env = decodeEnvelope(res, `${method} ${path.split('?')[0]}`);
  if (opts.raw) {
    ctx.out(JSON.stringify(env, null, 4) + '\n');
    return;
  }
  let result: unknown = env.metadata;
  if (env.type === 'async' && opts.wait) result = (await ref.client.waitOperation(env.metadata as Operation)).metadata;
  ctx.out(JSON.stringify(result, null, 4) + '\n');
}

/** `monitor [remote:] [--type T] [--format json|yaml]`: prints events until interrupted (or `--count`). */
export async function monitor(ctx: CliContext, remoteArg: string | undefined, opts: { type?: string[] | undefined; format: 'json' | 'yaml'; allProjects?: boolean | undefined; count?: string | undefined }): Promise<void> {
  const ref = await ctx.resolve(remoteArg ?? '');
  const { default: WebSocket } = await import('ws');
  const { stringify } = await import('yaml');
  const path = withQuery('/1.0/events', {
    type: opts.type && opts.type.length > 0 ? opts.type.join(',') : undefined,
    project: opts.allProjects ? undefined : ref.project,
    'all-projects': opts.allProjects ? true : undefined,
  });
  const { url, options } = ref.client.transport.websocketTarget(path);
  const ws = new WebSocket(url, options);
  const limit = opts.count === undefined ? Infinity : Number(opts.count);
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    ws.once('error', (err) => reject(new ShoalError(ErrorCode.Unavailable, `Failed connecting to the event stream: ${err.message}`, { cause: err })));
    ws.once('unexpected-response', (_req, res) => reject(new ShoalError(ErrorCode.Unavailable, `Event stream refused with HTTP ${res.statusCode ?? 0}`)));
    ws.once('open', () => ctx.streams.err(ctx.globals.quiet ? '' : 'Waiting for events (Ctrl+C to stop)\n'));
    ws.on('message', (data: Buffer) => {
      const event: unknown = JSON.parse(data.toString('utf8'));
      ctx.out(opts.format === 'json' ? JSON.stringify(event) + '\n' : stringify(event) + '\n');
      if (++seen >= limit) ws.close();
    });
    ws.once('close', () => resolve());
  });
}
