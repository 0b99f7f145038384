/**
 * shoald: the Shoal daemon and its command line. SHOAL_DIR (default /var/lib/shoal) selects the
 * member's state dir.
 *
 *   shoald [--log-level L]              run the member in the foreground (resumes from disk, or
 *                                       waits for `shoald init`); SIGTERM/SIGINT stop it
 *   shoald waitready [--timeout N]      exit 0 once the daemon answers and (if initialized) has a leader
 *   shoald init --auto --name NAME --address HOST:PORT [--api-address HOST:PORT]
 *               [--storage-backend dir|btrfs] [--network-bridge NAME|none] [--network-ipv4 CIDR|auto]
 *   shoald init --join TOKEN --name NAME --address HOST:PORT [--api-address HOST:PORT]
 *   shoald cluster recover [--force]   quorum-loss recovery: this member becomes the sole voter
 *                                       (online through the daemon, or offline when none runs)
 *   shoald db dump [PREFIX] [--stale]   every key (under PREFIX) with its record, as a JSON array
 *   shoald db get KEY [--stale]         one key, as a JSON object (exit 1 when absent)
 *
 * `init` and `waitready` talk to the running daemon over `$SHOAL_DIR/control.socket`
 * (control.ts); `db` reads the cluster database over the same socket (linearizable unless
 * --stale). Exit codes: 0 ok, 1 error, 2 usage, 3 corrupt data on disk (daemon refuses to start).
 */
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { KeyValue } from '../../proto/gen/shoal/kv/v1/kv.js';
import { StateServiceClient, type RangeRequest, type RangeResponse } from '../../proto/gen/shoal/state/v1/state.js';
import type { LevelWithSilent } from 'pino';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, createLogger, errorMessage, fromGrpcError, isShoalError, ShoalError } from '../shared/index.js';
import { checkBootstrap } from './bootstrap.js';
import { callControl, type InitRequest, type InitResponse, type RecoverResponse, type StatusResponse } from './control.js';
import { runDaemon, type Daemon } from './daemon.js';
import { isInitialized, readIdentity, shoalDirFromEnv, shoalPaths, splitHostPort } from './paths.js';
import { recoverDatabase } from './recover.js';
import { controlSocketPath } from './state-runtime.js';

const USAGE = `Usage: shoald [--log-level LEVEL]
       shoald waitready [--timeout SECONDS]
       shoald init --auto --name NAME --address HOST:PORT [--api-address HOST:PORT]
                   [--storage-backend dir|btrfs] [--network-bridge NAME|none] [--network-ipv4 CIDR|auto]
       shoald init --join TOKEN --name NAME --address HOST:PORT [--api-address HOST:PORT]
       shoald cluster recover [--force]
       shoald db dump [PREFIX] [--stale]
       shoald db get KEY [--stale]
Environment: SHOAL_DIR (default /var/lib/shoal) selects the member.`;

/** A stored key as printed. */
function render(kv: KeyValue): Record<string, unknown> {
  const text = kv.value.toString('utf8');
  let value: unknown;
  try {
    value = Buffer.from(text, 'utf8').equals(kv.value) ? JSON.parse(text) : { base64: kv.value.toString('base64') };
  } catch {
    value = { base64: kv.value.toString('base64') }; // not JSON (e.g. a raw KV value): printed as bytes
  }
  return { key: kv.key, value, version: kv.version, create_revision: kv.createRevision, mod_revision: kv.modRevision };
}

function range(socket: string, req: RangeRequest): Promise<RangeResponse> {
  const client = new StateServiceClient(`unix:${socket}`, grpc.credentials.createInsecure());
  return new Promise<RangeResponse>((resolve, reject) => {
    client.range(req, new grpc.Metadata(), { deadline: Date.now() + 15_000 }, (err, res) => {
      client.close();
      if (err) reject(err.code === grpc.status.UNAVAILABLE ? new ShoalError(ErrorCode.Unavailable, `No running member answers on ${socket}`, { cause: err }) : fromGrpcError(err));
      else resolve(res);
    });
  });
}

