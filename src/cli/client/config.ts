/**
 * The client configuration, as lxc keeps it: `config.yml` in the config directory
 * (`$SHOAL_CONF`, default `~/.config/shoal`) with the remotes, the default remote and command
 * aliases; `client.crt`/`client.key` (this client's certificate) and `servercerts/<remote>.crt`
 * (each HTTPS remote's pinned certificate). The built-in `local` remote is the unix socket of
 * `$SHOAL_DIR` (default /var/lib/shoal) and is never written to the file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ErrorCode, ShoalError } from '../../shared/errors.js';
import { fingerprintOfDer, type Endpoint } from './transport.js';

/** One remote as stored. `addr` is `unix://[path]` or `https://host:port`. */
export interface RemoteEntry {
  readonly addr: string;
  readonly protocol?: string;
  readonly public?: boolean;
  /** Default project on this remote. */
  readonly project?: string;
}

/** The whole file. */
export interface CliConfig {
  readonly defaultRemote: string;
  readonly remotes: Readonly<Record<string, RemoteEntry>>;
  readonly aliases: Readonly<Record<string, string>>;
}

/** Name of the built-in remote. */
export const LOCAL_REMOTE = 'local';

/** Paths the client uses, from the environment. */
export interface CliPaths {
  readonly confDir: string;
  readonly shoalDir: string;
}

/** Reads SHOAL_CONF / SHOAL_DIR / HOME. */
export function cliPaths(env: NodeJS.ProcessEnv = process.env): CliPaths {
  return {
    confDir: env['SHOAL_CONF'] || join(env['HOME'] || homedir(), '.config', 'shoal'),
    shoalDir: env['SHOAL_DIR'] || '/var/lib/shoal',
  };
}

const EMPTY: CliConfig = { defaultRemote: LOCAL_REMOTE, remotes: {}, aliases: {} };

/** Parses config.yml text; unknown keys are ignored, wrong types are INVALID_ARGUMENT. */
export function parseConfig(text: string): CliConfig {
  const raw: unknown = parse(text);
  if (raw === null || raw === undefined) return EMPTY;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid client configuration: not a map');
  const o = raw as Record<string, unknown>;
  const remotes: Record<string, RemoteEntry> = {};
  const rawRemotes = o['remotes'] ?? {};
  if (typeof rawRemotes !== 'object' || rawRemotes === null) throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid client configuration: "remotes" is not a map');
  for (const [name, v] of Object.entries(rawRemotes as Record<string, unknown>)) {
    if (typeof v !== 'object' || v === null || typeof (v as { addr?: unknown }).addr !== 'string') {
      throw new ShoalError(ErrorCode.InvalidArgument, `Invalid client configuration: remote "${name}" has no "addr"`);
    }
    const e = v as Record<string, unknown>;
    remotes[name] = {
      addr: e['addr'] as string,
      ...(typeof e['protocol'] === 'string' ? { protocol: e['protocol'] } : {}),
      ...(typeof e['public'] === 'boolean' ? { public: e['public'] } : {}),
      ...(typeof e['project'] === 'string' ? { project: e['project'] } : {}),
    };
  }
  const aliases: Record<string, string> = {};
  for (const [k, v] of Object.entries((o['aliases'] ?? {}) as Record<string, unknown>)) if (typeof v === 'string') aliases[k] = v;
  const def = o['default-remote'];
  return { defaultRemote: typeof def === 'string' && def !== '' ? def : LOCAL_REMOTE, remotes, aliases };
}

/** Renders config.yml (the `local` remote is implicit and left out). */
export function renderConfig(config: CliConfig): string {
  const remotes = Object.fromEntries(Object.entries(config.remotes).filter(([n]) => n !== LOCAL_REMOTE));
  return stringify({ 'default-remote': config.defaultRemote, remotes, aliases: config.aliases });
}

/** The remotes including the built-in `local`. */
export function allRemotes(config: CliConfig, paths: CliPaths): Record<string, RemoteEntry> {
  return { [LOCAL_REMOTE]: { addr: `unix://${join(paths.shoalDir, 'unix.socket')}`, protocol: 'shoal' }, ...config.remotes };
}

/** Loads config.yml; a missing file is the empty configuration. */
export async function loadConfig(paths: CliPaths): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(join(paths.confDir, 'config.yml'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY;
    throw new ShoalError(ErrorCode.Internal, `Failed reading the client configuration: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(text);
}

/** Writes config.yml atomically (temp file + rename), creating the directory (0700). */
export async function saveConfig(paths: CliPaths, config: CliConfig): Promise<void> {
  await mkdir(paths.confDir, { recursive: true, mode: 0o700 });
  const file = join(paths.confDir, 'config.yml');
  await writeFile(`${file}.tmp`, renderConfig(config), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** DER bytes of the first certificate in a PEM text. */
export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m?.[1]) throw new ShoalError(ErrorCode.InvalidArgument, 'Invalid certificate: no PEM block');
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

/** PEM of a DER certificate. */
export function derToPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The endpoint of a remote: unix socket path, or HTTPS address with this client's certificate
 * and the remote's pinned certificate fingerprint. Unknown remotes are NOT_FOUND.
 */
export async function endpointOf(config: CliConfig, paths: CliPaths, remote: string): Promise<Endpoint> {
  const entry = allRemotes(config, paths)[remote];
  if (!entry) throw new ShoalError(ErrorCode.NotFound, `Remote "${remote}" doesn't exist`);
  if (entry.addr.startsWith('unix:')) {
    const p = entry.addr.replace(/^unix:(\/\/)?/, '');
    return { kind: 'unix', socketPath: p === '' ? join(paths.shoalDir, 'unix.socket') : p };
  }
  const m = /^https:\/\/(.+?)\/?$/.exec(entry.addr);
  if (!m?.[1]) throw new ShoalError(ErrorCode.InvalidArgument, `Remote "${remote}" has an unsupported address "${entry.addr}"`);
  const [certPem, keyPem, serverPem] = await Promise.all([
    readOptional(join(paths.confDir, 'client.crt')),
    readOptional(join(paths.confDir, 'client.key')),
    readOptional(join(paths.confDir, 'servercerts', `${remote}.crt`)),
  ]);
  if (serverPem === undefined) {
    throw new ShoalError(ErrorCode.FailedPrecondition, `Remote "${remote}" has no stored server certificate; add it again`);
  }
  return {
    kind: 'https',
    address: m[1],
    ...(certPem && keyPem ? { certPem, keyPem } : {}),
    serverFingerprint: fingerprintOfDer(pemToDer(serverPem)),
  };
}

/**
 * Splits `remote:name` the way lxc does: the part before the first `:` is a remote only when
 * such a remote exists; otherwise the whole argument is a name on the default remote.
 */
export function splitRemote(config: CliConfig, paths: CliPaths, arg: string): { remote: string; name: string } {
  const i = arg.indexOf(':');
  if (i > 0) {
    const remote = arg.slice(0, i);
    if (allRemotes(config, paths)[remote]) return { remote, name: arg.slice(i + 1) };
  }
  return { remote: config.defaultRemote, name: arg };
}
