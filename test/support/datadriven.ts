/**
 * Data-driven test files in the style of cockroachdb/datadriven (used by etcd-io/raft):
 *
 *   # comment
 *   cmd arg key=val key=(v1,v2)
 *   optional input lines
 *   ----
 *   expected output
 *   <blank line>
 *
 * Expected output containing blank lines is wrapped in a second separator: `----\n----\n...\n----\n----`.
 * `runDataDrivenFile` runs every directive through a handler and compares outputs; with REWRITE=1
 * in the environment it rewrites the file with the actual outputs instead (review the diff!).
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface CmdArg {
  readonly key: string;
  readonly vals: readonly string[];
}

export interface TestData {
  readonly file: string;
  /** 1-based line of the command. */
  readonly line: number;
  readonly cmd: string;
  readonly args: readonly CmdArg[];
  /** Lines between the command and `----`, joined with \n. */
  readonly input: string;
  readonly expected: string;
  /** The raw command line as written. */
  readonly raw: string;
}

/** Parses `a b=1 c=(x,y)` into args. */
export function parseArgs(text: string): CmdArg[] {
  const args: CmdArg[] = [];
  const re = /([^\s=]+)(?:=(\([^)]*\)|\S+))?/g;
  for (const m of text.matchAll(re)) {
    const key = m[1]!;
    const raw = m[2];
    if (raw === undefined) args.push({ key, vals: [] });
    else if (raw.startsWith('(')) {
      const inner = raw.slice(1, -1).trim();
      args.push({ key, vals: inner === '' ? [] : inner.split(/[,\s]+/).filter((v) => v !== '') });
    } else args.push({ key, vals: [raw] });
  }
  return args;
}

export function parseDataDriven(text: string, file: string): TestData[] {
  const lines = text.split('\n');
  const out: TestData[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const cmdLine = i + 1;
    const [cmd = '', ...rest] = line.trim().split(/\s+/);
    const raw = line.trim();
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') input.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`${file}:${cmdLine}: missing ---- after "${raw}"`);
    i++; // ----
    const expected: string[] = [];
    if (lines[i] === '----') {
      // Blank-line-tolerant block, closed by ----\n----.
      i++;
      while (i < lines.length && !(lines[i] === '----' && lines[i + 1] === '----')) expected.push(lines[i++]!);
      if (i >= lines.length) throw new Error(`${file}:${cmdLine}: unterminated ----/---- block`);
      i += 2;
    } else {
      while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
    }
    out.push({
      file,
      line: cmdLine,
      cmd,
      args: parseArgs(rest.join(' ')),
      input: input.join('\n'),
      expected: expected.length > 0 ? expected.join('\n') + '\n' : '',
      raw,
    });
  }
  return out;
}

/** Formats one directive with its (actual) output, as it appears in a file. */
function formatDirective(raw: string, input: string, output: string): string {
  const body = output.endsWith('\n') ? output : output + '\n';
  const head = input === '' ? `${raw}\n` : `${raw}\n${input}\n`;
  if (/\n\n/.test(body) || body.startsWith('\n')) return `${head}----\n----\n${body}----\n----\n`;
  return `${head}----\n${body}`;
}

/**
 * Runs each directive of `path` through `handler` (which returns the output text) and asserts the
 * outputs match; with REWRITE=1, rewrites the file with the actual outputs. Comments and blank
 * lines between directives are preserved on rewrite.
 */
export function runDataDrivenFile(path: string, handler: (d: TestData) => string): void {
  const text = readFileSync(path, 'utf8');
  const directives = parseDataDriven(text, path);
  const rewrite = process.env.REWRITE === '1';
  const outputs: string[] = [];
  for (const d of directives) {
    let actual = handler(d);
    if (!actual.endsWith('\n')) actual += '\n';
    if (rewrite) {
      outputs.push(actual);
      continue;
    }
    if (actual !== d.expected) {
      throw new Error(
        `${d.file}:${d.line}: output of "${d.raw}" differs\n--- expected\n${d.expected}--- actual\n${actual}`,
      );
    }
  }
  if (rewrite) writeFileSync(path, rewriteText(text, directives, outputs));
}

/** Rebuilds the file text with new outputs, keeping everything outside directive outputs. */
export function rewriteText(text: string, directives: readonly TestData[], outputs: readonly string[]): string {
  const lines = text.split('\n');
  const parts: string[] = [];
  let i = 0;
  let k = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      parts.push(line + '\n');
      i++;
      continue;
    }
    const d = directives[k]!;
    i++;
    while (lines[i] !== '----') i++;
    i++;
    if (lines[i] === '----') {
      i++;
      while (!(lines[i] === '----' && lines[i + 1] === '----')) i++;
      i += 2;
    } else {
      while (i < lines.length && lines[i]!.trim() !== '') i++;
    }
    parts.push(formatDirective(d.raw, d.input, outputs[k]!));
    k++;
  }
  // split('\n') of a text ending in \n yields a final '' which became an extra \n.
  return parts.join('').replace(/\n+$/, '\n');
}
