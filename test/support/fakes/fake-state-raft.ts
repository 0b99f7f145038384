// FakeStateRaft: a single-member stand-in for RaftNode in unit tests of the state store's logic.
// A proposal becomes the next log entry and is applied to the real LevelKvStateMachine after one
// macrotask (so concurrent proposals interleave as they would against a busy leader); readIndex
// counts its calls and resolves after one macrotask. Unit tests only; never in src/.
import { EntryType } from '../../../src/raft/index.js';
import type { KvApplyResult, LevelKvStateMachine, StateRaft } from '../../../src/state/index.js';

export class FakeStateRaft implements StateRaft {
  readIndexCalls = 0;
  private index: number;

  constructor(private readonly sm: LevelKvStateMachine) {
    this.index = sm.appliedIndex();
  }

  async propose(data: Uint8Array): Promise<KvApplyResult> {
    const index = ++this.index;
    await new Promise((r) => setImmediate(r));
    const [res] = await this.sm.apply([{ term: 1, index, type: EntryType.Normal, data }]);
    return res;
  }

  async readIndex(): Promise<void> {
    this.readIndexCalls++;
    await new Promise((r) => setImmediate(r));
  }
}
