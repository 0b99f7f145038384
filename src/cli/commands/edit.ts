/**
 * `edit` as lxc does it: the object's writable fields as YAML, edited in `$VISUAL`/`$EDITOR`
 * (default vi) when stdin is a terminal, or read from stdin otherwise
 * (`shoal config edit c1 < c1.yaml`). The result is PUT with `If-Match` on the ETag read, so a
 * concurrent change is refused instead of overwritten.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ShoalError } from '../../shared/errors.js';

/** Parses YAML edit input into an object; INVALID_ARGUMENT with the parser's message otherwise. */
export async function parseEditYaml(text: string): Promise<Record<string, unknown>> {
  const { parse } = await import('yaml');
  let v: unknown;
  try {
    v = parse(text);
  } catch (err) {
    throw new ShoalError(ErrorCode.InvalidArgument, `Failed parsing YAML: ${(err as Error).message.split('\n')[0] ?? ''}`, { cause: err });
  }
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ShoalError(ErrorCode.InvalidArgument, 'Failed parsing YAML: expected a map');
  return v as Record<string, unknown>;
}

/** Reads all of stdin. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Picks the editor command. */
export function editorCommand(env: NodeJS.ProcessEnv): string {
  return env['VISUAL'] || env['EDITOR'] || 'vi';
}

/**
 * Returns the edited object: from stdin when it is not a terminal, else through the editor,
 * starting from `current` (rendered as YAML under `header` comment lines).
 */
export async function editObject(current: unknown, header: string, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  if (!process.stdin.isTTY) return parseEditYaml(await readStdin());
  const { stringify } = await import('yaml');
  const dir = await mkdtemp(join(tmpdir(), 'shoal-edit-'));
  try {
    const file = join(dir, 'edit.yaml');
    const comments = header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n');
    await writeFile(file, `${comments}\n${stringify(current)}`);
    const r = spawnSync('sh', ['-c', `${editorCommand(env)} "$1"`, 'sh', file], { stdio: 'inherit' });
    if (r.status !== 0) throw new ShoalError(ErrorCode.Cancelled, `Editor exited with status ${r.status ?? 'unknown'}`);
    return await parseEditYaml(await readFile(file, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Keeps only `keys` of an object (the writable part LXD's PUT accepts). */
export function pick(obj: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}
