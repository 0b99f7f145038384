/**
 * Where a member keeps its state under SHOAL_DIR (ARCHITECTURE "Where state lives on a member"),
 * and the member's identity file `member.json` written by `shoald init` (bootstrap or join).
 * A directory without `member.json` belongs to a daemon that is not initialized yet.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, ShoalError } from '../shared/index.js';

/** Every path of a member's state dir. */
export interface ShoalPaths {
  readonly dir: string;
  readonly db: string;
  readonly certs: string;
  readonly caCert: string;
  /** Held by members that may sign certificates (the bootstrap member and voters it admitted). */
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly identity: string;
  readonly unixSocket: string;
  readonly controlSocket: string;
  readonly logs: string;
}

/** The layout under `dir`. */
export function shoalPaths(dir: string): ShoalPaths {
  const certs = join(dir, 'certs');
  return {
    dir,
    db: join(dir, 'db'),
    certs,
    caCert: join(certs, 'cluster-ca.crt'),
    caKey: join(certs, 'cluster-ca.key'),
    serverCert: join(certs, 'server.crt'),
    serverKey: join(certs, 'server.key'),
    identity: join(dir, 'member.json'),
    unixSocket: join(dir, 'unix.socket'),
    controlSocket: join(dir, 'control.socket'),
    logs: join(dir, 'logs'),
  };
}

/** The state dir from the environment (SHOAL_DIR, default /var/lib/shoal). */
export function shoalDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env['SHOAL_DIR'] || '/var/lib/shoal';
}

/** Creates the state dir (mode 0711, as LXD's /var/lib/lxd) and its private subdirectories. */
export async function ensureStateDir(p: ShoalPaths): Promise<void> {
  await mkdir(p.dir, { recursive: true, mode: 0o711 });
  await chmod(p.dir, 0o711);
  await mkdir(p.certs, { recursive: true, mode: 0o700 });
  await mkdir(p.logs, { recursive: true, mode: 0o700 });
}

/** Who this member is (written once by `shoald init`). */
export interface MemberIdentity {
  readonly name: string;
  readonly raftId: number;
  /** Cluster address host:port (gRPC, mutual TLS). */
  readonly address: string;
  /** REST API address host:port (HTTPS). */
  readonly apiAddress: string;
}

export function isInitialized(p: ShoalPaths): boolean {
  return existsSync(p.identity);
}

export async function readIdentity(p: ShoalPaths): Promise<MemberIdentity> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(p.identity, 'utf8'));
  } catch (err) {
    throw new ShoalError(ErrorCode.DataLoss, `Cannot read member identity "${p.identity}"`, { cause: err });
  }
  const o = raw as Partial<MemberIdentity>;
  if (typeof o.name !== 'string' || typeof o.raftId !== 'number' || typeof o.address !== 'string' || typeof o.apiAddress !== 'string') {
    throw new ShoalError(ErrorCode.DataLoss, `Member identity "${p.identity}" is malformed`);
  }
  return { name: o.name, raftId: o.raftId, address: o.address, apiAddress: o.apiAddress };
}

/** Writes `member.json` atomically (the last step of init: its presence means "initialized"). */
export async function writeIdentity(p: ShoalPaths, id: MemberIdentity): Promise<void> {
  const tmp = `${p.identity}.tmp`;
  await writeFile(tmp, `${JSON.stringify(id, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, p.identity);
}

/** Writes a PEM file (keys 0600, certificates 0644). */
export async function writePem(path: string, pem: string, secret: boolean): Promise<void> {
  await writeFile(path, pem, { mode: secret ? 0o600 : 0o644 });
}

/** Splits `host:port` (IPv6 in brackets). INVALID_ARGUMENT when malformed. */
export function splitHostPort(address: string, flag: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid ${flag} "${address}": expected HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
