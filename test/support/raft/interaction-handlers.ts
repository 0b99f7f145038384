/**
 * The commands of raft interaction transcripts (test/testdata/raft/*.txt), etcd-style:
 *
 *   add-nodes <n> voters=(1,2,3) learners=(4) index=2 [prevote=true checkquorum=true inflight=3
 *             inflight-bytes=N max-size-per-msg=N max-uncommitted-size=N
 *             max-committed-size-per-ready=N read-only=lease-based proposal-forwarding=true content=x
 *             log-terms=(2,2,3) term=3]   (preloaded entries after index, and the initial term)
 *   campaign <id>                        propose <id> <data>
 *   propose-conf-change <id>             (input line: v<id> | l<id> | r<id>)
 *   process-ready <id>...                deliver-msgs <id>... [drop=(ids)] [type=App]
 *   stabilize [<id>...]                  tick-election <id>...   tick-heartbeat <id>...   tick <id> <n>
 *   compact <id> <index>                 raft-log <id>           raft-state             status <id>
 *   transfer-leadership from=<id> to=<id>                        read-index <id> <ctx>
 *   report-unreachable <id> <peer>       report-snapshot <id> <peer> [ok=false]
 *   partition <ids> | <ids> ...          heal                    log-level <debug|info|warn|error|none>
 */
import { ConfChangeType, MessageType, type ConfChange, type ProposeResult } from '../../../src/raft/index.js';
import type { CmdArg, TestData } from '../datadriven.js';
import { describeEntry } from './describe.js';
import type { InteractionEnv } from './interaction-env.js';
import { type AddNodesOptions, type Recipient } from './interaction-env.js';
import { LOG_LEVELS, type LogLevel } from './recording-logger.js';

const encoder = new TextEncoder();

function num(s: string | undefined, what: string): number {
  const n = Number(s);
  if (s === undefined || !Number.isFinite(n)) throw new Error(`expected a number for ${what}, got ${s}`);
  return n;
}

/** Positional (value-less) arguments as numbers. */
function ids(d: TestData): number[] {
  return d.args.filter((a) => a.vals.length === 0).map((a) => num(a.key, d.cmd));
}

function kv(d: TestData, key: string): CmdArg | undefined {
  return d.args.find((a) => a.key === key && a.vals.length > 0);
}

function bool(s: string): boolean {
  if (s !== 'true' && s !== 'false') throw new Error(`expected true or false, got ${s}`);
  return s === 'true';
}

function describeResult(r: ProposeResult): string {
  if (r.ok) return '';
  return r.reason === 'NotLeader' ? `NotLeader (leader hint ${r.leaderHint})` : `ProposalDropped: ${r.detail}`;
}

function addNodes(env: InteractionEnv, d: TestData): void {
  const opts: AddNodesOptions = { voters: [], learners: [], logTerms: [], overrides: {} };
  const o = opts.overrides as Record<string, unknown>;
  for (const a of d.args.slice(1)) {
    const v = a.vals[0]!;
    switch (a.key) {
      case 'voters':
        opts.voters = a.vals.map((x) => num(x, 'voters'));
        break;
      case 'learners':
        opts.learners = a.vals.map((x) => num(x, 'learners'));
        break;
      case 'index':
        opts.index = num(v, 'index');
        break;
      case 'content':
        opts.content = v;
        break;
      case 'log-terms':
        opts.logTerms = a.vals.map((x) => num(x, 'log-terms'));
        break;
      case 'term':
        opts.term = num(v, 'term');
        break;
      case 'prevote':
        o.preVote = bool(v);
        break;
      case 'checkquorum':
        o.checkQuorum = bool(v);
        break;
      case 'inflight':
        o.maxInflightMsgs = num(v, a.key);
        break;
      case 'inflight-bytes':
        o.maxInflightBytes = num(v, a.key);
        break;
      case 'max-size-per-msg':
        o.maxSizePerMsg = num(v, a.key);
        break;
      case 'max-uncommitted-size':
        o.maxUncommittedEntriesSize = num(v, a.key);
        break;
      case 'max-committed-size-per-ready':
        o.maxCommittedSizePerReady = num(v, a.key);
        break;
      case 'proposal-forwarding':
        o.proposalForwarding = bool(v);
        break;
      case 'read-only':
        if (v !== 'safe' && v !== 'lease-based') throw new Error(`invalid read-only option ${v}`);
        o.readOnlyOption = v === 'safe' ? 'Safe' : 'LeaseBased';
        break;
      default:
        throw new Error(`unknown add-nodes option ${a.key}`);
    }
  }
  env.addNodes(num(d.args[0]?.key, 'add-nodes count'), opts);
}

