/**
 * An exec without websockets (`wait-for-websocket: false`): a task operation that runs the
 * command with an empty stdin and ends with `{return: <exit code>}`. With `record-output`, stdout
 * and stderr are kept (exec-output-store.ts) and the metadata also carries
 * `output: {"1": "/1.0/instances/<n>/logs/exec-output/exec_<op>.stdout", "2": "….stderr"}`, as
 * LXD's exec does; otherwise the output is discarded.
 */
// eslint-disable-next-line import/no-restricted-paths
import type { PartialMessage } from '../../node-agent/client.js';
import type * as pb from '../../../proto/gen/shoal/agent/v1/agent.js';
import type { OperationContext } from '../operations/types.js';
import { EXEC_OUTPUT_MAX_BYTES, type ExecOutputStore } from './exec-output-store.js';
import { instanceUrl, type IoAgent } from './instance-ref.js';

/** What {@link runExecTask} needs. */
export interface ExecTaskOptions {
  readonly agent: IoAgent;
  readonly start: PartialMessage<pb.ExecStart>;
  readonly project: string;
  readonly instance: string;
  readonly requestId: string;
  /** Where to keep the output; undefined = discard it. */
  readonly record?: ExecOutputStore;
}

/** The task's `run`. */
export async function runExecTask(ctx: OperationContext, o: ExecTaskOptions): Promise<Record<string, unknown>> {
  const handle = o.agent.exec(ctx.id, o.start, { timeoutMs: 0, signal: ctx.signal, requestId: o.requestId });
  await handle.closeStdin();
  const kept = { stdout: new Capped(), stderr: new Capped() };
  for await (const chunk of handle.output) if (o.record) kept[chunk.stream].add(chunk.data);
  const code = await handle.exit;
  if (!o.record) return { return: code };
  const files = { stdout: `exec_${ctx.id}.stdout`, stderr: `exec_${ctx.id}.stderr` };
  await o.record.put(o.project, o.instance, files.stdout, kept.stdout.bytes());
  await o.record.put(o.project, o.instance, files.stderr, kept.stderr.bytes());
  const url = (f: string): string => instanceUrl(o.project, o.instance, `/logs/exec-output/${f}`);
  return {
    return: code,
    output: { '1': url(files.stdout), '2': url(files.stderr) },
    ...(kept.stdout.truncated || kept.stderr.truncated ? { output_truncated: true } : {}),
  };
}

/** Keeps at most EXEC_OUTPUT_MAX_BYTES of a stream. */
class Capped {
  private readonly parts: Buffer[] = [];
  private size = 0;
  truncated = false;

  add(data: Buffer): void {
    const room = EXEC_OUTPUT_MAX_BYTES - this.size;
    if (data.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = data.length > room ? data.subarray(0, room) : data;
    this.parts.push(part);
    this.size += part.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
