/**
 * `shoal config`: instance and server configuration (get, set, unset, show, edit) and instance
 * devices (add, remove, list, show), as lxc's `config` verb. With no instance name the server's
 * configuration (`/1.0`, per member with `--target`) is meant, as in lxc.
 */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { Instance, InstancePut, Server } from '../../api/types/index.js';
import type { CliContext } from '../context.js';
import { parseKeyValues, parseSetArgs } from './args.js';
import { editObject, pick } from './edit.js';
import { instancePath } from './instances.js';

/** The fields `PUT /1.0/instances/<name>` takes (what `config show`/`edit` shows). */
export const INSTANCE_WRITABLE = ['architecture', 'config', 'devices', 'ephemeral', 'profiles', 'stateful', 'description'] as const;

interface Scoped {
  readonly target?: string | undefined;
}

async function loadInstance(ctx: CliContext, arg: string) {
  const ref = await ctx.resolve(arg);
  const path = instancePath(ref.name);
  const { metadata, etag } = await ref.client.getWithEtag<Instance>(path, { project: ref.project });
  return { ref, path, inst: metadata, etag };
}

async function putInstance(ctx: CliContext, arg: string, mutate: (put: InstancePut & { config: Record<string, string>; devices: Record<string, Record<string, string>> }) => void): Promise<void> {
  const { ref, path, inst, etag } = await loadInstance(ctx, arg);
  const put = pick(inst as unknown as Record<string, unknown>, INSTANCE_WRITABLE) as InstancePut & {
    config: Record<string, string>;
    devices: Record<string, Record<string, string>>;
  };
  put.config = { ...inst.config };
  put.devices = { ...inst.devices };
  mutate(put);
  await ref.client.send('PUT', path, put, { query: { project: ref.project }, etag });
}

/** Server config: `GET /1.0` then `PATCH /1.0 {config}`. */
async function patchServer(ctx: CliContext, config: Record<string, string | null>, opts: Scoped): Promise<void> {
  const client = await ctx.client();
  await client.send('PATCH', '/1.0', { config }, { query: { target: opts.target } });
}

/** `config get [NAME] KEY`. */
export async function configGet(ctx: CliContext, args: readonly string[], opts: Scoped & { expanded?: boolean | undefined }): Promise<void> {
  if (args.length === 1) {
    const client = await ctx.client();
    const server = await client.get<Server>('/1.0', { target: opts.target });
    ctx.out(`${server.config[args[0]!] ?? ''}\n`);
    return;
  }
  if (args.length !== 2) throw new ShoalError(ErrorCode.InvalidArgument, 'Usage: config get [NAME] KEY');
  const { inst } = await loadInstance(ctx, args[0]!);
  const cfg = opts.expanded ? inst.expanded_config : inst.config;
  ctx.out(`${cfg[args[1]!] ?? ''}\n`);
}

/** Decides whether `config set` args name an instance (lxc's rules). */
export function setTargetsServer(args: readonly string[]): boolean {
  if (args.length === 0) return true;
  if (args[0]!.includes('=')) return true;
  return args.length === 2 && !args[1]!.includes('=');
}

/** `config set [NAME] KEY=VALUE...` (also `config set [NAME] KEY VALUE`). */
export async function configSet(ctx: CliContext, args: readonly string[], opts: Scoped): Promise<void> {
  if (setTargetsServer(args)) {
    await patchServer(ctx, parseSetArgs(args), opts);
    return;
  }
  const values = parseSetArgs(args.slice(1));
  await putInstance(ctx, args[0]!, (put) => {
    Object.assign(put.config, values);
  });
}

/** `config unset [NAME] KEY`. */
export async function configUnset(ctx: CliContext, args: readonly string[], opts: Scoped): Promise<void> {
  if (args.length === 1) {
    await patchServer(ctx, { [args[0]!]: null }, opts);
    return;
  }
  if (args.length !== 2) throw new ShoalError(ErrorCode.InvalidArgument, 'Usage: config unset [NAME] KEY');
  const key = args[1]!;
  await putInstance(ctx, args[0]!, (put) => {
    if (!(key in put.config)) throw new ShoalError(ErrorCode.InvalidArgument, `Can't unset key "${key}", it's not currently set`);
    delete put.config[key];
  });
}

/** `config show [NAME] [--expanded]` (YAML). */
export async function configShow(ctx: CliContext, arg: string | undefined, opts: Scoped & { expanded?: boolean | undefined }): Promise<void> {
  const { stringify } = await import('yaml');
  if (arg === undefined) {
    const client = await ctx.client();
    const server = await client.get<Server>('/1.0', { target: opts.target });
    ctx.out(stringify({ config: server.config }));
    return;
  }
  const { inst } = await loadInstance(ctx, arg);
  const shown = pick(inst as unknown as Record<string, unknown>, ['name', 'location', ...INSTANCE_WRITABLE]);
  if (opts.expanded) {
    shown['config'] = inst.expanded_config;
    shown['devices'] = inst.expanded_devices;
  }
  ctx.out(stringify(shown));
}

/** `config edit [NAME]`: YAML in, PUT with If-Match. */
export async function configEdit(ctx: CliContext, arg: string | undefined, opts: Scoped): Promise<void> {
  if (arg === undefined) {
    const client = await ctx.client();
    const { metadata, etag } = await client.getWithEtag<Server>('/1.0', { target: opts.target });
    const edited = await editObject({ config: metadata.config }, 'Server configuration (YAML). Lines starting with # are ignored.', ctx.env);
    await client.send('PUT', '/1.0', { config: edited['config'] ?? {} }, { query: { target: opts.target }, etag });
    return;
  }
  const { ref, path, inst, etag } = await loadInstance(ctx, arg);
  const current = pick(inst as unknown as Record<string, unknown>, INSTANCE_WRITABLE);
  const edited = await editObject(current, `Configuration of instance "${ref.name}" (YAML). Lines starting with # are ignored.`, ctx.env);
  await ref.client.send('PUT', path, pick(edited, INSTANCE_WRITABLE), { query: { project: ref.project }, etag });
}

/** `config device add NAME DEVICE TYPE [key=value...]`. */
export async function deviceAdd(ctx: CliContext, name: string, device: string, type: string, kvs: readonly string[]): Promise<void> {
  const values = { type, ...parseKeyValues(kvs) };
  await putInstance(ctx, name, (put) => {
    if (put.devices[device]) throw new ShoalError(ErrorCode.AlreadyExists, `The device already exists`);
    put.devices[device] = values;
  });
  ctx.say(`Device ${device} added to ${name}`);
}

/** `config device remove NAME DEVICE...`. */
export async function deviceRemove(ctx: CliContext, name: string, devices: readonly string[]): Promise<void> {
  await putInstance(ctx, name, (put) => {
    for (const d of devices) {
      if (!put.devices[d]) throw new ShoalError(ErrorCode.NotFound, `Device "${d}" doesn't exist`);
      delete put.devices[d];
    }
  });
  ctx.say(`Device ${devices.join(', ')} removed from ${name}`);
}

/** `config device list NAME`. */
export async function deviceList(ctx: CliContext, name: string): Promise<void> {
  const { inst } = await loadInstance(ctx, name);
  ctx.out(Object.keys(inst.devices).sort().map((d) => `${d}\n`).join(''));
}

/** `config device show NAME`. */
export async function deviceShow(ctx: CliContext, name: string): Promise<void> {
  const { inst } = await loadInstance(ctx, name);
  ctx.out((await import('yaml')).stringify(inst.devices));
}
