/**
 * All-or-nothing host work across members (LXD's cluster-wide pool and network creation): run a
 * step on every member concurrently; when one fails, undo it on the members where it succeeded.
 * Failure is a returned value, so the caller can record the outcome (Errored) before reporting it.
 */
import { ErrorCode, ShoalError, errorMessage, isShoalError, type Logger } from '../../shared/index.js';
import type { MemberAgents } from '../ports.js';

/** What one member's step returned, or why it failed. */
export type FanOutResult<T> =
  | { readonly ok: true; readonly results: ReadonlyMap<string, T> }
  | {
      readonly ok: false;
      /** Members whose step failed, with the error. */
      readonly failed: ReadonlyArray<{ readonly member: string; readonly err: unknown }>;
      /** Members where the step succeeded and was undone. */
      readonly reverted: readonly string[];
      /** Members where the step succeeded but the undo failed too: the object remains there. */
      readonly remaining: ReadonlyArray<{ readonly member: string; readonly err: unknown }>;
    };

/**
 * Runs `step(member)` on every member concurrently. If any fails, runs `undo(member)` on the
 * members where it succeeded (concurrently) and reports what failed and what remains.
 */
export async function onEveryMember<T>(
  members: readonly string[],
  step: (member: string) => Promise<T>,
  undo: (member: string) => Promise<void>,
  log: Logger,
): Promise<FanOutResult<T>> {
  const settled = await Promise.allSettled(members.map((m) => step(m)));
  const results = new Map<string, T>();
  const failed: Array<{ member: string; err: unknown }> = [];
  settled.forEach((s, i) => {
    const member = members[i]!;
    if (s.status === 'fulfilled') results.set(member, s.value);
    else failed.push({ member, err: s.reason });
  });
  if (failed.length === 0) return { ok: true, results };
  const done = [...results.keys()];
  const undone = await Promise.allSettled(done.map((m) => undo(m)));
  const reverted: string[] = [];
  const remaining: Array<{ member: string; err: unknown }> = [];
  undone.forEach((u, i) => {
    const member = done[i]!;
    if (u.status === 'fulfilled') reverted.push(member);
    else remaining.push({ member, err: u.reason });
  });
  for (const f of failed) log.warn({ err: f.err, member: f.member }, 'member step failed; reverting the others');
  for (const r of remaining) log.error({ err: r.err, member: r.member }, 'revert failed on member');
  return { ok: false, failed, reverted, remaining };
}

/** `"Failed … on member "m2": <cause>"` plus what remains, for the client. */
export function describeFailure(what: string, r: Extract<FanOutResult<unknown>, { ok: false }>): string {
  const first = r.failed[0]!;
  let msg = `Failed ${what} on member "${first.member}": ${errorMessage(first.err)}`;
  if (r.failed.length > 1) msg += ` (and on ${r.failed.slice(1).map((f) => `"${f.member}"`).join(', ')})`;
  if (r.remaining.length > 0) {
    msg += `; revert failed, still present on ${r.remaining.map((x) => `"${x.member}" (${errorMessage(x.err)})`).join(', ')}`;
  }
  return msg;
}

/** The error to answer with: the first member's ShoalError code (INTERNAL for anything else), the message above. */
export function fanOutError(what: string, r: Extract<FanOutResult<unknown>, { ok: false }>): ShoalError {
  const err = r.failed[0]?.err;
  const code = isShoalError(err) ? err.code : ErrorCode.Internal;
  return new ShoalError(code, describeFailure(what, r), { cause: err, retryable: false });
}

/** `deps.agents`, or UNAVAILABLE naming what needed it. */
export function requireAgents(agents: MemberAgents | undefined, what: string): MemberAgents {
  if (!agents) throw new ShoalError(ErrorCode.Unavailable, `${what} need the node agents, which this server does not have`);
  return agents;
}
