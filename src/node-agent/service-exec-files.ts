/**
 * Exec and file access inside instances. Exec needs a running instance (FAILED_PRECONDITION
 * otherwise) and is not replayed by operation id (it is interactive); pushes and deletes are.
 */
import type { Readable } from 'node:stream';
import { errors } from '../shared/index.js';
import type { ExecRequest, ExecSession } from './drivers/instance-driver.js';
import { currentStatus, projectOf, resolveRecord, type InstanceRef } from './instance-common.js';
import type { ServiceContext } from './service-context.js';
import type { FileInfo, PushFileSpec } from './service-ports.js';
import { InstanceStatus } from './types.js';

export class ExecFilesService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Starts a command in a running instance. The caller owns the session. */
  async exec(ref: InstanceRef, request: ExecRequest, signal: AbortSignal): Promise<ExecSession> {
    if (request.command.length === 0) throw errors.invalid('Exec needs a command');
    const rec = await this.ctx.instance(projectOf(ref.project), ref.name);
    const status = await currentStatus(this.ctx, rec.hostName, signal);
    if (status !== InstanceStatus.Running) throw errors.precondition(`Instance "${ref.name}" is not running`);
    this.ctx.log.debug({ instance: ref.name, argv0: request.command[0] }, 'exec');
    return this.ctx.drivers.instance.exec(rec.hostName, request, signal);
  }

  /** Describes a path, streaming a regular file's content. */
  async pull(ref: InstanceRef, path: string, signal: AbortSignal): Promise<{ info: FileInfo; content: Readable | null }> {
    const rec = await this.ctx.instance(projectOf(ref.project), ref.name);
    const { runtime } = await resolveRecord(this.ctx, rec);
    return this.ctx.drivers.files.pull(runtime, path, signal);
  }

  /** Writes a path. Repeating the operation id replays without writing again. */
  push(opId: string, ref: InstanceRef, spec: PushFileSpec, content: Readable, signal: AbortSignal): Promise<null> {
    const project = projectOf(ref.project);
    return this.ctx.ledger.run(opId, 'PushFile', { project, name: ref.name, ...spec }, async () => {
      const rec = await this.ctx.instance(project, ref.name);
      const { runtime } = await resolveRecord(this.ctx, rec);
      await this.ctx.drivers.files.push(runtime, spec, content, signal);
      return null;
    });
  }

  /** Removes a path. */
  delete(opId: string, ref: InstanceRef, path: string, signal: AbortSignal): Promise<null> {
    const project = projectOf(ref.project);
    return this.ctx.ledger.run(opId, 'DeleteFile', { project, name: ref.name, path }, async () => {
      const rec = await this.ctx.instance(project, ref.name);
      const { runtime } = await resolveRecord(this.ctx, rec);
      await this.ctx.drivers.files.delete(runtime, path, signal);
      return null;
    });
  }
}
