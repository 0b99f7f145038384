/**
 * The verbs lxc repeats for every named resource with a `config` map (profiles, storage pools,
 * networks, projects): list, show, create, delete, get, set, unset, edit, rename. One spec per
 * resource says where it lives, how it is listed and which fields PUT takes.
 */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { CliContext } from '../context.js';
import { renderListing, type ListFormat } from '../format/table.js';
import { parseKeyValues, parseSetArgs } from './args.js';
import { editObject, pick } from './edit.js';

/** A resource kind. */
export interface ResourceSpec {
  /** `profile`, `storage`, … (command name). */
  readonly noun: string;
  /** Capitalised for messages: `Profile`, `Storage pool`. */
  readonly title: string;
  /** Collection path: `/1.0/profiles`. */
  readonly path: string;
  readonly headers: readonly string[];
  readonly row: (obj: Record<string, unknown>) => string[];
  /** Fields PUT accepts. */
  readonly writable: readonly string[];
  /** Whether `?target=` applies (per-member pending creation, member-specific keys). */
  readonly targetable: boolean;
}

/** Options shared by these verbs. */
export interface ResourceOptions {
  readonly target?: string | undefined;
  readonly format?: ListFormat | undefined;
  readonly description?: string | undefined;
}

type Obj = Record<string, unknown> & { config?: Record<string, string>; name?: string };

function itemPath(spec: ResourceSpec, name: string): string {
  if (name === '') throw new ShoalError(ErrorCode.InvalidArgument, `Missing ${spec.noun} name`);
  return `${spec.path}/${encodeURIComponent(name)}`;
}

/** `X list [remote:]`. */
export async function resourceList(ctx: CliContext, spec: ResourceSpec, remoteArg: string | undefined, opts: ResourceOptions): Promise<void> {
  const ref = await ctx.resolve(remoteArg ?? '');
  const items = await ref.client.get<Obj[]>(spec.path, { recursion: 1, project: spec.noun === 'project' ? undefined : ref.project, target: spec.targetable ? opts.target : undefined });
  const sorted = [...items].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  ctx.out(await renderListing({ headers: spec.headers, rows: sorted.map(spec.row), objects: sorted }, opts.format ?? 'table'));
}

async function load(ctx: CliContext, spec: ResourceSpec, arg: string, opts: ResourceOptions) {
  const ref = await ctx.resolve(arg);
  const path = itemPath(spec, ref.name);
  const query = { project: spec.noun === 'project' ? undefined : ref.project, target: spec.targetable ? opts.target : undefined };
  const { metadata, etag } = await ref.client.getWithEtag<Obj>(path, query);
  return { ref, path, obj: metadata, etag, query };
}

/** `X show NAME` (YAML). */
export async function resourceShow(ctx: CliContext, spec: ResourceSpec, arg: string, opts: ResourceOptions): Promise<void> {
  const { obj } = await load(ctx, spec, arg, opts);
  ctx.out((await import('yaml')).stringify(obj));
}

/** `X create NAME [key=value...]` (storage: `create POOL DRIVER [...]`, done by the caller via `extra`). */
export async function resourceCreate(ctx: CliContext, spec: ResourceSpec, arg: string, kvs: readonly string[], opts: ResourceOptions, extra: Record<string, unknown> = {}): Promise<void> {
  const ref = await ctx.resolve(arg);
  if (ref.name === '') throw new ShoalError(ErrorCode.InvalidArgument, `Missing ${spec.noun} name`);
  const body = { name: ref.name, config: parseKeyValues(kvs), ...(opts.description !== undefined ? { description: opts.description } : {}), ...extra };
  await ref.client.send('POST', spec.path, body, {
    query: { project: spec.noun === 'project' ? undefined : ref.project, target: spec.targetable ? opts.target : undefined },
  });
  ctx.say(`${spec.title} ${ref.name}${opts.target ? ` pending on member ${opts.target}` : ' created'}`);
}

/** `X delete NAME`. */
export async function resourceDelete(ctx: CliContext, spec: ResourceSpec, arg: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  await ref.client.send('DELETE', itemPath(spec, ref.name), undefined, { query: { project: spec.noun === 'project' ? undefined : ref.project } });
  ctx.say(`${spec.title} ${ref.name} deleted`);
}

/** `X get NAME KEY`. */
export async function resourceGet(ctx: CliContext, spec: ResourceSpec, arg: string, key: string, opts: ResourceOptions): Promise<void> {
  const { obj } = await load(ctx, spec, arg, opts);
  ctx.out(`${obj.config?.[key] ?? ''}\n`);
}

