/**
 * Transactions and their results ↔ their protobuf form (proto/shoal/state/v1/state.proto), for the
 * Raft log and for StateService. Decoding returns a problem string instead of throwing, so a bad
 * log entry becomes a deterministic no-op and a bad request an INVALID_ARGUMENT.
 */
import type { KeyValue } from '../../../proto/gen/shoal/kv/v1/kv.js';
import {
  CompareOp as PbCompareOp,
  CompareTarget as PbCompareTarget,
  type Compare as PbCompare,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
} from '../../../proto/gen/shoal/state/v1/state.js';
import type { KeyValueView } from './record.js';
import type { Compare, CompareOp, OpResult, Txn, TxnOp } from './txn.js';

/** A view of `bytes` as a Buffer, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const TARGET_TO_PB = {
  version: PbCompareTarget.COMPARE_TARGET_VERSION,
  createRevision: PbCompareTarget.COMPARE_TARGET_CREATE_REVISION,
  modRevision: PbCompareTarget.COMPARE_TARGET_MOD_REVISION,
  value: PbCompareTarget.COMPARE_TARGET_VALUE,
} as const;

const OP_TO_PB: Readonly<Record<CompareOp, PbCompareOp>> = {
  '=': PbCompareOp.COMPARE_OP_EQUAL,
  '!=': PbCompareOp.COMPARE_OP_NOT_EQUAL,
  '<': PbCompareOp.COMPARE_OP_LESS,
  '>': PbCompareOp.COMPARE_OP_GREATER,
};

const OP_FROM_PB: ReadonlyMap<PbCompareOp, CompareOp> = new Map(Object.entries(OP_TO_PB).map(([k, v]) => [v, k as CompareOp]));

/** Converts a transaction to its protobuf message. */
export function txnToProto(txn: Txn): TxnRequest {
  return { compare: txn.compare.map(compareToProto), success: txn.success.map(opToProto), failure: txn.failure.map(opToProto) };
}

function compareToProto(c: Compare): PbCompare {
  return {
    key: c.key,
    prefix: c.prefix === true,
    target: TARGET_TO_PB[c.target],
    op: OP_TO_PB[c.op],
    operand: c.target === 'value' ? { $case: 'value', value: asBuffer(c.value) } : { $case: 'number', value: c.number },
  };
}

function opToProto(op: TxnOp): RequestOp {
  switch (op.kind) {
    case 'range':
      return { op: { $case: 'range', value: { key: op.key, prefix: op.prefix === true, limit: op.limit ?? 0 } } };
    case 'put':
      return { op: { $case: 'put', value: { key: op.key, value: asBuffer(op.value), prevKv: op.prevKv === true } } };
    case 'delete':
      return { op: { $case: 'delete', value: { key: op.key, prefix: op.prefix === true, prevKv: op.prevKv === true } } };
  }
}

/** Converts a protobuf transaction back; a string is the reason it is malformed. */
export function txnFromProto(pb: TxnRequest): Txn | string {
  const compare: Compare[] = [];
  for (const c of pb.compare) {
    const got = compareFromProto(c);
    if (typeof got === 'string') return got;
    compare.push(got);
  }
  const success: TxnOp[] = [];
  const failure: TxnOp[] = [];
  for (const [from, to] of [
    [pb.success, success],
    [pb.failure, failure],
  ] as const) {
    for (const o of from) {
      const got = opFromProto(o);
      if (typeof got === 'string') return got;
      to.push(got);
    }
  }
  return { compare, success, failure };
}

function compareFromProto(c: PbCompare): Compare | string {
  const op = OP_FROM_PB.get(c.op);
  if (op === undefined) return `compare on "${c.key}" has no operator`;
  const base = { key: c.key, ...(c.prefix ? { prefix: true } : {}), op };
  if (c.target === PbCompareTarget.COMPARE_TARGET_VALUE) {
    if (c.operand?.$case !== 'value') return `value compare on "${c.key}" has no value`;
    return { ...base, target: 'value', value: c.operand.value };
  }
  const target =
    c.target === PbCompareTarget.COMPARE_TARGET_VERSION
      ? 'version'
      : c.target === PbCompareTarget.COMPARE_TARGET_CREATE_REVISION
        ? 'createRevision'
        : c.target === PbCompareTarget.COMPARE_TARGET_MOD_REVISION
          ? 'modRevision'
          : undefined;
  if (target === undefined) return `compare on "${c.key}" has no target`;
  if (c.operand?.$case !== 'number') return `${target} compare on "${c.key}" has no number`;
  return { ...base, target, number: c.operand.value };
}

function opFromProto(o: RequestOp): TxnOp | string {
  const op = o.op;
  if (op === undefined) return 'empty operation';
  switch (op.$case) {
    case 'range':
      return { kind: 'range', key: op.value.key, ...(op.value.prefix ? { prefix: true } : {}), ...(op.value.limit ? { limit: op.value.limit } : {}) };
    case 'put':
      return { kind: 'put', key: op.value.key, value: op.value.value, ...(op.value.prevKv ? { prevKv: true } : {}) };
    case 'delete':
      return { kind: 'delete', key: op.value.key, ...(op.value.prefix ? { prefix: true } : {}), ...(op.value.prevKv ? { prevKv: true } : {}) };
  }
}

/** Converts a stored key to its wire form. */
export function toKeyValue(kv: KeyValueView): KeyValue {
  return { key: kv.key, value: asBuffer(kv.value), version: kv.version, createRevision: kv.createRevision, modRevision: kv.modRevision };
}

/** Converts operation results to their wire form. */
export function opResultToProto(r: OpResult): ResponseOp {
  switch (r.kind) {
    case 'range':
      return { response: { $case: 'range', value: { kvs: r.kvs.map(toKeyValue), count: r.count, more: r.more } } };
    case 'put':
      return { response: { $case: 'put', value: { prevKv: r.prev ? toKeyValue(r.prev) : undefined } } };
    case 'delete':
      return { response: { $case: 'delete', value: { deleted: r.deleted, prevKvs: (r.prev ?? []).map(toKeyValue) } } };
  }
}

/** Converts wire operation results back (client side). */
export function opResultFromProto(r: ResponseOp): OpResult | undefined {
  const x = r.response;
  if (x === undefined) return undefined;
  switch (x.$case) {
    case 'range':
      return { kind: 'range', kvs: x.value.kvs, count: x.value.count, more: x.value.more };
    case 'put':
      return x.value.prevKv ? { kind: 'put', prev: x.value.prevKv } : { kind: 'put' };
    case 'delete':
      return { kind: 'delete', deleted: x.value.deleted, prev: x.value.prevKvs };
  }
}
