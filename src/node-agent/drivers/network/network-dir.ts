/**
 * A network's directory under `AgentPaths.networks/<name>/` and the files in it:
 *
 * ```
 * network.json      what the driver applied: requested and effective config (written last on create)
 * dnsmasq.conf      rendered by dnsmasq-config.ts     dnsmasq.raw     raw.dnsmasq, when set
 * dnsmasq.hosts/    one host entry per instance nic   dnsmasq.leases  kept by dnsmasq
 * dnsmasq.pid       written by dnsmasq                dnsmasq.log     dnsmasq's output
 * ```
 * Reads and writes here are plain file I/O; writes are atomic (temp file + rename) so dnsmasq's
 * inotify never sees half a host entry.
 */
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errors, randomHex } from '../../../shared/index.js';
import type { ConfigMap } from '../../types.js';
import type { DnsmasqProcessFiles } from './dnsmasq.js';
import type { DnsmasqFiles } from './dnsmasq-config.js';
import { parseHostEntry, parseLeases, type DnsmasqLease, type HostEntry } from './dnsmasq-files.js';

/** The paths of one network's files. */
export interface NetworkFiles extends DnsmasqFiles, DnsmasqProcessFiles {
  readonly dir: string;
  readonly record: string;
}

/** What network.json holds. */
export interface NetworkRecord {
  readonly version: 1;
  /** The config as the caller gave it to create/update. */
  readonly requested: ConfigMap;
  /** The config as applied (auto address resolved, defaults filled in, LXD style). */
  readonly effective: ConfigMap;
}

/** The files of network `name` under `networksDir`. */
export function networkFiles(networksDir: string, name: string): NetworkFiles {
  const dir = join(networksDir, name);
  return {
    dir,
    record: join(dir, 'network.json'),
    conf: join(dir, 'dnsmasq.conf'),
    raw: join(dir, 'dnsmasq.raw'),
    hostsDir: join(dir, 'dnsmasq.hosts'),
    leases: join(dir, 'dnsmasq.leases'),
    pid: join(dir, 'dnsmasq.pid'),
    log: join(dir, 'dnsmasq.log'),
  };
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes `text` to `path` atomically: a temp file in `tmpDir` (same filesystem), then rename. */
export async function writeAtomic(path: string, text: string, tmpDir: string, mode = 0o644): Promise<void> {
  const tmp = join(tmpDir, `.tmp-${randomHex(6)}`);
  try {
    await writeFile(tmp, text, { mode });
    await chmod(tmp, mode); // whatever the umask: dnsmasq reads these files as an unprivileged user
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates the network directory and its hosts directory, world-readable: dnsmasq drops root
 * privileges (to `nobody`) before it reads `dnsmasq.hosts/`. Throws FAILED_PRECONDITION when a
 * directory above cannot be traversed by others (like LXD's 0711 /var/lib/lxd, Shoal's state dir
 * must allow that; unprivileged containers need it as well).
 */
export async function makeNetworkDir(files: NetworkFiles): Promise<void> {
  for (let d = dirname(files.dir); ; d = dirname(d)) {
    let mode: number;
    try {
      mode = (await stat(d)).mode;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (d === dirname(d)) break;
      continue; // created below with the right mode
    }
    if ((mode & 0o001) === 0) {
      throw errors.precondition(
        `Directory "${d}" must be traversable by others (chmod o+x): dnsmasq reads network files as an unprivileged user`,
      );
    }
    if (d === dirname(d)) break;
  }
  for (const d of [dirname(files.dir), files.dir, files.hostsDir]) {
    await mkdir(d, { recursive: true });
    await chmod(d, d === dirname(files.dir) ? 0o711 : 0o755);
  }
}

/** network.json, or null when the network has none (never created here, or deleted). */
export async function readRecord(files: NetworkFiles): Promise<NetworkRecord | null> {
  const text = await readOptional(files.record);
  return text === null ? null : (JSON.parse(text) as NetworkRecord);
}

/** Writes network.json atomically. */
export async function writeRecord(files: NetworkFiles, record: NetworkRecord): Promise<void> {
  await writeAtomic(files.record, JSON.stringify(record, null, 2) + '\n', files.dir);
}

/** The text of a file in the network dir, or null when it does not exist. */
export function readNetworkFile(path: string): Promise<string | null> {
  return readOptional(path);
}

/** Every host entry in `dnsmasq.hosts/` (files that do not parse are skipped), sorted by file name. */
export async function readHostEntries(files: NetworkFiles): Promise<HostEntry[]> {
  let names: string[];
  try {
    names = await readdir(files.hostsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const visible = names.filter((n) => !n.startsWith('.')).sort();
  const texts = await Promise.all(visible.map((name) => readOptional(join(files.hostsDir, name))));
  const out: HostEntry[] = [];
  visible.forEach((name, i) => {
    const text = texts[i] ?? null;
    const entry = text === null ? null : parseHostEntry(name, text);
    if (entry) out.push(entry);
  });
  return out;
}

/** The IPv4 leases dnsmasq has recorded (none when it has written no lease file yet). */
export async function readLeases(files: NetworkFiles): Promise<DnsmasqLease[]> {
  return parseLeases((await readOptional(files.leases)) ?? '');
}

/** Removes the network directory and everything in it. Missing → no-op. */
export async function removeNetworkDir(files: NetworkFiles): Promise<void> {
  await rm(files.dir, { recursive: true, force: true });
}
