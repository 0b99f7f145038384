/**
 * Output formats of list commands, as lxc renders them: `table` (ASCII borders, centred
 * headers, multi-line cells, rows sorted by the caller), `compact` (no borders), `csv` (RFC 4180,
 * no header, as lxc), `json` and `yaml` (the API objects themselves, for scripts).
 */

/** Formats every list command accepts (`--format`). */
export const LIST_FORMATS = ['table', 'compact', 'csv', 'json', 'yaml'] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

/** True when `s` is a known format. */
export function isListFormat(s: string): s is ListFormat {
  return (LIST_FORMATS as readonly string[]).includes(s);
}

function width(s: string): number {
  return [...s].length;
}

function pad(s: string, n: number): string {
  return s + ' '.repeat(Math.max(0, n - width(s)));
}

function centre(s: string, n: number): string {
  const total = Math.max(0, n - width(s));
  const left = Math.floor(total / 2);
  return ' '.repeat(left) + s + ' '.repeat(total - left);
}

/** The lxc table: `+---+` rules, ` HEADER ` centred, cells left-aligned, `\n` inside a cell splits lines. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => Math.max(0, ...(r[i] ?? '').split('\n').map(width)))));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const out = [rule, '|' + headers.map((h, i) => ` ${centre(h, widths[i]!)} `).join('|') + '|', rule];
  for (const row of rows) {
    const cells = widths.map((_, i) => (row[i] ?? '').split('\n'));
    const height = Math.max(1, ...cells.map((c) => c.length));
    for (let line = 0; line < height; line++) {
      out.push('|' + cells.map((c, i) => ` ${pad(c[line] ?? '', widths[i]!)} `).join('|') + '|');
    }
    out.push(rule);
  }
  return out.join('\n') + '\n';
}

/** Borderless columns (`--format compact`). */
export function renderCompact(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const flat = rows.map((r) => headers.map((_, i) => (r[i] ?? '').replace(/\n/g, ', ')));
  const widths = headers.map((h, i) => Math.max(width(h), ...flat.map((r) => width(r[i]!))));
  const line = (cells: readonly string[]): string => cells.map((c, i) => pad(c, widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...flat.map(line)].join('\n') + '\n';
}

/** One CSV field (quoted when it holds a comma, quote or line break). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV rows, no header (lxc). Multi-line cells keep their line breaks inside quotes. */
export function renderCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map(csvField).join(',') + '\n').join('');
}

/** Parses CSV text (RFC 4180) back into rows: used by tests and `--format csv` consumers. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A list ready to print in any format: rows for the text formats, raw objects for json/yaml. */
export interface Listing {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly objects: unknown;
}

/** Renders a listing; yaml is loaded lazily (only the yaml format needs it). */
export async function renderListing(listing: Listing, format: ListFormat): Promise<string> {
  switch (format) {
    case 'table':
      return renderTable(listing.headers, listing.rows);
    case 'compact':
      return renderCompact(listing.headers, listing.rows);
    case 'csv':
      return renderCsv(listing.rows);
    case 'json':
      return JSON.stringify(listing.objects) + '\n';
    case 'yaml':
      return (await import('yaml')).stringify(listing.objects);
  }
}
