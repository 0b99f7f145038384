/**
 * Text renderings of raft values for transcripts (etcd `DescribeReady`/`DescribeMessage` in our
 * vocabulary): `1->2 App Term:1 Log:1/3 Commit:3 Entries:[1/4 Normal "foo"]`.
 */
import { decodeConfChange, describeConfChange, describeConfState } from '../../../src/raft/index.js';
import type { Entry, Message, Ready, Snapshot } from '../../../src/raft/index.js';

const decoder = new TextDecoder();

/** Bytes as a quoted string when printable, else as hex. */
export function describeBytes(b: Uint8Array): string {
  for (const c of b) if (c < 0x20 || c > 0x7e) return `0x${Buffer.from(b).toString('hex')}`;
  return JSON.stringify(decoder.decode(b));
}

export function describeEntry(e: Entry): string {
  const data = e.type === 'ConfChange' ? describeConfChange(decodeConfChange(e.data)) : describeBytes(e.data);
  return `${e.term}/${e.index} ${e.type} ${data}`;
}

export function describeSnapshot(s: Snapshot): string {
  return `Index:${s.meta.index} Term:${s.meta.term} ConfState:${describeConfState(s.meta.confState)}`;
}

export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(', ')}]`;
  if (m.snapshot !== undefined) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  if (m.context.byteLength > 0) s += ` Context:${describeBytes(m.context)}`;
  return s;
}

export function describeReady(rd: Ready): string {
  const lines: string[] = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState) lines.push(`Lead:${rd.softState.lead} State:${rd.softState.role}`);
  if (rd.hardState)
    lines.push(`HardState Term:${rd.hardState.term} Vote:${rd.hardState.vote} Commit:${rd.hardState.commit}`);
  if (rd.entries.length > 0) lines.push('Entries:', ...rd.entries.map(describeEntry));
  if (rd.snapshot) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) lines.push('CommittedEntries:', ...rd.committedEntries.map(describeEntry));
  if (rd.messages.length > 0) lines.push('Messages:', ...rd.messages.map(describeMessage));
  if (rd.readStates.length > 0) {
    lines.push('ReadStates:', ...rd.readStates.map((rs) => `Index:${rs.index} Ctx:${describeBytes(rs.requestCtx)}`));
  }
  return lines.join('\n');
}
