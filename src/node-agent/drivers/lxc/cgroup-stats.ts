/**
 * Resource usage of a running instance, read straight from its cgroup files (no lxc-cgroup
 * process per value): the payload cgroup is found from `/proc/<init pid>/cgroup` (trimmed to the
 * `lxc.payload.<name>` level, so an init that moved itself into a child cgroup — systemd's
 * init.scope — still counts the whole instance). v1: memory.usage_in_bytes / max_usage_in_bytes /
 * limit_in_bytes, cpuacct.usage, pids.current. v2: memory.current / peak / max, cpu.stat
 * usage_usec, pids.current. A limit of "no limit" is reported as 0.
 */
import { readFile } from 'node:fs/promises';
import type { CgroupController, HostFeatures } from './host-features.js';

/** Usage figures of one instance. */
export interface CgroupUsage {
  readonly processes: number;
  readonly cpuNs: number;
  readonly memoryBytes: number;
  readonly memoryPeakBytes: number;
  readonly memoryLimitBytes: number;
}

const UNLIMITED = 2 ** 62;

/** Parses /proc/<pid>/cgroup into controller → path (v2 line `0::/path` under key ''). */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const path = trimToPayload(m[2] as string);
    const ctrls = (m[1] as string).split(',');
    for (const c of ctrls) out.set(c, path);
  }
  return out;
}

/** `/lxc.payload.web1/init.scope` → `/lxc.payload.web1`. */
export function trimToPayload(path: string): string {
  const parts = path.split('/');
  const i = parts.findIndex((p) => p.startsWith('lxc.payload.'));
  return i < 0 ? path : parts.slice(0, i + 1).join('/');
}

async function readNum(path: string): Promise<number | undefined> {
  try {
    const v = (await readFile(path, 'utf8')).trim();
    if (v === 'max') return 0;
    const n = Number(v);
    return Number.isFinite(n) ? (n >= UNLIMITED ? 0 : n) : undefined;
  } catch {
    return undefined; // file absent on this kernel (e.g. memory.peak before 5.19)
  }
}

/** Reads usage for the instance whose init is `pid`. Missing controllers give 0. */
export async function readCgroupUsage(pid: number, features: HostFeatures): Promise<CgroupUsage> {
  const paths = parseProcCgroup(await readFile(`/proc/${pid}/cgroup`, 'utf8'));
  const dir = (c: CgroupController): string | undefined => {
    const version = features.cgroup[c];
    const root = features.cgroupRoots[c];
    if (version === undefined || root === undefined) return undefined;
    const rel = version === 'v1' ? paths.get(c) : paths.get('');
    return rel === undefined ? undefined : `${root}${rel}`;
  };
  const mem = dir('memory');
  const cpu = features.cgroup.cpuacct === 'v1' ? dir('cpuacct') : dir('cpu');
  const pids = dir('pids');
  let memoryBytes = 0;
  let memoryPeakBytes = 0;
  let memoryLimitBytes = 0;
  if (mem !== undefined && features.cgroup.memory === 'v1') {
    memoryBytes = (await readNum(`${mem}/memory.usage_in_bytes`)) ?? 0;
    memoryPeakBytes = (await readNum(`${mem}/memory.max_usage_in_bytes`)) ?? 0;
    memoryLimitBytes = (await readNum(`${mem}/memory.limit_in_bytes`)) ?? 0;
  } else if (mem !== undefined) {
    memoryBytes = (await readNum(`${mem}/memory.current`)) ?? 0;
    memoryPeakBytes = (await readNum(`${mem}/memory.peak`)) ?? 0;
    memoryLimitBytes = (await readNum(`${mem}/memory.max`)) ?? 0;
  }
  let cpuNs = 0;
  if (cpu !== undefined && features.cgroup.cpuacct === 'v1') {
    cpuNs = (await readNum(`${cpu}/cpuacct.usage`)) ?? 0;
  } else if (cpu !== undefined) {
    try {
      const stat = await readFile(`${cpu}/cpu.stat`, 'utf8');
      cpuNs = Number(/^usage_usec (\d+)/m.exec(stat)?.[1] ?? 0) * 1000;
    } catch {
      cpuNs = 0; // cpu controller not enabled for this cgroup
    }
  }
  let processes = pids === undefined ? undefined : await readNum(`${pids}/pids.current`);
  if (processes === undefined) {
    const any = dir('memory') ?? dir('cpu') ?? dir('freezer');
    try {
      processes = any === undefined ? 0 : (await readFile(`${any}/cgroup.procs`, 'utf8')).split('\n').filter(Boolean).length;
    } catch {
      processes = 0; // the instance stopped while we read
    }
  }
  return { processes, cpuNs, memoryBytes, memoryPeakBytes, memoryLimitBytes };
}
