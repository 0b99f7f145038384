/**
 * The demo's hands: runs `shoal` (from the host, on a member's unix socket, as a user would with
 * `export SHOAL_DIR=…`) and `shoald` (inside a member's network namespace), and reads their
 * output. The readers accept either `--format json` output (LXD's shapes: ClusterMember,
 * Instance with state) or LXD's ASCII tables, so the demo does not depend on one CLI detail.
 */
import { run, type RunResult } from '../../src/node-agent/exec.js';
import type { NetHost, NetHosts } from './net-hosts.js';
import { SHOAL_JS, SHOALD_JS, memberDir } from './layout.js';

/** A row of `shoal cluster list`. */
export interface MemberRow {
  readonly name: string;
  readonly url: string;
  readonly roles: readonly string[];
  /** Online, Offline, Evacuated… */
  readonly status: string;
}

/** A row of `shoal list`. */
export interface InstanceRow {
  readonly name: string;
  /** Running, Stopped… */
  readonly status: string;
  /** The member holding it. */
  readonly location: string;
  readonly ipv4: readonly string[];
}

/** Cells of an LXD-style ASCII table: one record per row, multi-line cells joined with '\n'. */
export function parseTable(text: string): Record<string, string>[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('|') || l.startsWith('+'));
  let header: string[] | undefined;
  const rows: Record<string, string>[] = [];
  let current: string[][] | undefined;
  const flush = (): void => {
    if (header && current) {
      const h = header;
      rows.push(Object.fromEntries(h.map((k, i) => [k, (current?.[i] ?? []).filter(Boolean).join('\n')])));
    }
    current = undefined;
  };
  for (const line of lines) {
    if (line.startsWith('+')) {
      flush();
      continue;
    }
    const cells = line.slice(1, line.endsWith('|') ? -1 : undefined).split('|').map((c) => c.trim());
    if (!header) {
      header = cells.map((c) => c.toUpperCase());
      continue;
    }
    current ??= cells.map(() => []);
    cells.forEach((c, i) => current?.[i]?.push(c));
  }
  flush();
  return rows;
}

function tryJson(text: string): unknown[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) ? (v as unknown[]) : undefined;
  } catch {
    return undefined; // not JSON: the caller reads it as a table
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Reads `shoal cluster list` output (JSON array of ClusterMember, or the table). */
export function parseMembers(text: string): MemberRow[] {
  const json = tryJson(text);
  if (json) {
    return json.map((m) => {
      const o = (m ?? {}) as Record<string, unknown>;
      return {
        name: str(o['server_name']) || str(o['name']),
        url: str(o['url']),
        roles: Array.isArray(o['roles']) ? (o['roles'] as unknown[]).map(str) : [],
        status: str(o['status']),
      };
    });
  }
  return parseTable(text).map((r) => ({
    name: r['NAME'] ?? '',
    url: r['URL'] ?? '',
    roles: (r['ROLES'] ?? '').split(/[\n,]/).map((s) => s.trim()).filter(Boolean),
    status: r['STATE'] ?? r['STATUS'] ?? '',
  }));
}

/** Reads `shoal list` output (JSON array of Instance with `state`, or the table). */
export function parseInstances(text: string): InstanceRow[] {
  const json = tryJson(text);
  if (json) {
    return json.map((m) => {
      const o = (m ?? {}) as Record<string, unknown>;
      const state = (o['state'] ?? {}) as { network?: Record<string, { addresses?: { family?: string; address?: string; scope?: string }[] }> };
      const ipv4 = Object.entries(state.network ?? {})
        .filter(([dev]) => dev !== 'lo')
        .flatMap(([, n]) => (n.addresses ?? []).filter((a) => a.family === 'inet' && a.scope !== 'local').map((a) => a.address ?? ''))
        .filter(Boolean);
      return { name: str(o['name']), status: str(o['status']), location: str(o['location']), ipv4 };
    });
  }
  return parseTable(text).map((r) => ({
    name: r['NAME'] ?? '',
    status: r['STATE'] ?? r['STATUS'] ?? '',
    location: r['LOCATION'] ?? '',
    ipv4: (r['IPV4'] ?? '')
      .split('\n')
      .map((s) => s.replace(/\s*\(.*\)\s*$/, '').trim())
      .filter((s) => /^\d+\.\d+\.\d+\.\d+$/.test(s)),
  }));
}

/** Runs the product's commands for the demo. */
export class DemoCommands {
  constructor(private readonly hosts: NetHosts) {}

  /** `shoal args…` against `member`'s unix socket; rejects with the command's stderr on failure. */
  shoal(member: string, args: readonly string[], timeoutMs = 180_000): Promise<RunResult> {
    return run(process.execPath, [SHOAL_JS, ...args], {
      env: { SHOAL_DIR: memberDir(member), HOME: process.env['HOME'] ?? '/root' },
      timeoutMs,
    });
  }

  /** `shoald args…` inside `host`'s namespace with its SHOAL_DIR. */
  shoald(host: NetHost, args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
    return this.hosts.exec(host, 'env', [`SHOAL_DIR=${memberDir(host.name)}`, process.execPath, SHOALD_JS, ...args], {
      timeoutMs,
    });
  }

  /** The members as `member` sees them. */
  async members(member: string): Promise<MemberRow[]> {
    return parseMembers((await this.shoal(member, ['cluster', 'list', '--format', 'json'], 30_000)).stdout);
  }

  /** The instances as `member` sees them. */
  async instances(member: string): Promise<InstanceRow[]> {
    return parseInstances((await this.shoal(member, ['list', '--format', 'json'], 30_000)).stdout);
  }
}
