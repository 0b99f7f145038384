/**
 * Commits a follower's transactions on the leader: one StateService client (mutual TLS) to the
 * current leader, re-made when leadership moves. Given to the StateStore as its `forward`, so any
 * component may `store.update()` on any member (the join's pools and networks, the API's writes
 * served here). NOT_LEADER when no leader is known; the leader's own errors otherwise.
 */
import * as grpc from '@grpc/grpc-js';
import { StateServiceClient } from '../../proto/gen/shoal/state/v1/state.js';
import type { TlsMaterial } from '../raft/index.js';
import { ErrorCode, ShoalError, fromGrpcError } from '../shared/index.js';
import { opResultFromProto, txnToProto, type OpResult, type Txn, type TxnResult } from '../state/index.js';

/** What the forwarder needs of Raft: the leader's `name@host:port`, when known. */
export interface LeaderBook {
  leaderAddress(): string | undefined;
}

const FORWARD_DEADLINE_MS = 10_000;

export class LeaderTxnForwarder {
  private current: { book: string; client: StateServiceClient } | undefined;

  constructor(
    private readonly leader: LeaderBook,
    private readonly tls: TlsMaterial,
  ) {}

  /** Sends `txn` to the leader and returns its result. */
  txn(txn: Txn, signal?: AbortSignal): Promise<TxnResult> {
    const client = this.client();
    return new Promise((resolve, reject) => {
      const call = client.txn(txnToProto(txn), new grpc.Metadata(), { deadline: Date.now() + FORWARD_DEADLINE_MS }, (err, res) => {
        signal?.removeEventListener('abort', cancel);
        if (err) return reject(fromGrpcError(err));
        resolve({
          kind: 'txn',
          succeeded: res.succeeded,
          revision: Number(res.revision),
          failedCompare: res.failedCompare,
          responses: res.responses.map(opResultFromProto).filter((r): r is OpResult => r !== undefined),
        });
      });
      const cancel = (): void => call.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  close(): void {
    this.current?.client.close();
    this.current = undefined;
  }

  private client(): StateServiceClient {
    const book = this.leader.leaderAddress();
    const m = book === undefined ? null : /^([^@]+)@(.+)$/.exec(book);
    if (book === undefined || !m) throw new ShoalError(ErrorCode.NotLeader, 'No cluster leader is known; retry the request');
    if (this.current?.book !== book) {
      this.current?.client.close();
      const creds = grpc.credentials.createSsl(Buffer.from(this.tls.caPem), Buffer.from(this.tls.keyPem), Buffer.from(this.tls.certPem));
      this.current = { book, client: new StateServiceClient(m[2]!, creds, { 'grpc.ssl_target_name_override': m[1]!, 'grpc.default_authority': m[1]! }) };
    }
    return this.current.client;
  }
}