async function update(ctx: CliContext, spec: ResourceSpec, arg: string, opts: ResourceOptions, mutate: (config: Record<string, string>) => void): Promise<void> {
  const { ref, path, obj, etag, query } = await load(ctx, spec, arg, opts);
  const put = pick(obj, spec.writable) as Obj;
  const config = { ...(obj.config ?? {}) };
  mutate(config);
  put.config = config;
  await ref.client.send('PUT', path, put, { query, etag });
}

/** `X set NAME key=value...` (or `X set NAME key value`). */
export function resourceSet(ctx: CliContext, spec: ResourceSpec, arg: string, args: readonly string[], opts: ResourceOptions): Promise<void> {
  const values = parseSetArgs(args);
  return update(ctx, spec, arg, opts, (c) => Object.assign(c, values));
}

/** `X unset NAME KEY`. */
export function resourceUnset(ctx: CliContext, spec: ResourceSpec, arg: string, key: string, opts: ResourceOptions): Promise<void> {
  return update(ctx, spec, arg, opts, (c) => {
    if (!(key in c)) throw new ShoalError(ErrorCode.InvalidArgument, `Can't unset key "${key}", it's not currently set`);
    delete c[key];
  });
}

/** `X edit NAME` ($EDITOR or stdin YAML; PUT with If-Match). */
export async function resourceEdit(ctx: CliContext, spec: ResourceSpec, arg: string, opts: ResourceOptions): Promise<void> {
  const { ref, path, obj, etag, query } = await load(ctx, spec, arg, opts);
  const edited = await editObject(pick(obj, spec.writable), `${spec.title} "${ref.name}" (YAML). Lines starting with # are ignored.`, ctx.env);
  await ref.client.send('PUT', path, pick(edited, spec.writable), { query, etag });
}

/** `X rename OLD NEW`. */
export async function resourceRename(ctx: CliContext, spec: ResourceSpec, arg: string, newName: string): Promise<void> {
  const ref = await ctx.resolve(arg);
  await ref.client.send('POST', itemPath(spec, ref.name), { name: newName }, { query: { project: spec.noun === 'project' ? undefined : ref.project } });
  ctx.say(`${spec.title} ${ref.name} renamed to ${newName}`);
}

const usedBy = (o: Record<string, unknown>): string => String((o['used_by'] as unknown[] | undefined)?.length ?? 0);
const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
const cfg = (o: Record<string, unknown>, k: string): string => (o['config'] as Record<string, string> | undefined)?.[k] ?? '';

/** Profiles. */
export const PROFILE: ResourceSpec = {
  noun: 'profile',
  title: 'Profile',
  path: '/1.0/profiles',
  headers: ['NAME', 'DESCRIPTION', 'USED BY'],
  row: (o) => [str(o, 'name'), str(o, 'description'), usedBy(o)],
  writable: ['config', 'description', 'devices'],
  targetable: false,
};

/** Storage pools. */
export const STORAGE: ResourceSpec = {
  noun: 'storage',
  title: 'Storage pool',
  path: '/1.0/storage-pools',
  headers: ['NAME', 'DRIVER', 'SOURCE', 'DESCRIPTION', 'USED BY', 'STATE'],
  row: (o) => [str(o, 'name'), str(o, 'driver'), cfg(o, 'source'), str(o, 'description'), usedBy(o), str(o, 'status').toUpperCase()],
  writable: ['config', 'description'],
  targetable: true,
};

/** Networks. */
export const NETWORK: ResourceSpec = {
  noun: 'network',
  title: 'Network',
  path: '/1.0/networks',
  headers: ['NAME', 'TYPE', 'MANAGED', 'IPV4', 'IPV6', 'DESCRIPTION', 'USED BY', 'STATE'],
  row: (o) => [
    str(o, 'name'),
    str(o, 'type'),
    o['managed'] ? 'YES' : 'NO',
    cfg(o, 'ipv4.address'),
    cfg(o, 'ipv6.address'),
    str(o, 'description'),
    usedBy(o),
    str(o, 'status').toUpperCase(),
  ],
  writable: ['config', 'description'],
  targetable: true,
};

/** Projects. */
export const PROJECT: ResourceSpec = {
  noun: 'project',
  title: 'Project',
  path: '/1.0/projects',
  headers: ['NAME', 'IMAGES', 'PROFILES', 'STORAGE VOLUMES', 'NETWORKS', 'DESCRIPTION', 'USED BY'],
  row: (o) => [
    str(o, 'name'),
    cfg(o, 'features.images') === 'false' ? 'NO' : 'YES',
    cfg(o, 'features.profiles') === 'false' ? 'NO' : 'YES',
    cfg(o, 'features.storage.volumes') === 'false' ? 'NO' : 'YES',
    cfg(o, 'features.networks') === 'true' ? 'YES' : 'NO',
    str(o, 'description'),
    usedBy(o),
  ],
  writable: ['config', 'description'],
  targetable: false,
};
