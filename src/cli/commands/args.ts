/** Small argument parsers shared by the commands (`key=value` lists, yes/no, sizes). */
import { ErrorCode, ShoalError } from '../../shared/errors.js';

/** `["a=1", "b=x=y"]` → `{a: "1", b: "x=y"}`; a missing `=` is INVALID_ARGUMENT. */
export function parseKeyValues(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ShoalError(ErrorCode.InvalidArgument, `Bad key=value pair: "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/**
 * `config set` arguments: either `key=value [key=value...]` or the older `key value` pair, as
 * lxc accepts both.
 */
export function parseSetArgs(args: readonly string[]): Record<string, string> {
  if (args.length === 2 && !args[0]!.includes('=')) return { [args[0]!]: args[1]! };
  if (args.length === 0) throw new ShoalError(ErrorCode.InvalidArgument, 'Missing key=value');
  return parseKeyValues(args);
}

/** Commander collector for repeatable options (`-c a=1 -c b=2`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