class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<number> {
  const verb0 = argv[0];
  if (verb0 === undefined || verb0.startsWith('--')) return runForeground(argv);
  if (verb0 === 'init') return init(argv.slice(1));
  if (verb0 === 'waitready') return waitready(argv.slice(1));
  if (verb0 === 'cluster') return cluster(argv.slice(1));
  if (verb0 === '-h' || verb0 === '--help' || verb0 === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (verb0 !== 'db') throw new UsageError(`Unknown command "${verb0}"`);
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { stale: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
  const [, verb, arg, extra] = positionals;
  if (values.help || (verb !== 'dump' && verb !== 'get') || extra !== undefined || (verb === 'get' && arg === undefined)) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const socket = controlSocketPath(shoalDirFromEnv());
  const serializable = values.stale ?? false;
  if (verb === 'dump') {
    const res = await range(socket, { key: arg ?? '', prefix: true, limit: 0, serializable });
    process.stdout.write(`${JSON.stringify(res.kvs.map(render), null, 2)}\n`);
    return 0;
  }
  const res = await range(socket, { key: arg!, prefix: false, limit: 0, serializable });
  const kv = res.kvs[0];
  if (!kv) throw new ShoalError(ErrorCode.NotFound, `Key "${arg!}" not found`);
  process.stdout.write(`${JSON.stringify(render(kv), null, 2)}\n`);
  return 0;
}

/** `shoald`: the member in the foreground until SIGTERM/SIGINT. */
async function runForeground(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], strict: true, options: { 'log-level': { type: 'string' } } });
  const level = values['log-level'] ?? process.env['SHOAL_LOG_LEVEL'] ?? 'info';
  if (!LEVELS.includes(level)) throw new UsageError(`Invalid --log-level "${level}"`);
  const dir = shoalDirFromEnv();
  const log = createLogger({ level: level as LevelWithSilent });
  let daemon: Daemon;
  try {
    daemon = await runDaemon(shoalPaths(dir), log);
  } catch (err) {
    log.fatal({ err }, 'daemon failed to start');
    process.stderr.write(`Error: ${errorMessage(err)}\n`);
    return isShoalError(err, ErrorCode.DataLoss) ? 3 : 1;
  }
  process.once('SIGTERM', () => void daemon.stop(0));
  process.once('SIGINT', () => void daemon.stop(0));
  return daemon.exited;
}

const LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** `shoald init`: bootstrap or join through the running daemon. */
async function init(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        auto: { type: 'boolean', default: false },
        join: { type: 'string' },
        preseed: { type: 'boolean', default: false },
        name: { type: 'string' },
        address: { type: 'string' },
        'api-address': { type: 'string' },
        'storage-backend': { type: 'string' },
        'network-bridge': { type: 'string' },
        'network-ipv4': { type: 'string' },
        timeout: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  const req = values.preseed ? await preseedRequest() : flagsRequest(values);
  const timeoutS = Number(values.timeout ?? 120);
  const res = await callControl<InitResponse>(controlSocketPath(shoalDirFromEnv()), 'init', req, timeoutS * 1000);
  process.stdout.write(`Member "${res.member}" initialized (raft id ${res.raftId})\n`);
  return 0;
}

interface InitFlags {
  auto?: boolean;
  join?: string | undefined;
  name?: string | undefined;
  address?: string | undefined;
  'api-address'?: string | undefined;
  'storage-backend'?: string | undefined;
  'network-bridge'?: string | undefined;
  'network-ipv4'?: string | undefined;
}

/** The init request from flags. Bad input: INVALID_ARGUMENT with one line; nothing is sent. */
function flagsRequest(v: InitFlags): InitRequest {
  if (v.auto && v.join !== undefined) throw invalid('--auto and --join are mutually exclusive');
  if (!v.auto && v.join === undefined) throw new UsageError('shoald init needs --auto, --join TOKEN or --preseed');
  const name = v.name;
  const address = v.address;
  if (!name) throw invalid('Missing --name');
  if (!address) throw invalid('Missing --address');
  const apiAddress = v['api-address'] ?? defaultApiAddress(address);
  if (v.join !== undefined) {
    for (const f of ['storage-backend', 'network-bridge', 'network-ipv4'] as const) if (v[f] !== undefined) throw invalid(`--${f} is only for --auto (a joiner takes the cluster's pools and networks)`);
    return { kind: 'join', token: v.join, name, address, apiAddress };
  }
  const backend = v['storage-backend'];
  if (backend !== undefined && backend !== 'dir' && backend !== 'btrfs') throw invalid(`Invalid --storage-backend "${backend}": expected dir or btrfs`);
  const bridge = v['network-bridge'];
  const req: InitRequest = {
    kind: 'bootstrap',
    name,
    address,
    apiAddress,
    ...(backend ? { storageBackend: backend } : {}),
    ...(bridge && bridge !== 'none' ? { networkBridge: bridge } : {}),
    ...(v['network-ipv4'] ? { networkIpv4: v['network-ipv4'] } : {}),
  };
  checkBootstrap(req);
  return req;
}

