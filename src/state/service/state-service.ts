/**
 * The StateService gRPC handlers (proto/shoal/state/v1/state.proto) over a StateStore: raw
 * transactions through Raft, linearizable or serializable range reads, and members advertising
 * what they support. Served on the member's mTLS port and on its local control socket
 * (`shoald db`). Errors leave through toGrpcStatus (NOT_LEADER carries the leader hint).
 */
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { ResponseHeader } from '../../../proto/gen/shoal/kv/v1/kv.js';
import type { StateServiceServer } from '../../../proto/gen/shoal/state/v1/state.js';
import { ErrorCode, ShoalError, toGrpcStatus, type Logger } from '../../shared/index.js';
import { advertiseMember } from '../init.js';
import { opResultToProto, toKeyValue, txnFromProto } from '../kv/txn-codec.js';
import type { StateStore } from '../store/state-store.js';

/** What the handlers need besides the store: who answers (for response headers). */
export interface StateServiceDeps {
  readonly store: StateStore;
  readonly member: { readonly id: number; readonly currentTerm: number };
  readonly logger: Logger;
  /** Clock for heartbeat times (epoch ms). */
  readonly now: () => number;
}

/** Builds the handlers; register them with `server.addService(StateServiceService, handlers)`. */
export function createStateService(deps: StateServiceDeps): StateServiceServer {
  const { store } = deps;
  const sm = store.stateMachine;
  const header = (): ResponseHeader => ({ memberId: deps.member.id, raftTerm: deps.member.currentTerm, revision: sm.revision(), appliedIndex: sm.appliedIndex() });

  function unary<Req, Res>(name: string, fn: (req: Req) => Promise<Res>): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      fn(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => {
          if (!(err instanceof ShoalError) || err.code === ErrorCode.Internal) deps.logger.warn({ err, rpc: name }, 'request failed');
          callback(toGrpcStatus(err));
        },
      );
    };
  }

  return {
    txn: unary('Txn', async (req) => {
      const txn = txnFromProto(req);
      if (typeof txn === 'string') throw new ShoalError(ErrorCode.InvalidArgument, `Invalid transaction: ${txn}`);
      const res = await store.txn(txn, undefined, { noForward: true });
      return { header: header(), succeeded: res.succeeded, revision: res.revision, failedCompare: res.failedCompare, responses: res.responses.map(opResultToProto) };
    }),
    range: unary('Range', async (req) => {
      if (!req.serializable) await store.linearize();
      // Synchronous reads of the live state are consistent (no apply runs in between): no view needed.
      if (!req.prefix) {
        const kv = sm.getKv(req.key);
        return { header: header(), kvs: kv ? [toKeyValue(kv)] : [], count: kv ? 1 : 0, more: false };
      }
      const { kvs, count } = sm.range(req.key, req.limit);
      return { header: header(), kvs: kvs.map(toKeyValue), count, more: kvs.length < count };
    }),
    advertiseMember: unary('AdvertiseMember', async (req) => {
      const ad = {
        server_name: req.serverName,
        raft_id: req.raftId,
        url: req.url,
        architecture: req.architecture,
        schema_max: req.schemaMax,
        resources: { cpu: req.cpu, memory_bytes: req.memoryBytes, storage_pools: {} },
        last_heartbeat: new Date(deps.now()).toISOString(),
      };
      const { revision } = await store.update((tx) => advertiseMember(tx, ad));
      const view = await store.view({ stale: true });
      deps.logger.debug({ peer: ad.server_name, schemaMax: ad.schema_max, revision }, 'member advertised');
      return { header: header(), schemaVersion: view.schemaVersion };
    }),
  };
}
