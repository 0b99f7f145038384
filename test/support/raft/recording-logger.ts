/**
 * A RaftLogger whose lines become part of raft transcripts: `INFO 1 became leader term=1`.
 * Lines below the output's level are dropped; `none` silences everything.
 */
import type { RaftLogger } from '../../../src/raft/index.js';
import { describeBytes } from './describe.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The transcript being written: lines, current indentation and the level threshold. */
export class TranscriptOutput {
  level: LogLevel = 'info';
  private lines: string[] = [];
  private indent = '';

  /** Writes lines (dropped at level none unless `always`). */
  write(text: string, always = false): void {
    if (this.level === 'none' && !always) return;
    for (const line of text.split('\n')) this.lines.push(this.indent + line);
  }

  /** Runs `fn` with output indented by two spaces. */
  indented<T>(fn: () => T): T {
    const prev = this.indent;
    this.indent += '  ';
    try {
      return fn();
    } finally {
      this.indent = prev;
    }
  }

  quiet(): boolean {
    return this.level === 'none';
  }

  /** Returns and clears what was written. */
  take(): string {
    const s = this.lines.length === 0 ? '' : this.lines.join('\n') + '\n';
    this.lines = [];
    return s;
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(this.level) && this.level !== 'none';
  }
}

function formatValue(v: unknown): string {
  if (Array.isArray(v)) return `(${v.map(formatValue).join(' ')})`;
  if (v instanceof Uint8Array) return describeBytes(v);
  if (typeof v === 'string') return /[\s="]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** A logger for node `id` writing to `out`. */
export function recordingLogger(id: number, out: TranscriptOutput): RaftLogger {
  const log =
    (level: LogLevel) =>
    (obj: object, msg: string): void => {
      if (!out.enabled(level)) return;
      const fields = Object.entries(obj)
        .map(([k, v]) => ` ${k}=${formatValue(v)}`)
        .join('');
      out.write(`${level.toUpperCase()} ${id} ${msg}${fields}`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
