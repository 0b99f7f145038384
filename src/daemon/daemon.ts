/**
 * `shoald` with no verb: runs a member in the foreground from SHOAL_DIR. An initialized state dir
 * (member.json) resumes the member from disk; otherwise the daemon waits on its control socket
 * for `shoald init` (bootstrap or join). SIGTERM/SIGINT stop it cleanly.
 */
import { rm } from 'node:fs/promises';
import { agentPaths } from '../node-agent/types.js';
import { ErrorCode, ShoalError, type Logger } from '../shared/index.js';
import { bootstrapMember } from './bootstrap.js';
import { startControlServer, type InitRequest, type InitResponse, type RecoverRequest, type RecoverResponse, type StatusResponse } from './control.js';
import { joinCluster } from './join.js';
import { startMember, type Member } from './member.js';
import { ensureStateDir, isInitialized, readIdentity, type ShoalPaths } from './paths.js';
import { recoverDatabase } from './recover.js';

export interface Daemon {
  /** Resolves when the daemon should exit, with its exit code. */
  readonly exited: Promise<number>;
  stop(code: number): Promise<void>;
}

export async function runDaemon(paths: ShoalPaths, log: Logger): Promise<Daemon> {
  await ensureStateDir(paths);
  let member: Member | undefined;
  let initializing: Promise<InitResponse> | undefined;
  let stopping = false;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((res) => (resolveExit = res));

  const adopt = (m: Member): void => {
    member = m;
    m.raft.onFatal((err) => {
      log.fatal({ err }, 'raft failed');
      void stop(1);
    });
  };

  /** Removed from the cluster: become an uninitialized daemon that may join again. The delay lets
   *  the answer to the removal (possibly proxied through this member) go out first. */
  const onRemoved = (): void => {
    const m = member;
    if (m) setTimeout(() => void resetAfterRemoval(m), 1000);
  };

  const resetAfterRemoval = async (m: Member): Promise<void> => {
    if (member !== m || stopping) return;
    member = undefined;
    log.warn({ member: m.identity.name }, 'this member was removed from the cluster: resetting to an uninitialized daemon');
    try {
      await m.stop();
      const ap = agentPaths(paths.dir);
      for (const p of [paths.identity, paths.certs, paths.db, ap.agentDb, ap.images]) await rm(p, { recursive: true, force: true });
      await ensureStateDir(paths);
      log.info({ dir: paths.dir }, 'not initialized: waiting for shoald init');
    } catch (err) {
      log.fatal({ err }, 'resetting after removal failed');
      void stop(1);
    }
  };

  const status = (): StatusResponse => ({
    initialized: member !== undefined || isInitialized(paths),
    ready: member !== undefined && member.raft.leader !== 0,
    ...(member ? { member: member.identity.name, leader: member.raft.leader } : {}),
  });

  const init = (req: InitRequest): Promise<InitResponse> => {
    if (member || isInitialized(paths)) return Promise.reject(new ShoalError(ErrorCode.FailedPrecondition, 'This member is already initialized'));
    if (initializing) return Promise.reject(new ShoalError(ErrorCode.FailedPrecondition, 'An initialization is already running'));
    initializing = (async () => {
      try {
        const m = req.kind === 'bootstrap' ? await bootstrapMember(paths, req, { log, control, onRemoved }) : await joinCluster(paths, req, { log, control, onRemoved });
        adopt(m);
        return { member: m.identity.name, raftId: m.identity.raftId };
      } finally {
        initializing = undefined;
      }
    })();
    return initializing;
  };

  /** Online quorum-loss recovery: stop the member, rewrite its Raft membership, start it again. */
  const recover = async (req: RecoverRequest): Promise<RecoverResponse> => {
    const m = member;
    if (!m) throw new ShoalError(ErrorCode.FailedPrecondition, 'This member is not initialized (or is being recovered already)');
    if (m.raft.leader !== 0 && !req.force) {
      throw new ShoalError(ErrorCode.FailedPrecondition, `The cluster has a leader (raft id ${m.raft.leader}): recover is for a cluster that lost quorum (--force to recover anyway)`);
    }
    const identity = m.identity;
    member = undefined;
    log.warn({ member: identity.name, raftId: identity.raftId }, 'quorum-loss recovery: stopping the member');
    await m.stop();
    const result = await recoverDatabase(paths.db, identity.raftId, log.child({ component: 'raft' }));
    log.warn({ removed: result.removed, term: result.term }, 'quorum-loss recovery: this member is the only voter');
    try {
      adopt(await startMember({ paths, identity, log, control, onRemoved }));
    } catch (err) {
      log.fatal({ err }, 'quorum-loss recovery: the member did not start again');
      void stop(1);
      throw err;
    }
    return { member: identity.name, raftId: identity.raftId, removed: result.removed.map((r) => r.address || `raft id ${r.id}`) };
  };

  const control = await startControlServer(paths.controlSocket, { status, init, recover }, log.child({ component: 'control' }));

  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ code }, 'daemon stopping');
    try {
      await initializing?.catch(() => undefined);
      await member?.stop();
    } finally {
      await new Promise<void>((resolve) => control.tryShutdown(() => resolve()));
      resolveExit(code);
    }
  };

  if (isInitialized(paths)) {
    const identity = await readIdentity(paths);
    try {
      adopt(await startMember({ paths, identity, log, control, onRemoved }));
    } catch (err) {
      control.forceShutdown();
      throw err;
    }
  } else {
    log.info({ dir: paths.dir }, 'not initialized: waiting for shoald init');
  }
  return { exited, stop };
}
