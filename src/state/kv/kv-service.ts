/**
 * The KvService gRPC handlers (proto/shoal/kv/v1/kv.proto) over a RaftNode and the KV state
 * machine. Writes are proposed through Raft and answered with the state machine's result for their
 * entry. Linearizable reads run a ReadIndex round first; serializable reads and List read local
 * state. A follower answers writes with NOT_LEADER and the leader's id and address in metadata
 * (toGrpcStatus); clients retry on the leader, as with etcd's leader-only operations.
 */
import type { ServerUnaryCall, sendUnaryData, handleUnaryCall } from '@grpc/grpc-js';
import type {
  KvServiceServer,
  ResponseHeader,
} from '../../../proto/gen/shoal/kv/v1/kv.js';
import { traceNow, type LatencyTrace, type RaftNode } from '../../raft/index.js';
import { ErrorCode, ShoalError, toGrpcStatus, type Logger } from '../../shared/index.js';
import type { KvResult } from './apply.js';
import { encodeCommand, toKeyValue } from './command.js';
import type { KvApplyResult, LevelKvStateMachine } from './level-kv-state-machine.js';

/** What the handlers need. */
export interface KvServiceDeps {
  readonly raft: RaftNode<KvApplyResult>;
  readonly sm: LevelKvStateMachine;
  readonly logger: Logger;
  /** Upper bound for an admin request when the client set no deadline. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Debug: samples the time from a handler's start to its answer (`handler:<Rpc>`). */
  readonly trace?: LatencyTrace;
}

/** Builds the handlers; register them with `server.addService(KvServiceService, handlers)`. */
export function createKvService(deps: KvServiceDeps): KvServiceServer {
  const { raft, sm } = deps;
  const maxMs = deps.requestTimeoutMs ?? 10_000;

  const header = (): ResponseHeader => ({
    memberId: raft.id,
    raftTerm: raft.currentTerm,
    revision: sm.revision(),
    appliedIndex: sm.appliedIndex(),
  });

  /**
   * Wraps a handler: errors go out through toGrpcStatus. Writes and reads are bounded by the
   * RaftNode's own request timeout (a per-request AbortSignal and timer cost more than the rest of a
   * write on a busy leader); admin calls get a deadline-bound signal.
   */
  function unary<Req, Res>(
    name: string,
    fn: (req: Req, signal: AbortSignal | undefined, abandoned: () => boolean) => Promise<Res>,
    bounded = false,
  ): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      let signal: AbortSignal | undefined;
      if (bounded) {
        const deadline = call.getDeadline();
        const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
        const ms = Number.isFinite(deadlineMs) ? Math.max(0, Math.min(maxMs, deadlineMs - Date.now())) : maxMs;
        signal = AbortSignal.timeout(ms);
      }
      const t0 = deps.trace ? traceNow() : 0;
      fn(call.request, signal, () => abandonedCall(call)).then(
        (res) => {
          callback(null, res);
          if (deps.trace) deps.trace.sample?.(`handler:${name}`, traceNow() - t0);
        },
        (err: unknown) => {
          if (!(err instanceof ShoalError) || err.code === ErrorCode.Internal) {
            deps.logger.warn({ err, rpc: name }, 'request failed');
          }
          callback(toGrpcStatus(err));
        },
      );
    };
  }

  async function write(
    cmd: Parameters<typeof encodeCommand>[0],
    signal: AbortSignal | undefined,
    abandoned: () => boolean,
  ): Promise<KvResult> {
    // An overloaded leader sheds writes whose caller gave up before they entered the log.
    const res = await raft.propose(encodeCommand(cmd), signal, abandoned);
    if (res === undefined || res.kind === 'invalid') {
      throw new ShoalError(ErrorCode.Internal, `Command was not applied: ${res?.kind === 'invalid' ? res.reason : 'no result'}`);
    }
    return res;
  }

  return {
    put: unary('Put', async (req, signal, abandoned) => {
      const res = await write({ kind: 'put', key: req.key, value: req.value }, signal, abandoned);
      if (res.kind !== 'put') throw new ShoalError(ErrorCode.Internal, `Unexpected result ${res.kind} for a put`);
      return { header: header(), revision: res.revision, version: res.version };
    }),
    delete: unary('Delete', async (req, signal, abandoned) => {
      const res = await write({ kind: 'delete', key: req.key }, signal, abandoned);
      if (res.kind !== 'delete') throw new ShoalError(ErrorCode.Internal, `Unexpected result ${res.kind} for a delete`);
      return { header: header(), deleted: res.deleted };
    }),
    cas: unary('Cas', async (req, signal, abandoned) => {
      if (req.expected === undefined) throw new ShoalError(ErrorCode.InvalidArgument, 'A compare-and-set needs an expected value or version');
      const expected =
        req.expected.$case === 'expectedValue'
          ? ({ kind: 'value', value: req.expected.value } as const)
          : ({ kind: 'version', version: req.expected.value } as const);
      const res = await write({ kind: 'cas', key: req.key, expected, value: req.value }, signal, abandoned);
      if (res.kind !== 'cas') throw new ShoalError(ErrorCode.Internal, `Unexpected result ${res.kind} for a cas`);
      return { header: header(), succeeded: res.succeeded, kv: res.kv ? toKeyValue(res.kv) : undefined };
    }),
    get: unary('Get', async (req, signal) => {
      if (!req.serializable) await raft.readIndex(signal);
      const kv = await sm.get(req.key);
      return { header: header(), found: kv !== undefined, kv: kv ? toKeyValue(kv) : undefined };
    }),
    list: unary('List', async (req) => {
      const kvs = await sm.list(req.prefix, req.limit);
      return { header: header(), kvs: kvs.map(toKeyValue) };
    }),
    status: unary('Status', async (req) => {
      const st = raft.status();
      const digest = req.includeDigest ? await sm.digest() : undefined;
      return {
        header: header(),
        id: st.id,
        leader: st.softState.lead,
        leaderAddress: st.leaderAddress ?? '',
        term: st.hardState.term,
        commit: st.hardState.commit,
        applied: digest?.appliedIndex ?? st.applied,
        role: st.softState.role,
        voters: [...st.confState.voters],
        learners: [...st.confState.learners],
        digest: digest?.digest ?? '',
        keyCount: digest?.keyCount ?? 0,
      };
    }),
    addLearner: unary('AddLearner', async (req, signal) => {
      if (req.address === '') throw new ShoalError(ErrorCode.InvalidArgument, 'A learner needs an address');
      await raft.addLearner(req.id, req.address, signal);
      return { header: header() };
    }, true),
    promoteMember: unary('PromoteMember', async (req, signal) => {
      await raft.promote(req.id, signal);
      return { header: header() };
    }, true),
    removeMember: unary('RemoveMember', async (req, signal) => {
      await raft.removeMember(req.id, signal);
      return { header: header() };
    }, true),
    transferLeader: unary('TransferLeader', async (req, signal) => {
      await raft.transferLeadership(req.to, signal);
      return { header: header() };
    }, true),
  };
}

/** Whether the caller has given up on `call`: cancelled, or its deadline has passed. */
function abandonedCall(call: ServerUnaryCall<unknown, unknown>): boolean {
  if (call.cancelled) return true;
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && Date.now() >= ms;
}
