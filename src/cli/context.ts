/**
 * What every command needs: the client configuration, a REST client per remote, the chosen
 * project, and the process's streams. Built once per invocation by main.ts; tests build one over
 * their own config directory and capture the output.
 */
import { ShoalClient } from './client/client.js';
import { cliPaths, endpointOf, loadConfig, splitRemote, type CliConfig, type CliPaths } from './client/config.js';
import { Transport } from './client/transport.js';

/** Thrown by commands that end with a specific exit code and nothing to print (exec). */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Output sinks (stdout/stderr in the real process). */
export interface Streams {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal (progress lines, interactive exec). */
  readonly isTTY: boolean;
}

/** Options every command accepts (see main.ts). */
export interface GlobalOptions {
  readonly project?: string | undefined;
  readonly quiet?: boolean | undefined;
}

/** The per-invocation context. */
export class CliContext {
  private configPromise: Promise<CliConfig> | undefined;
  private readonly clients = new Map<string, ShoalClient>();

  constructor(
    readonly streams: Streams,
    readonly paths: CliPaths = cliPaths(),
    readonly globals: GlobalOptions = {},
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The client configuration (read once). */
  config(): Promise<CliConfig> {
    this.configPromise ??= loadConfig(this.paths);
    return this.configPromise;
  }

  /** Forgets the cached configuration (after `remote` commands changed it). */
  invalidateConfig(): void {
    this.configPromise = undefined;
  }

  /** A client for `remote` (default remote when undefined). */
  async client(remote?: string): Promise<ShoalClient> {
    const config = await this.config();
    const name = remote ?? config.defaultRemote;
    let c = this.clients.get(name);
    if (!c) {
      c = new ShoalClient(new Transport(await endpointOf(config, this.paths, name)));
      this.clients.set(name, c);
    }
    return c;
  }

  /** Splits `remote:name` and returns the client of that remote. */
  async resolve(arg: string): Promise<{ client: ShoalClient; remote: string; name: string; project: string | undefined }> {
    const config = await this.config();
    const { remote, name } = splitRemote(config, this.paths, arg);
    return { client: await this.client(remote), remote, name, project: this.globals.project ?? config.remotes[remote]?.project };
  }

  /** The project for `remote` (flag, then the remote's default). */
  async project(remote?: string): Promise<string | undefined> {
    const config = await this.config();
    return this.globals.project ?? config.remotes[remote ?? config.defaultRemote]?.project;
  }

  /** Prints to stdout. */
  out(text: string): void {
    this.streams.out(text);
  }

  /** Prints a line to stdout unless `--quiet`. */
  say(line: string): void {
    if (!this.globals.quiet) this.streams.out(line + '\n');
  }

  /** Closes every connection this invocation opened. */
  close(): void {
    for (const c of this.clients.values()) c.transport.close();
    this.clients.clear();
  }
}
