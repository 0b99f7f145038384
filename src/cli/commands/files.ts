/**
 * `shoal file push|pull`: `/1.0/instances/<name>/files?path=` (raw body; `X-LXD-uid/gid/mode`
 * headers, as LXD). Paths are written `NAME/path/in/instance`, as lxc writes them.
 */
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import { decodeEnvelope, withQuery } from '../client/client.js';
import type { CliContext } from '../context.js';
import { instancePath } from './instances.js';

/** Splits `[remote:]name/path` into the instance ref and the absolute path inside it. */
export function splitInstanceFile(arg: string): { instance: string; path: string } {
  const slash = arg.indexOf('/');
  if (slash <= 0) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid instance path "${arg}" (expected NAME/path)`);
  return { instance: arg.slice(0, slash), path: arg.slice(slash) };
}

/** `file pull NAME/path LOCAL` (LOCAL `-` = stdout; a directory keeps the file name). */
export async function filePull(ctx: CliContext, source: string, dest: string): Promise<void> {
  const { instance, path } = splitInstanceFile(source);
  const ref = await ctx.resolve(instance);
  const res = await ref.client.transport.request({ method: 'GET', path: withQuery(`${instancePath(ref.name)}/files`, { path, project: ref.project }) });
  if (res.status >= 400 || String(res.headers['content-type'] ?? '').startsWith('application/json')) {
    const env = decodeEnvelope(res, 'GET files');
    if (env.type === 'sync') throw new ShoalError(ErrorCode.InvalidArgument, `"${path}" is a directory (recursive pull is not supported)`);
  }
  if (dest === '-') {
    ctx.streams.out(res.body.toString('utf8'));
    return;
  }
  const isDir = await stat(dest).then((s) => s.isDirectory(), () => false);
  const mode = Number.parseInt(String(res.headers['x-lxd-mode'] ?? '644'), 8);
  await writeFile(isDir ? join(dest, basename(path)) : dest, res.body, { mode: Number.isNaN(mode) ? 0o644 : mode });
}

/** `file push LOCAL NAME/path [--uid --gid --mode]`. */
export async function filePush(ctx: CliContext, source: string, target: string, opts: { uid?: string | undefined; gid?: string | undefined; mode?: string | undefined }): Promise<void> {
  const { instance, path: rawPath } = splitInstanceFile(target);
  const path = rawPath.endsWith('/') ? rawPath + basename(source) : rawPath;
  const ref = await ctx.resolve(instance);
  const st = await stat(source).catch((err: unknown) => {
    throw new ShoalError(ErrorCode.NotFound, `File "${source}" not found`, { cause: err });
  });
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(st.size),
    'x-lxd-type': 'file',
    'x-lxd-write': 'overwrite',
    'x-lxd-uid': opts.uid ?? '0',
    'x-lxd-gid': opts.gid ?? '0',
    'x-lxd-mode': opts.mode ?? (st.mode & 0o7777).toString(8).padStart(4, '0'),
  };
  const res = await ref.client.transport.request({
    method: 'POST',
    path: withQuery(`${instancePath(ref.name)}/files`, { path, project: ref.project }),
    headers,
    body: createReadStream(source),
  });
  decodeEnvelope(res, 'POST files');
}
