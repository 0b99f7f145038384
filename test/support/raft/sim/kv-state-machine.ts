/**
 * The replicated KV state machine the simulator runs on every node: put/get/cas/delete commands
 * in Normal entries, with client sessions (Raft thesis §6.3) so a retried command applies once.
 * State is a plain value (`SmImage`) so the simulated disk can keep a durable copy; all functions
 * here are deterministic, which lets the disk replay writes onto that copy.
 */
import type { ConfState } from '../../../../src/raft/index.js';
import { applyKv, type KvInput, type KvOutput } from '../../../support/lincheck/index.js';

/** A client command as carried in an entry. `s` is the client's sequence number (one op = one seq). */
export interface KvCommand {
  readonly c: number;
  readonly s: number;
  readonly op: KvInput;
}

export interface SmImage {
  kv: Map<string, string>;
  /** clientId → the last applied seq and its result. */
  sessions: Map<number, { seq: number; result: KvOutput }>;
  /** Index of the last applied entry (every entry type counts). */
  applied: number;
  /** The membership in force at `applied` (written with the ConfChange's effect). */
  confState: ConfState;
}

export function emptySm(confState: ConfState): SmImage {
  return { kv: new Map(), sessions: new Map(), applied: 0, confState };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCommand(cmd: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify(cmd));
}

/** Entries travel between simulated nodes by reference, so one decode serves every node. */
const decoded = new WeakMap<Uint8Array, KvCommand>();

export function decodeCommand(data: Uint8Array): KvCommand {
  let cmd = decoded.get(data);
  if (cmd === undefined) {
    cmd = JSON.parse(dec.decode(data)) as KvCommand;
    decoded.set(data, cmd);
  }
  return cmd;
}

/** `c:s` of a command, for matching applied entries to waiting proposals. */
export function requestKey(c: number, s: number): string {
  return `${c}:${s}`;
}

/**
 * Applies one Normal entry's data at `index` (which must be sm.applied + 1). Returns the command
 * and its result, or undefined for the leader's empty no-op. A duplicate (seq already applied)
 * has no effect and returns the recorded result (or unknown for a seq older than the last).
 */
export function applyCommand(
  sm: SmImage,
  index: number,
  data: Uint8Array,
): { cmd: KvCommand; result: KvOutput; duplicate: boolean } | undefined {
  sm.applied = index;
  if (data.byteLength === 0) return undefined;
  const cmd = decodeCommand(data);
  const session = sm.sessions.get(cmd.c);
  if (session !== undefined && cmd.s <= session.seq) {
    return { cmd, result: cmd.s === session.seq ? session.result : { kind: 'unknown' }, duplicate: true };
  }
  const r = applyKv(sm.kv.get(cmd.op.key) ?? null, cmd.op);
  if (r.state === null) sm.kv.delete(cmd.op.key);
  else sm.kv.set(cmd.op.key, r.state);
  sm.sessions.set(cmd.c, { seq: cmd.s, result: r.output });
  return { cmd, result: r.output, duplicate: false };
}

export function readKey(sm: SmImage, key: string): string | null {
  return sm.kv.get(key) ?? null;
}

/** A snapshot of the state (the applied index travels in the raft snapshot's metadata). */
export function snapshotSm(sm: SmImage): Uint8Array {
  return enc.encode(
    JSON.stringify({
      kv: [...sm.kv].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      sessions: [...sm.sessions].sort((a, b) => a[0] - b[0]),
    }),
  );
}

/** Replaces the whole state with a snapshot taken at `index` (membership `confState`). */
export function restoreSm(sm: SmImage, data: Uint8Array, index: number, confState: ConfState): void {
  if (data.byteLength === 0) {
    sm.kv = new Map();
    sm.sessions = new Map();
  } else {
    const parsed = JSON.parse(dec.decode(data)) as {
      kv: [string, string][];
      sessions: [number, { seq: number; result: KvOutput }][];
    };
    sm.kv = new Map(parsed.kv);
    sm.sessions = new Map(parsed.sessions);
  }
  sm.applied = index;
  sm.confState = confState;
}

export function cloneSm(sm: SmImage): SmImage {
  return { kv: new Map(sm.kv), sessions: new Map(sm.sessions), applied: sm.applied, confState: sm.confState };
}

/** A canonical rendering of the state, for convergence checks. */
export function smFingerprint(sm: SmImage): string {
  return dec.decode(snapshotSm(sm));
}
