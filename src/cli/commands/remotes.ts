/** `shoal remote`: add (trust token), list, remove, rename, switch, get-default. */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import { LOCAL_REMOTE, allRemotes, saveConfig } from '../client/config.js';
import type { CliContext } from '../context.js';
import { renderListing, type ListFormat } from '../format/table.js';

/** `remote add NAME TOKEN|ADDRESS [--token T] [--accept-certificate] [--project P]`. */
export async function remoteAdd(ctx: CliContext, name: string, target: string, opts: { token?: string; acceptCertificate?: boolean; project?: string }): Promise<void> {
  const { addRemote } = await import('../client/remote-add.js');
  const config = await addRemote(await ctx.config(), ctx.paths, { name, target, token: opts.token, acceptCertificate: opts.acceptCertificate ?? false, project: opts.project, now: Date.now() });
  await saveConfig(ctx.paths, config);
  ctx.invalidateConfig();
  ctx.say(`Remote ${name} added`);
}

/** `remote list`: NAME URL PROTOCOL AUTH TYPE PUBLIC STATIC. */
export async function remoteList(ctx: CliContext, opts: { format: ListFormat }): Promise<void> {
  const config = await ctx.config();
  const remotes = allRemotes(config, ctx.paths);
  const names = Object.keys(remotes).sort();
  const rows = names.map((n) => {
    const r = remotes[n]!;
    const label = n === config.defaultRemote ? `${n} (current)` : n;
    return [label, r.addr, r.protocol ?? 'shoal', r.addr.startsWith('unix:') ? 'file access' : 'tls', r.public ? 'YES' : 'NO', n === LOCAL_REMOTE ? 'YES' : 'NO'];
  });
  ctx.out(await renderListing({ headers: ['NAME', 'URL', 'PROTOCOL', 'AUTH TYPE', 'PUBLIC', 'STATIC'], rows, objects: remotes }, opts.format));
}

function mustExist(name: string, remotes: Readonly<Record<string, unknown>>): void {
  if (!remotes[name]) throw new ShoalError(ErrorCode.NotFound, `Remote "${name}" doesn't exist`);
}

/** `remote remove NAME`. */
export async function remoteRemove(ctx: CliContext, name: string): Promise<void> {
  const config = await ctx.config();
  if (name === LOCAL_REMOTE) throw new ShoalError(ErrorCode.InvalidArgument, `Remote "${name}" is static and can't be removed`);
  mustExist(name, config.remotes);
  if (config.defaultRemote === name) throw new ShoalError(ErrorCode.FailedPrecondition, "Can't remove the default remote");
  const { [name]: _removed, ...remotes } = config.remotes;
  await saveConfig(ctx.paths, { ...config, remotes });
  const { rm } = await import('node:fs/promises');
  await rm(`${ctx.paths.confDir}/servercerts/${name}.crt`, { force: true });
  ctx.invalidateConfig();
}

/** `remote rename OLD NEW`. */
export async function remoteRename(ctx: CliContext, from: string, to: string): Promise<void> {
  const config = await ctx.config();
  if (from === LOCAL_REMOTE) throw new ShoalError(ErrorCode.InvalidArgument, `Remote "${from}" is static and can't be renamed`);
  mustExist(from, config.remotes);
  if (allRemotes(config, ctx.paths)[to]) throw new ShoalError(ErrorCode.AlreadyExists, `Remote "${to}" already exists`);
  const { [from]: entry, ...rest } = config.remotes;
  const { rename } = await import('node:fs/promises');
  await rename(`${ctx.paths.confDir}/servercerts/${from}.crt`, `${ctx.paths.confDir}/servercerts/${to}.crt`);
  await saveConfig(ctx.paths, { ...config, remotes: { ...rest, [to]: entry! }, defaultRemote: config.defaultRemote === from ? to : config.defaultRemote });
  ctx.invalidateConfig();
}

/** `remote switch NAME`. */
export async function remoteSwitch(ctx: CliContext, name: string): Promise<void> {
  const config = await ctx.config();
  mustExist(name, allRemotes(config, ctx.paths));
  await saveConfig(ctx.paths, { ...config, defaultRemote: name });
  ctx.invalidateConfig();
}

/** `remote get-default`. */
export async function remoteGetDefault(ctx: CliContext): Promise<void> {
  ctx.out(`${(await ctx.config()).defaultRemote}\n`);
}