function parseConfChange(token: string): ConfChange {
  const m = /^([vlr])(\d+)$/.exec(token.trim());
  if (m === null) throw new Error(`invalid conf change ${token} (want v<id>, l<id> or r<id>)`);
  const type =
    m[1] === 'v' ? ConfChangeType.AddNode : m[1] === 'l' ? ConfChangeType.AddLearner : ConfChangeType.RemoveNode;
  return { type, nodeId: Number(m[2]), context: new Uint8Array(0) };
}

function raftLog(env: InteractionEnv, id: number): void {
  const s = env.node(id).storage;
  const first = s.firstIndex();
  const last = s.lastIndex();
  if (last < first) {
    env.out.write(`log is empty: first index=${first}, last index=${last}`);
    return;
  }
  for (const e of s.entries(first, last + 1, Infinity)) env.out.write(describeEntry(e));
}

/** Runs one directive and returns its output (`ok` when silent). */
export function handle(env: InteractionEnv, d: TestData): string {
  try {
    run(env, d);
  } catch (err) {
    env.out.write(err instanceof Error ? err.message : String(err), true);
  }
  const out = env.out.take();
  return out === '' ? 'ok\n' : out;
}

function run(env: InteractionEnv, d: TestData): void {
  const first = (): number => num(d.args[0]?.key, `${d.cmd} node`);
  switch (d.cmd) {
    case 'add-nodes':
      return addNodes(env, d);
    case 'campaign':
      return env.node(first()).rawNode.campaign();
    case 'propose': {
      const res = env.node(first()).rawNode.propose(encoder.encode(d.args[1]?.key ?? ''));
      if (!res.ok) env.out.write(describeResult(res));
      return;
    }
    case 'propose-conf-change': {
      const res = env.node(first()).rawNode.proposeConfChange(parseConfChange(d.input));
      if (!res.ok) env.out.write(describeResult(res));
      return;
    }
    case 'process-ready': {
      const list = ids(d);
      for (const id of list) {
        if (list.length > 1) {
          env.out.write(`> ${id} handling Ready`);
          env.out.indented(() => env.processReady(id));
        } else env.processReady(id);
      }
      return;
    }
    case 'deliver-msgs': {
      const rs: Recipient[] = ids(d).map((id) => ({ id, drop: false }));
      for (const id of kv(d, 'drop')?.vals ?? []) rs.push({ id: num(id, 'drop'), drop: true });
      const type = kv(d, 'type')?.vals[0];
      if (type !== undefined && !(type in MessageType)) throw new Error(`unknown message type ${type}`);
      if (env.deliverMsgs(rs, type as MessageType | undefined) === 0) env.out.write('no messages');
      return;
    }
    case 'stabilize':
      return env.stabilize(ids(d));
    case 'tick-election':
      for (const id of ids(d)) env.tick(id, env.node(id).config.electionTick);
      return;
    case 'tick-heartbeat':
      for (const id of ids(d)) env.tick(id, env.node(id).config.heartbeatTick);
      return;
    case 'tick':
      return env.tick(first(), num(d.args[1]?.key, 'tick count'));
    case 'compact': {
      const id = first();
      env.node(id).storage.compact(num(d.args[1]?.key, 'compact index'));
      return raftLog(env, id);
    }
    case 'raft-log':
      return raftLog(env, first());
    case 'raft-state':
      return env.out.write(env.raftState());
    case 'status': {
      const lines = env.node(first()).rawNode.describeProgress();
      const st = env.node(first()).rawNode.status();
      return env.out.write(st.progress === undefined ? 'not leader' : lines.join('\n'));
    }
    case 'transfer-leadership': {
      const from = num(kv(d, 'from')?.vals[0], 'from');
      return env.node(from).rawNode.transferLeader(num(kv(d, 'to')?.vals[0], 'to'));
    }
    case 'read-index':
      return env.node(first()).rawNode.readIndex(encoder.encode(d.args[1]?.key ?? ''));
    case 'report-unreachable':
      return env.node(first()).rawNode.reportUnreachable(num(d.args[1]?.key, 'peer'));
    case 'report-snapshot': {
      const ok = kv(d, 'ok')?.vals[0];
      return env.node(first()).rawNode.reportSnapshot(num(d.args[1]?.key, 'peer'), ok === undefined || bool(ok));
    }
    case 'partition': {
      const groups: number[][] = [[]];
      for (const a of d.args) {
        if (a.key === '|') groups.push([]);
        else groups[groups.length - 1]!.push(num(a.key, 'partition'));
      }
      env.partition = groups;
      return;
    }
    case 'heal':
      env.partition = undefined;
      return;
    case 'log-level': {
      const level = (d.args[0]?.key ?? '').toLowerCase();
      if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`unknown log level ${level}`);
      env.out.level = level as LogLevel;
      return;
    }
    default:
      throw new Error(`unknown command ${d.cmd}`);
  }
}
