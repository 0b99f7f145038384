/**
 * Placement over a real cluster database from a client process: GrpcPlacementStore is the
 * PlacementStore (view + txn) of placeInstance implemented with the members' StateService over
 * mutual TLS — a linearizable Range of the whole key space on the leader (one consistent revision)
 * becomes a StateView, and transactions are StateService Txn calls to the leader, applied through
 * Raft by the leader's StateStore.txn. Several GrpcPlacementStores are several independent
 * placers (like API servers of several leaders over time) that really race in the database.
 */
import { StateView, KvView, opResultFromProto, WriteTx, type OpResult, type Txn, type TxnResult } from '../../../src/state/index.js';
import { createTree } from '../../../src/state/kv/tree.js';
import type { PlacementStore } from '../../../src/cluster/placement/index.js';
import type { StateCluster } from '../../support/state-cluster.js';

export class GrpcPlacementStore implements PlacementStore {
  /** Round trips, for the report. */
  views = 0;
  txns = 0;

  constructor(
    private readonly c: StateCluster,
    private readonly leader: number,
  ) {}

  async view(): Promise<StateView> {
    this.views++;
    const res = await this.c.range(this.leader, '', { prefix: true }, 30_000);
    const tree = createTree();
    for (const kv of res.kvs) tree.set(kv.key, { value: new Uint8Array(kv.value), version: kv.version, createRevision: kv.createRevision, modRevision: kv.modRevision });
    return new StateView(new KvView(tree, res.header!.revision, res.header!.appliedIndex));
  }

  async txn(txn: Txn): Promise<TxnResult> {
    this.txns++;
    const res = await this.c.txn(this.leader, txn, 30_000);
    return {
      kind: 'txn',
      succeeded: res.succeeded,
      revision: res.revision,
      failedCompare: res.failedCompare,
      responses: res.responses.map((r) => opResultFromProto(r)).filter((r): r is OpResult => r !== undefined),
    };
  }

  /** Runs `fn` in a write transaction on a fresh view, re-running it on compare failures (setup writes). */
  async update(fn: (tx: WriteTx) => void, attempts = 10): Promise<number> {
    for (let i = 1; ; i++) {
      const tx = new WriteTx(await this.view());
      fn(tx);
      const res = await this.txn(tx.toTxn().txn);
      if (res.succeeded) return res.revision;
      if (i >= attempts) throw new Error(`setup transaction kept conflicting (${attempts} attempts)`);
    }
  }
}

