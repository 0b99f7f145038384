#!/usr/bin/env node
/**
 * `shoal`: the command-line client, with lxc's verbs and habits. Speaks only the REST API.
 * `main(argv, io)` returns the exit code (tests call it in-process); errors are printed as one
 * line `Error: <message>` on stderr with exit code 1 (exec returns the command's own code).
 * Command implementations are imported when their verb runs, so `shoal list` loads little.
 */
import { Command, CommanderError } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliPaths, loadConfig } from './client/config.js';
import { CliContext, ExitCode, type Streams } from './context.js';
import { examples } from './commands/help.js';
import { registerInstanceCommands } from './register-instances.js';
import { registerMoreCommands } from './register-more.js';
import { registerAdminCommands } from './register-admin.js';

/** What `main` runs against (the real process by default). */
export interface MainIo {
  readonly streams: Streams;
  readonly env: NodeJS.ProcessEnv;
}

const processIo: MainIo = {
  streams: {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    isTTY: process.stdout.isTTY === true,
  },
  env: process.env,
};

/** Builds the whole command tree; `ctx()` gives the invocation's context once options are parsed. */
export function buildProgram(io: MainIo, ctx: () => CliContext): Command {
  const program = new Command('shoal')
    .description('Command line client for Shoal, a clustered system-container manager (lxc verbs)')
    .version('0.1.0')
    .option('--project <name>', 'project to work in (default: the remote\'s, else "default")')
    .option('-q, --quiet', "don't print progress or informational messages")
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.streams.out(s), writeErr: (s) => io.streams.err(s), outputError: () => undefined });
  examples(program, [
    'shoal image build busybox',
    'shoal launch busybox web1 --target m2',
    'shoal list',
    'shoal exec web1 -- ip addr',
    'shoal cluster list',
    'shoal remote add prod <trust-token>',
    'SHOAL_DIR=/tmp/m2 shoal list   # talk to another member\'s socket',
  ]);
  registerInstanceCommands(program, ctx);
  registerMoreCommands(program, ctx);
  registerAdminCommands(program, ctx);
  program.exitOverride();
  for (const c of program.commands) exitOverrideDeep(c);
  return program;
}

function exitOverrideDeep(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput(cmd.parent ? { ...cmd.parent.configureOutput() } : {});
  for (const c of cmd.commands) exitOverrideDeep(c);
}

/** Expands a user alias (config.yml `aliases`) in `args[0]`, as lxc does (`@ARGS@` marks where the rest goes). */
export function expandAlias(args: readonly string[], aliases: Readonly<Record<string, string>>): string[] {
  const first = args[0];
  if (first === undefined) return [...args];
  // Longest alias made of leading words wins (lxc matches multi-word aliases).
  for (let n = Math.min(args.length, 3); n >= 1; n--) {
    const key = args.slice(0, n).join(' ');
    const target = aliases[key];
    if (target === undefined) continue;
    const rest = args.slice(n);
    const words = target.split(/\s+/).filter((w) => w !== '');
    const at = words.indexOf('@ARGS@');
    return at < 0 ? [...words, ...rest] : [...words.slice(0, at), ...rest, ...words.slice(at + 1)];
  }
  return [...args];
}

/** Runs one invocation; returns the exit code. */
export async function main(argv: readonly string[], io: MainIo = processIo): Promise<number> {
  let context: CliContext | undefined;
  const paths = cliPaths(io.env);
  try {
    const aliases = (await loadConfig(paths)).aliases;
    const args = expandAlias(argv, aliases);
    const program: Command = buildProgram(io, () => {
      context ??= new CliContext(io.streams, paths, program.opts<{ project?: string; quiet?: boolean }>(), io.env);
      return context;
    });
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ExitCode) return err.code;
    if (err instanceof CommanderError) {
      // Help and version end with exit code 0; usage errors are reported like any other.
      if (err.exitCode === 0) return 0;
      io.streams.err(`Error: ${err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}\n`);
      return err.exitCode === 0 ? 0 : 1;
    }
    io.streams.err(`Error: ${(err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')}\n`);
    if (io.env['SHOAL_DEBUG'] && err instanceof Error && err.stack) io.streams.err(err.stack + '\n');
    return 1;
  } finally {
    context?.close();
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    // An entry that cannot be resolved is not this file.
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`Error: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
