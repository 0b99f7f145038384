/**
 * Exec and file access inside instances. Exec needs a running instance (FAILED_PRECONDITION
 * otherwise) and is not replayed by operation id (it is interactive); pushes and deletes are.
 * File access goes through the instance driver's safe rootfs API: a path escaping the instance's
 * root through `..` or a symlink is refused with PERMISSION_DENIED.
 */
import type { Readable } from 'node:stream';
import { errors } from '../shared/index.js';
import type { ExecRequest, ExecSession } from './drivers/instance-driver.js';
import type { InstanceFiles } from './files/instance-files.js';
import { currentStatus, projectOf, type InstanceRef } from './instance-common.js';
import type { ServiceContext } from './service-context.js';
import { InstanceStatus } from './types.js';

/** A path inside an instance (ids as seen inside the instance). */
export interface FileInfo {
  readonly type: 'file' | 'directory' | 'symlink';
  readonly uid: number;
  readonly gid: number;
  /** Permission bits. */
  readonly mode: number;
  readonly size: number;
  /** Names in a directory. */
  readonly entries?: readonly string[];
  /** Target of a symlink. */
  readonly target?: string;
}

/** What to write at a path inside an instance. */
export interface PushFileSpec {
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  readonly append: boolean;
  /** Symlink target. */
  readonly target?: string;
}

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

  /** Describes a path; for a regular file also its content (the caller consumes or destroys it). */
  async pull(ref: InstanceRef, path: string, signal: AbortSignal): Promise<{ info: FileInfo; content: Readable | null }> {
    const files = await this.files(ref, signal);
    const r = await files.pull(path);
    const base = { uid: r.uid, gid: r.gid, mode: r.mode };
    switch (r.type) {
      case 'file':
        return { info: { type: 'file', size: r.size, ...base }, content: r.content };
      case 'directory':
        return { info: { type: 'directory', size: 0, entries: r.entries, ...base }, content: null };
      case 'symlink':
        return { info: { type: 'symlink', size: 0, target: r.target, ...base }, content: null };
    }
  }

  /** Writes a path. Repeating the operation id replays without writing again. */
  push(opId: string, ref: InstanceRef, spec: PushFileSpec, content: Readable, signal: AbortSignal): Promise<null> {
    const project = projectOf(ref.project);
    return this.ctx.ledger.run(opId, 'PushFile', { project, name: ref.name, ...spec }, async () => {
      const files = await this.files(ref, signal, true);
      const own = {
        ...(spec.uid === undefined ? {} : { uid: spec.uid }),
        ...(spec.gid === undefined ? {} : { gid: spec.gid }),
      };
      switch (spec.type) {
        case 'file':
          await files.push(spec.path, {
            type: 'file',
            content: content as AsyncIterable<Uint8Array>,
            write: spec.append ? 'append' : 'overwrite',
            ...own,
            ...(spec.mode === undefined ? {} : { mode: spec.mode }),
          });
          break;
        case 'directory':
          content.destroy();
          await files.push(spec.path, { type: 'directory', ...own, ...(spec.mode === undefined ? {} : { mode: spec.mode }) });
          break;
        case 'symlink':
          content.destroy();
          await files.push(spec.path, { type: 'symlink', target: spec.target ?? '', ...own });
          break;
      }
      return null;
    });
  }

  /** Removes a file, symlink or empty directory. */
  delete(opId: string, ref: InstanceRef, path: string, signal: AbortSignal): Promise<null> {
    const project = projectOf(ref.project);
    return this.ctx.ledger.run(opId, 'DeleteFile', { project, name: ref.name, path }, async () => {
      await (await this.files(ref, signal, true)).delete(path);
      return null;
    });
  }

  /** The driver's file API of the instance; `touch` says the rootfs is about to change. */
  private async files(ref: InstanceRef, signal: AbortSignal, touch = false): Promise<InstanceFiles> {
    const rec = await this.ctx.instance(projectOf(ref.project), ref.name);
    if (touch) this.ctx.templates.forget(rec.hostName);
    return this.ctx.drivers.instance.files(rec.hostName, signal);
  }
}
