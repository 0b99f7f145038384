/**
 * kv-member: one member of a Raft-replicated key-value store, as its own process (composition
 * root). It serves RaftService (member ↔ member) and KvService (clients) on one gRPC server with
 * mutual TLS, keeps the Raft log and the KV state in one LevelDB under --data-dir, and shuts down
 * cleanly on SIGTERM/SIGINT. Exit codes: 0 clean stop (or removed from the cluster), 1 runtime
 * failure, 2 bad flags, 3 the stored data is corrupt (DATA_LOSS: refuses to start).
 */
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ClassicLevel } from 'classic-level';
import { pino } from 'pino';
import { KvServiceService } from '../../proto/gen/shoal/kv/v1/kv.js';
import {
  GrpcTransport,
  LatencyRecorder,
  LevelLogStorage,
  RaftNode,
  addRaftServiceToServer,
  raftServerCredentials,
  raftServerOptions,
  type TlsMaterial,
} from '../raft/index.js';
import { ErrorCode, createLogger, isShoalError, seededRng, systemClock, type Logger } from '../shared/index.js';
import { LevelKvStateMachine, createKvService, type KvApplyResult, type StateStore } from '../state/index.js';
import { KV_MEMBER_USAGE, parseKvMemberArgs, type KvMemberConfig } from './kv-member-config.js';
import { startStateRuntime } from './state-runtime.js';

/** A running member; `stop()` shuts it down (idempotent). */
export interface KvMember {
  readonly raft: RaftNode<KvApplyResult>;
  /** The cluster database over this member's Raft node (bench/state runs transactions on it in-process). */
  readonly store: StateStore;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts a member. Throws ShoalError (DATA_LOSS for a corrupt store, UNAVAILABLE when it cannot bind). */
export async function startKvMember(cfg: KvMemberConfig, log: Logger): Promise<KvMember> {
  const tls: TlsMaterial = { caPem: readFileSync(cfg.ca), certPem: readFileSync(cfg.cert), keyPem: readFileSync(cfg.key) };
  const dbPath = join(cfg.dataDir, 'db');
  mkdirSync(dbPath, { recursive: true });
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dbPath, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const raftLog = log.child({ component: 'raft', raftId: cfg.id });
  let storage: LevelLogStorage;
  try {
    storage = await LevelLogStorage.open({ db, logger: raftLog });
  } catch (err) {
    await db.close();
    throw err;
  }
  const sm = await LevelKvStateMachine.open(db);
  const rng = seededRng(randomInt(0, 2 ** 31));
  const trace = latencyTraceFromEnv(cfg.id);
  const transport = new GrpcTransport({
    id: cfg.id,
    tls,
    clock: systemClock,
    rng,
    logger: log.child({ component: 'transport' }),
    ...(trace ? { trace } : {}),
  });
  const raft = await RaftNode.start<KvApplyResult>({
    id: cfg.id,
    storage,
    stateMachine: sm,
    transport,
    clock: systemClock,
    rng,
    logger: raftLog,
    tickMs: cfg.tickMs,
    heartbeatTick: cfg.heartbeatTick,
    electionTick: cfg.electionTick,
    snapshotEntries: cfg.snapshotEntries,
    snapshotTrailing: cfg.snapshotTrailing,
    peers: cfg.peers,
    ...(trace ? { trace } : {}),
    ...(cfg.join ? {} : { bootstrap: [...cfg.peers].map(([id, address]) => ({ id, address })) }),
  });
  // Channelz bookkeeping costs several percent of a busy leader's CPU per call; nothing reads it.
  const server = new grpc.Server({ ...raftServerOptions(transport.limits), 'grpc.enable_channelz': 0 });
  addRaftServiceToServer(server, transport);
  server.addService(KvServiceService, createKvService({ raft, sm, logger: log.child({ component: 'kv' }), ...(trace ? { trace } : {}) }));
  // The cluster database (StateService, control socket for `shoald db`, schema upgrades).
  const memberName = /^([^@]+)@/.exec(cfg.peers.get(cfg.id) ?? '')?.[1] ?? `m${cfg.id}`;
  let state: Awaited<ReturnType<typeof startStateRuntime>>;
  try {
    state = await startStateRuntime({ raft, sm, server, dataDir: cfg.dataDir, memberName, tls, listen: cfg.listen, schemaMax: cfg.schemaMax, logger: log });
  } catch (err) {
    await raft.close();
    await db.close();
    throw err;
  }
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(cfg.listen, raftServerCredentials(tls), (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (err) {
    await state.stop();
    await raft.close();
    await db.close();
    throw err;
  }
  log.info({ raftId: cfg.id, listen: cfg.listen, applied: sm.appliedIndex() }, 'member started');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Raft first: closing its transport ends the peers' long-lived inbound streams, which would
      // otherwise hold tryShutdown() until the forced shutdown below.
      await state.stop();
      await raft.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await sm.flush().catch((err: unknown) => log.error({ err }, 'applied entries were not all written'));
      await db.close();
      log.info({}, 'member stopped');
    })());
  return { raft, store: state.store, port, stop };
}

/**
 * Debug: with SHOAL_RAFT_LATENCY_TRACE=<path>, records stage timestamps of every 16th log index and
 * rewrites `<path>.m<id>.json` every second (for bench/raft/latency-report.ts).
 */
function latencyTraceFromEnv(id: number): LatencyRecorder | undefined {
  const path = process.env.SHOAL_RAFT_LATENCY_TRACE;
  if (!path) return undefined;
  const rec = new LatencyRecorder(16);
  setInterval(() => writeFileSync(`${path}.m${id}.json`, JSON.stringify(rec.records())), 1000).unref();
  return rec;
}

async function main(): Promise<void> {
  let cfg: KvMemberConfig;
  try {
    cfg = parseKvMemberArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n${KV_MEMBER_USAGE}\n`);
    process.exit(2);
  }
  const destination = cfg.logFile ? pino.destination({ dest: cfg.logFile, sync: false, mkdir: true }) : undefined;
  const log = createLogger({ level: cfg.logLevel, base: { member: `m${cfg.id}` }, ...(destination ? { destination } : {}) });
  const exit = (code: number): void => {
    destination?.flushSync();
    process.exit(code);
  };
  let member: KvMember;
  try {
    member = await startKvMember(cfg, log);
  } catch (err) {
    const code = isShoalError(err) ? err.code : ErrorCode.Internal;
    log.fatal({ err }, 'member failed to start');
    process.stderr.write(`Error: ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    exit(isShoalError(err, ErrorCode.DataLoss) ? 3 : 1);
    return;
  }
  const shutdown = (signal: string, code: number): void => {
    log.info({ signal }, 'shutting down');
    member.stop().then(
      () => exit(code),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM', 0));
  process.once('SIGINT', () => shutdown('SIGINT', 0));
  member.raft.onFatal((err) => {
    log.fatal({ err }, 'raft failed');
    shutdown('fatal', 1);
  });
  member.raft.onRemoved(() => {
    // Let the removal's commit reach the others (heartbeats), then leave like etcd does.
    setTimeout(() => shutdown('removed', 0), 10 * cfg.tickMs).unref();
  });
}

// Run as a program (node kv-member.js …); importing the module only gives startKvMember.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
