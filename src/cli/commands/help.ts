/** Help helpers: every command carries examples (`--help` at every level, as the issue asks). */
import type { Command } from 'commander';

/** Appends an "Examples:" block to a command's help. */
export function examples(cmd: Command, lines: readonly string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}
