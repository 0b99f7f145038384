/** FakeStateMachine: an in-memory StateMachine recording applied entries; results are "index:data". */
import { EntryType, type Entry, type Snapshot, type StateMachine } from '../../../src/raft/index.js';

export class FakeStateMachine implements StateMachine<string | undefined> {
  applied = 0;
  /** Every Normal entry with data ever applied, in order (a re-apply would show up twice). */
  log: string[] = [];
  restores = 0;

  async apply(entries: readonly Entry[]): Promise<readonly (string | undefined)[]> {
    return entries.map((e) => {
      if (e.index <= this.applied) return undefined;
      this.applied = e.index;
      if (e.type !== EntryType.Normal || e.data.byteLength === 0) return undefined;
      const s = new TextDecoder().decode(e.data);
      this.log.push(s);
      return `${e.index}:${s}`;
    });
  }
  appliedIndex(): number {
    return this.applied;
  }
  async snapshot(): Promise<{ index: number; data: Uint8Array }> {
    return { index: this.applied, data: new TextEncoder().encode(JSON.stringify(this.log)) };
  }
  async restore(s: Snapshot): Promise<void> {
    this.restores++;
    this.log = s.data.byteLength ? (JSON.parse(new TextDecoder().decode(s.data)) as string[]) : [];
    this.applied = s.meta.index;
  }
}
