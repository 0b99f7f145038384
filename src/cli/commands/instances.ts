/**
 * Instance lifecycle verbs: init, launch, start, stop, restart, pause, delete, rename/move
 * within a server. Each is one REST call (plus a state change for launch and a stop for
 * `delete --force`) waited on through its operation.
 */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { Instance, InstancesPost, InstanceStatePut, Operation } from '../../api/types/index.js';
import type { CliContext } from '../context.js';
import { parseKeyValues } from './args.js';

/** `/1.0/instances/<name>`. */
export function instancePath(name: string): string {
  if (name === '') throw new ShoalError(ErrorCode.InvalidArgument, 'Missing instance name');
  return `/1.0/instances/${encodeURIComponent(name)}`;
}

/** Options of init/launch. */
export interface CreateOptions {
  readonly target?: string | undefined;
  readonly profile?: readonly string[] | undefined;
  readonly noProfiles?: boolean | undefined;
  readonly config?: readonly string[] | undefined;
  readonly device?: readonly string[] | undefined;
  readonly ephemeral?: boolean | undefined;
  readonly storage?: string | undefined;
  readonly network?: string | undefined;
  readonly description?: string | undefined;
  readonly empty?: boolean | undefined;
  /** Ask where the instance would go and why (`?dry-run=1`), create nothing. */
  readonly dryRun?: boolean | undefined;
}

/** The server's answer to `POST /1.0/instances?dry-run=1`. */
interface DryRunAnswer {
  readonly placed: boolean;
  readonly member: string;
  readonly explanation: string;
  readonly rejections: ReadonlyArray<{ readonly member: string; readonly reason: string }>;
}

/** Image source: a fingerprint (hex, at least 12 characters) or an alias. */
export function imageSource(image: string): InstancesPost['source'] {
  if (/^[0-9a-f]{12,64}$/.test(image)) return { type: 'image', fingerprint: image };
  return { type: 'image', alias: image };
}

