/**
 * InstanceDriver: runs instances on this host. One implementation today (LXC containers). Every
 * method is idempotent (creating what exists with the same runtime succeeds, stopping a stopped
 * instance succeeds) and honours its AbortSignal. Errors are ShoalErrors naming the instance.
 */
import type { Readable, Writable } from 'node:stream';
import type { InstanceRuntime, InstanceSpec, InstanceState } from '../types.js';

/** What to run in an instance (LXD `InstanceExecPost`). */
export interface ExecRequest {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Allocate a pty (LXD "interactive"): stdout and stderr are merged, stderr is null. */
  readonly pty: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** A running command. The caller must consume stdout/stderr and await `exit`. */
export interface ExecSession {
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Null when a pty is used. */
  readonly stderr: Readable | null;
  /** Resizes the pty (no-op without one). */
  resize(width: number, height: number): void;
  /** Sends a signal (number, e.g. 15) to the command. */
  signal(signal: number): void;
  /** Exit code; 128+N when killed by signal N (LXD convention). */
  readonly exit: Promise<number>;
}

export interface StopOptions {
  /** Kill at once instead of a clean shutdown. */
  readonly force: boolean;
  /** Clean shutdown budget before failing (or killing, when `force` is also set). */
  readonly timeoutMs: number;
}

export interface InstanceDriver {
  readonly type: 'container';
  /** Throws INVALID_ARGUMENT naming the first bad config key or device. Pure (no host access). */
  validate(spec: InstanceSpec): void;
  /** Writes the instance's host definition (LXC config). Idempotent; the rootfs must already exist. */
  create(runtime: InstanceRuntime, signal: AbortSignal): Promise<void>;
  /** Rewrites the definition; applies what can change live (limits) when running. */
  update(runtime: InstanceRuntime, signal: AbortSignal): Promise<void>;
  start(hostName: string, signal: AbortSignal): Promise<void>;
  stop(hostName: string, options: StopOptions, signal: AbortSignal): Promise<void>;
  freeze(hostName: string, signal: AbortSignal): Promise<void>;
  unfreeze(hostName: string, signal: AbortSignal): Promise<void>;
  /** Removes the host definition (must be stopped; the volume is the storage driver's). Missing → no-op. */
  delete(hostName: string, signal: AbortSignal): Promise<void>;
  /** NOT_FOUND when the instance has no host definition. */
  state(hostName: string, signal: AbortSignal): Promise<InstanceState>;
  /** Host names of the instances defined on this host. */
  list(signal: AbortSignal): Promise<readonly string[]>;
  exec(hostName: string, request: ExecRequest, signal: AbortSignal): Promise<ExecSession>;
  /** The console log (what the instance's init wrote to its console). */
  consoleLog(hostName: string, signal: AbortSignal): Promise<string>;
}
