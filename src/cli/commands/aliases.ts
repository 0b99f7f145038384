/** `shoal alias add|remove|list|rename`: command aliases in config.yml (expanded by main.ts before parsing). */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import { saveConfig } from '../client/config.js';
import type { CliContext } from '../context.js';
import { renderListing, type ListFormat } from '../format/table.js';

/** `alias add NAME TARGET` (TARGET may hold `@ARGS@`). */
export async function aliasAdd(ctx: CliContext, name: string, target: string): Promise<void> {
  const config = await ctx.config();
  if (config.aliases[name] !== undefined) throw new ShoalError(ErrorCode.AlreadyExists, `Alias "${name}" already exists`);
  await saveConfig(ctx.paths, { ...config, aliases: { ...config.aliases, [name]: target } });
  ctx.invalidateConfig();
}

/** `alias remove NAME`. */
export async function aliasRemove(ctx: CliContext, name: string): Promise<void> {
  const config = await ctx.config();
  if (config.aliases[name] === undefined) throw new ShoalError(ErrorCode.NotFound, `Alias "${name}" doesn't exist`);
  const { [name]: _gone, ...aliases } = config.aliases;
  await saveConfig(ctx.paths, { ...config, aliases });
  ctx.invalidateConfig();
}

/** `alias rename OLD NEW`. */
export async function aliasRename(ctx: CliContext, from: string, to: string): Promise<void> {
  const config = await ctx.config();
  const target = config.aliases[from];
  if (target === undefined) throw new ShoalError(ErrorCode.NotFound, `Alias "${from}" doesn't exist`);
  if (config.aliases[to] !== undefined) throw new ShoalError(ErrorCode.AlreadyExists, `Alias "${to}" already exists`);
  const { [from]: _old, ...rest } = config.aliases;
  await saveConfig(ctx.paths, { ...config, aliases: { ...rest, [to]: target } });
  ctx.invalidateConfig();
}

/** `alias list`: ALIAS TARGET. */
export async function aliasList(ctx: CliContext, opts: { format: ListFormat }): Promise<void> {
  const aliases = (await ctx.config()).aliases;
  const rows = Object.keys(aliases).sort().map((k) => [k, aliases[k]!]);
  ctx.out(await renderListing({ headers: ['ALIAS', 'TARGET'], rows, objects: aliases }, opts.format));
}
