/**
 * `shoal list`: lxc's instance list. One `GET /1.0/instances?recursion=2` (instances with state
 * and snapshots) and `GET /1.0` in parallel (to know whether LOCATION applies), filters applied
 * client-side as lxc does (name regex, `key=value` on state, location, type and config),
 * columns chosen with `-c` using lxc's letters.
 */
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import type { InstanceFull, Server } from '../../api/types/index.js';
import type { CliContext } from '../context.js';
import { renderListing, type ListFormat } from '../format/table.js';

/** Column letters, as lxc (`lxc list -c`). */
export const LIST_COLUMNS: Readonly<Record<string, { header: string; value: (i: InstanceFull) => string }>> = {
  n: { header: 'NAME', value: (i) => i.name },
  s: { header: 'STATE', value: (i) => i.status.toUpperCase() },
  '4': { header: 'IPV4', value: (i) => addresses(i, 'inet') },
  '6': { header: 'IPV6', value: (i) => addresses(i, 'inet6') },
  t: { header: 'TYPE', value: (i) => (i.type || 'container').toUpperCase() + (i.ephemeral ? ' (EPHEMERAL)' : '') },
  S: { header: 'SNAPSHOTS', value: (i) => String(i.snapshots?.length ?? 0) },
  L: { header: 'LOCATION', value: (i) => i.location },
  a: { header: 'ARCHITECTURE', value: (i) => i.architecture },
  c: { header: 'CREATED AT', value: (i) => shortTime(i.created_at) },
  l: { header: 'LAST USED AT', value: (i) => shortTime(i.last_used_at) },
  d: { header: 'DESCRIPTION', value: (i) => i.description },
  p: { header: 'PID', value: (i) => (i.state && i.state.pid > 0 ? String(i.state.pid) : '') },
  P: { header: 'PROFILES', value: (i) => i.profiles.join('\n') },
  m: { header: 'MEMORY USAGE', value: (i) => (i.state && i.state.memory.usage > 0 ? bytes(i.state.memory.usage) : '') },
  u: { header: 'CPU USAGE', value: (i) => (i.state && i.state.cpu.usage > 0 ? `${Math.round(i.state.cpu.usage / 1e9)}s` : '') },
  f: { header: 'BASE IMAGE', value: (i) => (i.config['volatile.base_image'] ?? '').slice(0, 12) },
};

/** lxc's default columns (LOCATION only on a cluster). */
export const DEFAULT_COLUMNS = 'ns46tSL';

/** `IPV4`/`IPV6` cell: global addresses `addr (iface)`, one per line, sorted as lxc does. */
export function addresses(i: InstanceFull, family: 'inet' | 'inet6'): string {
  const out: string[] = [];
  for (const [iface, net] of Object.entries(i.state?.network ?? {})) {
    if (iface === 'lo') continue;
    for (const a of net.addresses) if (a.family === family && a.scope === 'global') out.push(`${a.address} (${iface})`);
  }
  return out.sort().reverse().join('\n');
}

function shortTime(ts: string): string {
  if (!ts || ts.startsWith('0001-')) return '';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace('Z', ' UTC');
}

/** Human size, lxc style (`12.34MiB`). */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n}B` : `${v.toFixed(2)}${units[u]}`;
}

/** True when an instance passes every filter (lxc `shouldShow`). */
export function matchesFilters(i: InstanceFull, filters: readonly string[]): boolean {
  return filters.every((f) => {
    const eq = f.indexOf('=');
    if (eq < 0) {
      try {
        return new RegExp(`^(?:${f})`).test(i.name);
      } catch {
        // Not a regular expression: a plain prefix.
        return i.name.startsWith(f);
      }
    }
    const key = f.slice(0, eq);
    const want = f.slice(eq + 1);
    const lower = (s: string | undefined): string => (s ?? '').toLowerCase();
    switch (key) {
      case 'status':
      case 'state':
        return lower(i.status) === lower(want);
      case 'location':
        return i.location === want;
      case 'type':
        return lower(i.type || 'container') === lower(want);
      case 'name':
        return i.name === want;
      default: {
        const v = i.expanded_config[key] ?? i.expanded_config[`user.${key}`] ?? i.config[key];
        return v === want;
      }
    }
  });
}

/** Options of `shoal list`. */
export interface ListOptions {
  readonly columns?: string | undefined;
  readonly format: ListFormat;
  readonly allProjects?: boolean | undefined;
}

/** Runs `shoal list [remote:][filter...]`. */
export async function listInstances(ctx: CliContext, args: readonly string[], opts: ListOptions): Promise<void> {
  let remoteArg: string | undefined;
  let filters = [...args];
  const first = args[0];
  if (first !== undefined && first.includes(':')) {
    const r = await ctx.resolve(first);
    if (first.startsWith(`${r.remote}:`)) {
      remoteArg = r.remote;
      filters = r.name === '' ? args.slice(1) : [r.name, ...args.slice(1)];
    }
  }
  const client = await ctx.client(remoteArg);
  const project = await ctx.project(remoteArg);
  const query = { recursion: 2, project: opts.allProjects ? undefined : project, 'all-projects': opts.allProjects ? true : undefined };
  const wantsLocation = (opts.columns ?? DEFAULT_COLUMNS).includes('L');
  const [instances, server] = await Promise.all([
    client.get<InstanceFull[]>('/1.0/instances', query),
    wantsLocation && opts.columns === undefined ? client.get<Server>('/1.0') : Promise.resolve(undefined),
  ]);
  let columns = opts.columns ?? DEFAULT_COLUMNS;
  if (opts.columns === undefined && server && !server.environment?.server_clustered) columns = columns.replace('L', '');
  for (const c of columns) {
    if (!LIST_COLUMNS[c]) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid column "${c}"`);
  }
  const shown = instances.filter((i) => matchesFilters(i, filters)).sort((a, b) => a.name.localeCompare(b.name));
  const cols = [...columns].map((c) => LIST_COLUMNS[c]!);
  const headers = opts.allProjects ? ['PROJECT', ...cols.map((c) => c.header)] : cols.map((c) => c.header);
  const rows = shown.map((i) => [...(opts.allProjects ? [i.project] : []), ...cols.map((c) => c.value(i))]);
  ctx.out(await renderListing({ headers, rows, objects: shown }, opts.format));
}