/** `--api-address` default: the cluster address's host, port + 1. */
function defaultApiAddress(address: string): string {
  const { host, port } = splitHostPort(address, '--address');
  if (port >= 65535) throw invalid(`Invalid --address "${address}": no port after it for the API; give --api-address`);
  return `${host.includes(':') ? `[${host}]` : host}:${port + 1}`;
}

/** `shoald init --preseed < file.yaml` (keys: name, address, api_address, token | storage_backend, network_bridge, network_ipv4). */
async function preseedRequest(): Promise<InitRequest> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  let doc: unknown;
  try {
    doc = parseYaml(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw invalid(`Invalid preseed YAML: ${errorMessage(err)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('Invalid preseed: expected a YAML mapping');
  const o = doc as Record<string, unknown>;
  const known = ['name', 'address', 'api_address', 'token', 'storage_backend', 'network_bridge', 'network_ipv4'];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw invalid(`Invalid preseed: unknown key "${k}"`);
  const str = (k: string): string | undefined => {
    const x = o[k];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'string') throw invalid(`Invalid preseed: "${k}" must be a string`);
    return x;
  };
  const token = str('token');
  return flagsRequest({
    auto: token === undefined,
    join: token,
    name: str('name'),
    address: str('address'),
    'api-address': str('api_address'),
    'storage-backend': str('storage_backend'),
    'network-bridge': str('network_bridge'),
    'network-ipv4': str('network_ipv4'),
  });
}

/**
 * `shoald cluster recover [--force]`: through the running daemon (it stops its member, rewrites
 * the Raft membership and starts again), or directly on the state dir when no daemon runs.
 */
async function cluster(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { force: { type: 'boolean', default: false } } });
  if (positionals.length !== 1 || positionals[0] !== 'recover') throw new UsageError(`Unknown command "cluster ${positionals.join(' ')}"`);
  const paths = shoalPaths(shoalDirFromEnv());
  let online = true;
  try {
    await callControl<StatusResponse>(paths.controlSocket, 'status', {}, 5000);
  } catch (err) {
    if (!isShoalError(err, ErrorCode.Unavailable)) throw err;
    online = false; // no daemon answers: recover the state dir offline
  }
  let res: RecoverResponse;
  if (online) {
    res = await callControl<RecoverResponse>(paths.controlSocket, 'recover', { force: values.force ?? false }, 120_000);
  } else {
    if (!isInitialized(paths)) throw new ShoalError(ErrorCode.FailedPrecondition, `No initialized member in ${paths.dir}`);
    const id = await readIdentity(paths);
    const r = await recoverDatabase(paths.db, id.raftId);
    res = { member: id.name, raftId: id.raftId, removed: r.removed.map((x) => x.address || `raft id ${x.id}`) };
  }
  process.stdout.write(
    `Member "${res.member}" is now the only voter of the cluster (removed from Raft: ${res.removed.join(', ') || 'none'}).\n` +
      'Remove the lost members with `shoal cluster remove --force NAME`; they rejoin with new tokens from wiped state dirs.\n',
  );
  return 0;
}

/** `shoald waitready`: polls the daemon until it is ready. */
async function waitready(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], strict: true, options: { timeout: { type: 'string' } } });
  const timeoutS = Number(values.timeout ?? 0);
  if (!Number.isFinite(timeoutS) || timeoutS < 0) throw invalid(`Invalid --timeout "${values.timeout ?? ''}"`);
  const deadline = timeoutS === 0 ? Infinity : Date.now() + timeoutS * 1000;
  const socket = controlSocketPath(shoalDirFromEnv());
  for (;;) {
    try {
      const st = await callControl<StatusResponse>(socket, 'status', {}, 2000);
      if (!st.initialized || st.ready) return 0;
    } catch (err) {
      if (!isShoalError(err, ErrorCode.Unavailable) && !isShoalError(err, ErrorCode.DeadlineExceeded)) throw err;
    }
    if (Date.now() > deadline) throw new ShoalError(ErrorCode.DeadlineExceeded, `The daemon was not ready within ${timeoutS}s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

function invalid(message: string): ShoalError {
  return new ShoalError(ErrorCode.InvalidArgument, message);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`Error: ${errorMessage(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