/** `--device name,key=value,...` (lxc's `-d root,size=10GiB` overrides a profile device). */
function parseDevices(specs: readonly string[], storage: string | undefined, network: string | undefined): Record<string, Record<string, string>> {
  const devices: Record<string, Record<string, string>> = {};
  if (storage) devices['root'] = { type: 'disk', path: '/', pool: storage };
  if (network) devices['eth0'] = { type: 'nic', name: 'eth0', network };
  for (const spec of specs) {
    const [name, ...kvs] = spec.split(',');
    if (!name) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid device "${spec}"`);
    devices[name] = { ...(devices[name] ?? {}), ...parseKeyValues(kvs) };
  }
  return devices;
}

/** Creates an instance; returns its name (the server picks one when none was given). */
export async function createInstance(
  ctx: CliContext,
  imageArg: string | undefined,
  nameArg: string | undefined,
  opts: CreateOptions,
): Promise<{ name: string; remote: string; dryRun?: true }> {
  const ref = await ctx.resolve(nameArg ?? (imageArg?.includes(':') ? `${imageArg.split(':')[0]}:` : ''));
  if (imageArg !== undefined && imageArg.includes(':')) {
    const img = await ctx.resolve(imageArg);
    if (img.remote !== ref.remote) {
      throw new ShoalError(ErrorCode.InvalidArgument, `Images from another remote ("${img.remote}") are not supported; copy the image first`);
    }
    imageArg = img.name;
  }
  const body: InstancesPost = {
    ...(ref.name ? { name: ref.name } : {}),
    source: imageArg === undefined || opts.empty ? { type: 'none' } : imageSource(imageArg),
    type: 'container',
    config: parseKeyValues(opts.config ?? []),
    devices: parseDevices(opts.device ?? [], opts.storage, opts.network),
    ephemeral: opts.ephemeral ?? false,
    ...(opts.noProfiles ? { profiles: [] } : opts.profile && opts.profile.length > 0 ? { profiles: [...opts.profile] } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
  };
  if (opts.dryRun) {
    const d = await ref.client.send<DryRunAnswer>('POST', '/1.0/instances', body, { query: { project: ref.project, target: opts.target, 'dry-run': 1 } });
    const who = ref.name || 'the instance';
    if (d.placed) ctx.out(`${who} would be placed on ${d.member}: ${d.explanation}\n`);
    for (const r of d.rejections) ctx.out(`  not ${r.member}: ${r.reason}\n`);
    if (!d.placed) throw new ShoalError(ErrorCode.FailedPrecondition, d.explanation);
    return { name: ref.name, remote: ref.remote, dryRun: true };
  }
  ctx.say(ref.name ? `Creating ${ref.name}` : 'Creating the instance');
  const op = await ref.client.send<Operation>('POST', '/1.0/instances', body, {
    query: { project: ref.project, target: opts.target },
    progress: progressPrinter(ctx),
  });
  const url = op?.resources?.['instances']?.[0] ?? '';
  const name = ref.name || decodeURIComponent(url.split('/').pop() ?? '');
  if (!ref.name) ctx.say(`Instance name is: ${name}`);
  return { name, remote: ref.remote };
}

/** Prints operation progress (stderr; overwritten in place on a terminal). */
export function progressPrinter(ctx: CliContext): ((text: string) => void) | undefined {
  if (ctx.globals.quiet) return undefined;
  return (text) => ctx.streams.err(ctx.streams.isTTY ? `\r\x1b[K${text}` : `${text}\n`);
}

/** `PUT /1.0/instances/<name>/state`. */
export async function changeState(ctx: CliContext, arg: string, state: InstanceStatePut): Promise<void> {
  const ref = await ctx.resolve(arg);
  await ref.client.send('PUT', `${instancePath(ref.name)}/state`, state, { query: { project: ref.project } });
}

/** Options of stop/restart. */
export interface StopOptions {
  readonly force?: boolean | undefined;
  readonly timeout?: string | undefined;
}

function stopBody(action: 'stop' | 'restart', opts: StopOptions): InstanceStatePut {
  const timeout = opts.timeout === undefined ? -1 : Number(opts.timeout);
  if (!Number.isInteger(timeout)) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid timeout "${opts.timeout}"`);
  return { action, timeout, force: opts.force ?? false };
}

/** Runs one state action on every named instance, reporting each failure; throws if any failed. */
export async function eachInstance(ctx: CliContext, names: readonly string[], fn: (name: string) => Promise<void>): Promise<void> {
  if (names.length === 0) throw new ShoalError(ErrorCode.InvalidArgument, 'Missing instance name');
  const failures: string[] = [];
  for (const n of names) {
    try {
      await fn(n);
    } catch (err) {
      if (names.length === 1) throw err;
      failures.push(`${n}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length > 0) throw new ShoalError(ErrorCode.FailedPrecondition, `Some instances failed: ${failures.join('; ')}`);
}

/** `shoal start`. */
export function start(ctx: CliContext, names: readonly string[]): Promise<void> {
  return eachInstance(ctx, names, (n) => changeState(ctx, n, { action: 'start', timeout: -1 }));
}

/** `shoal stop`. */
export function stop(ctx: CliContext, names: readonly string[], opts: StopOptions): Promise<void> {
  return eachInstance(ctx, names, (n) => changeState(ctx, n, stopBody('stop', opts)));
}

/** `shoal restart`. */
export function restart(ctx: CliContext, names: readonly string[], opts: StopOptions): Promise<void> {
  return eachInstance(ctx, names, (n) => changeState(ctx, n, stopBody('restart', opts)));
}

/** `shoal pause`. */
export function pause(ctx: CliContext, names: readonly string[]): Promise<void> {
  return eachInstance(ctx, names, (n) => changeState(ctx, n, { action: 'freeze', timeout: -1 }));
}

/** `shoal delete [--force]`: a running instance is refused unless forced (then stopped first). */
export function remove(ctx: CliContext, names: readonly string[], opts: { force?: boolean | undefined }): Promise<void> {
  return eachInstance(ctx, names, async (n) => {
    const ref = await ctx.resolve(n);
    const slash = ref.name.indexOf('/');
    if (slash > 0) {
      // NAME/SNAPSHOT deletes a snapshot, as in lxc.
      const snapPath = `${instancePath(ref.name.slice(0, slash))}/snapshots/${encodeURIComponent(ref.name.slice(slash + 1))}`;
      await ref.client.send('DELETE', snapPath, undefined, { query: { project: ref.project } });
      return;
    }
    const path = instancePath(ref.name);
    const inst = await ref.client.get<Instance>(path, { project: ref.project });
    if (inst.status_code !== 102 && inst.status.toLowerCase() !== 'stopped') {
      if (!opts.force) throw new ShoalError(ErrorCode.FailedPrecondition, 'The instance is currently running, stop it first or use --force');
      await ref.client.send('PUT', `${path}/state`, { action: 'stop', timeout: -1, force: true }, { query: { project: ref.project } });
    }
    await ref.client.send('DELETE', path, undefined, { query: { project: ref.project } });
  });
}

/** `shoal rename OLD NEW` / `shoal move OLD NEW` on one server. */
export async function rename(ctx: CliContext, from: string, to: string): Promise<void> {
  const ref = await ctx.resolve(from);
  const dest = await ctx.resolve(to);
  if (dest.remote !== ref.remote) throw new ShoalError(ErrorCode.InvalidArgument, 'Moving instances between remotes is not supported');
  await ref.client.send('POST', instancePath(ref.name), { name: dest.name }, { query: { project: ref.project } });
}
