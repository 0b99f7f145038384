/**
 * Where `record-output` execs keep their stdout/stderr (LXD: files `exec_<op>.stdout|stderr` in
 * the instance's exec-output directory, served under /1.0/instances/<n>/logs/exec-output/).
 * Shoal keeps them in the replicated database as raw keys
 * `api/exec-output/<project>/<instance>/<file>`, so they survive a leader change and any member
 * can serve them. A record is capped at {@link EXEC_OUTPUT_MAX_BYTES} (the database is not a
 * blob store): what a command writes beyond it is dropped and the operation metadata says
 * `output_truncated: true`.
 */
import { cmp, type StateStore } from '../../state/index.js';

/** Per-stream cap of a recorded output. */
export const EXEC_OUTPUT_MAX_BYTES = 1024 * 1024;

/** Key prefix of recorded exec output. */
export const EXEC_OUTPUT_PREFIX = 'api/exec-output/';

/** LXD's rule for exec-output file names: `exec_*.stdout` / `exec_*.stderr`, a plain file name. */
export function isExecOutputFileName(name: string): boolean {
  return /^exec_[A-Za-z0-9._-]+\.(stdout|stderr)$/.test(name) && !name.includes('..');
}

/** Recorded exec output of instances (the API's port; {@link StateExecOutputStore} implements it). */
export interface ExecOutputStore {
  put(project: string, instance: string, file: string, data: Uint8Array): Promise<void>;
  /** Undefined when absent. */
  get(project: string, instance: string, file: string): Promise<Uint8Array | undefined>;
  /** File names, sorted. */
  list(project: string, instance: string): Promise<string[]>;
  /** False when absent. */
  delete(project: string, instance: string, file: string): Promise<boolean>;
}

function dir(project: string, instance: string): string {
  return `${EXEC_OUTPUT_PREFIX}${project}/${instance}/`;
}

/** {@link ExecOutputStore} over the cluster database. */
export class StateExecOutputStore implements ExecOutputStore {
  constructor(private readonly store: StateStore) {}

  async put(project: string, instance: string, file: string, data: Uint8Array): Promise<void> {
    const key = dir(project, instance) + file;
    await this.store.txn({ compare: [], success: [{ kind: 'put', key, value: data.subarray(0, EXEC_OUTPUT_MAX_BYTES) }], failure: [] });
  }

  async get(project: string, instance: string, file: string): Promise<Uint8Array | undefined> {
    return (await this.store.read()).getKv(dir(project, instance) + file)?.value;
  }

  async list(project: string, instance: string): Promise<string[]> {
    const prefix = dir(project, instance);
    const { kvs } = (await this.store.read()).range(prefix);
    return kvs.map((kv) => kv.key.slice(prefix.length)).sort();
  }

  async delete(project: string, instance: string, file: string): Promise<boolean> {
    const key = dir(project, instance) + file;
    const res = await this.store.txn({ compare: [cmp.exists(key)], success: [{ kind: 'delete', key }], failure: [] });
    return res.succeeded;
  }
}
