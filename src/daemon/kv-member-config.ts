/**
 * Command-line flags of the Raft KV member program (kv-member.ts), parsed and validated. A peer
 * address is `name@host:port`: `name` is the member name in its certificate (CN / SAN DNS), by which
 * the gRPC transport authenticates it.
 */
import { parseArgs } from 'node:util';
import { ErrorCode, ShoalError } from '../shared/index.js';

export interface KvMemberConfig {
  readonly id: number;
  readonly dataDir: string;
  /** host:port to serve RaftService and KvService on. */
  readonly listen: string;
  /** Members by raft id → `name@host:port` (this member included). */
  readonly peers: ReadonlyMap<number, string>;
  /** Do not bootstrap: wait to be added to an existing cluster (as a learner). */
  readonly join: boolean;
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly tickMs: number;
  readonly heartbeatTick: number;
  readonly electionTick: number;
  readonly snapshotEntries: number;
  /** Log entries kept behind a snapshot (etcd: 5,000). */
  readonly snapshotTrailing: number;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Log file (pino JSON lines); stdout when absent. */
  readonly logFile: string | undefined;
  /** Newest cluster schema this member may use (default: the newest it knows; lower = behave like an older release). */
  readonly schemaMax: number | undefined;
}

export const KV_MEMBER_USAGE = `Usage: kv-member --id N --data-dir DIR --listen HOST:PORT --peers ID=NAME@HOST:PORT,...
                 --cert FILE --key FILE --ca FILE [--join] [--tick-ms 100] [--heartbeat-tick 1]
                 [--election-tick 10] [--snapshot-entries 100000] [--snapshot-trailing 5000]
                 [--log-level info] [--log-file FILE] [--schema-max N]`;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

function invalid(message: string): ShoalError {
  return new ShoalError(ErrorCode.InvalidArgument, message);
}

function positiveInt(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw invalid(`Invalid --${name} "${raw}": must be a positive integer`);
  return n;
}

/** Parses `argv` (without node and script). Throws INVALID_ARGUMENT with a one-line message. */
export function parseKvMemberArgs(argv: readonly string[]): KvMemberConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        id: { type: 'string' },
        'data-dir': { type: 'string' },
        listen: { type: 'string' },
        peers: { type: 'string' },
        join: { type: 'boolean', default: false },
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
        'tick-ms': { type: 'string' },
        'heartbeat-tick': { type: 'string' },
        'election-tick': { type: 'string' },
        'snapshot-entries': { type: 'string' },
        'snapshot-trailing': { type: 'string' },
        'log-level': { type: 'string' },
        'log-file': { type: 'string' },
        'schema-max': { type: 'string' },
      },
    }));
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err));
  }
  const need = (name: 'data-dir' | 'listen' | 'cert' | 'key' | 'ca' | 'id'): string => {
    const v = values[name];
    if (v === undefined || v === '') throw invalid(`Missing --${name}`);
    return v;
  };
  const id = positiveInt('id', need('id'), 0);
  const peers = new Map<number, string>();
  for (const part of (values.peers ?? '').split(',').filter(Boolean)) {
    const m = /^(\d+)=([A-Za-z0-9._-]+@[^@\s]+:\d+)$/.exec(part.trim());
    if (!m) throw invalid(`Invalid --peers entry "${part}": expected ID=NAME@HOST:PORT`);
    peers.set(Number(m[1]), m[2]!);
  }
  if (!values.join && !peers.has(id)) throw invalid(`--peers must include this member (${id}) unless --join is given`);
  const level = values['log-level'] ?? 'info';
  if (!(LEVELS as readonly string[]).includes(level)) throw invalid(`Invalid --log-level "${level}"`);
  const heartbeatTick = positiveInt('heartbeat-tick', values['heartbeat-tick'], 1);
  const electionTick = positiveInt('election-tick', values['election-tick'], 10);
  if (electionTick <= heartbeatTick) throw invalid('--election-tick must be greater than --heartbeat-tick');
  return {
    id,
    dataDir: need('data-dir'),
    listen: need('listen'),
    peers,
    join: values.join ?? false,
    cert: need('cert'),
    key: need('key'),
    ca: need('ca'),
    tickMs: positiveInt('tick-ms', values['tick-ms'], 100),
    heartbeatTick,
    electionTick,
    snapshotEntries: values['snapshot-entries'] === '0' ? 0 : positiveInt('snapshot-entries', values['snapshot-entries'], 100_000),
    snapshotTrailing: values['snapshot-trailing'] === '0' ? 0 : positiveInt('snapshot-trailing', values['snapshot-trailing'], 5_000),
    logLevel: level as KvMemberConfig['logLevel'],
    logFile: values['log-file'],
    schemaMax: values['schema-max'] === undefined ? undefined : positiveInt('schema-max', values['schema-max'], 0),
  };
}
