/**
 * InstanceDriver: runs instances on this host. One implementation today (LXC containers). Every
 * method is idempotent (creating what exists with the same runtime succeeds, stopping a stopped
 * instance succeeds) and honours its AbortSignal. Errors are ShoalErrors naming the instance.
 */
import type { Readable, Writable } from 'node:stream';
import type { Disposable } from '../../shared/index.js';
import type { InstanceFiles } from '../files/instance-files.js';
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

/** A stop the driver observed, whoever caused it (lxc-stop, `poweroff` inside, init dying). */
export interface InstanceStopEvent {
  readonly hostName: string;
  /** The instance is ephemeral: the service removes it (volume, then `delete`). */
  readonly ephemeral: boolean;
}

/** Starts one instance chosen by `autostart` (the service passes its own start path). */
export type AutostartStarter = (hostName: string, signal: AbortSignal) => Promise<void>;

/** What `autostart` did for one instance. */
export interface AutostartResult {
  readonly hostName: string;
  readonly started: boolean;
  /** Why the start failed (the other instances are still started). */
  readonly error?: Error;
}

/** Options of {@link InstanceDriver.create}. */
export interface CreateOptions {
  /** Settles when the root volume is in place (the service copies it while the driver defines). */
  readonly rootfsReady?: Promise<unknown>;
}

export interface InstanceDriver {
  readonly type: 'container';
  /** Throws INVALID_ARGUMENT naming the first bad config key or device. Pure (no host access). */
  validate(spec: InstanceSpec): void;
  /**
   * Writes the instance's host definition (LXC config). Idempotent. The rootfs must exist, or
   * be in the making: with `rootfsReady`, the parts that do not need it are written meanwhile and
   * the rest once it resolves (a rejection fails the create, which then leaves nothing behind).
   */
  create(runtime: InstanceRuntime, signal: AbortSignal, options?: CreateOptions): Promise<void>;
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
  /** File access to the instance's root filesystem (safe against escapes). NOT_FOUND when undefined. */
  files(hostName: string, signal: AbortSignal): Promise<InstanceFiles>;
  /**
   * Reports every observed stop, including those that happened while the agent was down (reported
   * shortly after watching starts). Call it at agent start, before `autostart`.
   */
  watchStops(listener: (event: InstanceStopEvent) => void): Disposable;
  /**
   * Starts, at agent start, the instances that should run (`boot.autostart=true`, or unset and
   * last asked to run), in `boot.autostart.priority` order with `boot.autostart.delay`. Each start
   * goes through `startOne` when given (the service's own start path: lock, network entries,
   * `start` templates), else through the driver's `start`. A failed start is reported in its
   * result and does not stop the others; cancellation (CANCELLED) is thrown.
   */
  autostart(signal: AbortSignal, startOne?: AutostartStarter): Promise<readonly AutostartResult[]>;
}
