/**
 * The subset of pongo2 (Django-style templates) that LXD image templates use, rendered the way LXD
 * does (autoescape off): `{{ expr|filter:arg }}`, `{% if %}/{% elif %}/{% else %}/{% endif %}`,
 * `{% for x in xs %}`/`{% for k, v in map %}` with `forloop`, `{# comments #}`, whitespace control
 * (`{%-`, `-%}`, `{{-`, `-}}`), `{% autoescape %}` blocks; expressions with dotted and indexed
 * access, function calls (`config_get("key", "default")`), string/number/bool literals, `==`,
 * `!=`, `<`, `>`, `<=`, `>=`, `in`, `not in`, `and`, `or`, `not`; filters default,
 * default_if_none, lower, upper, capfirst, title, length, join, first, last, trim, safe.
 * Also builds LXD's template context. Pure.
 */
import { errors } from '../../shared/index.js';
import type { TemplateTrigger } from './image-store.js';

export type TemplateFunction = (...args: TemplateValue[]) => TemplateValue;
export type TemplateValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly TemplateValue[]
  | { readonly [key: string]: TemplateValue }
  | TemplateFunction;
export type TemplateContext = Readonly<Record<string, TemplateValue>>;

/** What LXD exposes to an image template (lxd/instance/drivers/driver_lxc.go templateApplyNow). */
export interface LxdTemplateInput {
  readonly name: string;
  readonly architecture: string;
  readonly privileged: boolean;
  readonly ephemeral: boolean;
  readonly config: Readonly<Record<string, string>>;
  readonly devices: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The template entry's `properties`. */
  readonly properties: Readonly<Record<string, string>>;
  /** Target path inside the instance. */
  readonly path: string;
  readonly trigger: TemplateTrigger;
}

/** LXD's context: container/instance, config, devices, properties, path, trigger, config_get(). */
export function lxdTemplateContext(input: LxdTemplateInput): TemplateContext {
  const meta = {
    name: input.name,
    architecture: input.architecture,
    privileged: input.privileged ? 'true' : 'false',
    ephemeral: input.ephemeral ? 'true' : 'false',
  };
  return {
    trigger: input.trigger,
    path: input.path,
    container: meta,
    instance: meta,
    config: input.config,
    devices: input.devices,
    properties: input.properties,
    config_get: (key, dflt) => {
      const v = typeof key === 'string' ? input.config[key] : undefined;
      return v ?? (dflt === undefined ? '' : dflt);
    },
  };
}

/** Renders `source` with `context`; INVALID_ARGUMENT naming `name` and the line on errors. */
export function renderTemplate(source: string, context: TemplateContext, name = 'template'): string {
  return compileTemplate(source, name)(context);
}

/** Parses once, renders many times. */
export function compileTemplate(source: string, name = 'template'): (context: TemplateContext) => string {
  const nodes = new Parser(tokenize(source, name), name).parseAll();
  return (context) => {
    const out: string[] = [];
    renderNodes(nodes, [context], out, name);
    return out.join('');
  };
}

// ---------------------------------------------------------------- lexer

type Tok =
  | { readonly kind: 'text'; readonly text: string; readonly line: number }
  | { readonly kind: 'var' | 'tag'; readonly body: string; readonly line: number };

function tokenize(src: string, name: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  let trimNext = false;
  while (i < src.length) {
    const open = src.slice(i).search(/\{[{%#]/);
    const end = open === -1 ? src.length : i + open;
    let text = src.slice(i, end);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    const kind = open === -1 ? undefined : src[end + 1];
    const trimPrev = kind !== undefined && src[end + 2] === '-';
    if (trimPrev) text = text.replace(/\s+$/, '');
    if (text) toks.push({ kind: 'text', text, line });
    line += count(src.slice(i, end), '\n');
    if (kind === undefined) break;
    const close = kind === '{' ? '}}' : kind === '%' ? '%}' : '#}';
    const stop = src.indexOf(close, end + 2);
    if (stop === -1) throw fail(name, line, `unclosed "{${kind}"`);
    let body = src.slice(end + 2, stop);
    if (body.startsWith('-')) body = body.slice(1);
    if (body.endsWith('-')) {
      body = body.slice(0, -1);
      trimNext = true;
    }
    if (kind !== '#') toks.push({ kind: kind === '{' ? 'var' : 'tag', body: body.trim(), line });
    line += count(src.slice(end, stop + 2), '\n');
    i = stop + 2;
  }
  return toks;
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

function fail(name: string, line: number, msg: string): Error {
  return errors.invalid(`Template "${name}": line ${line}: ${msg}`);
}

// ---------------------------------------------------------------- AST and parser

type Expr =
  | { readonly t: 'lit'; readonly v: TemplateValue }
  | { readonly t: 'name'; readonly name: string }
  | { readonly t: 'attr'; readonly obj: Expr; readonly key: Expr }
  | { readonly t: 'call'; readonly fn: Expr; readonly args: readonly Expr[] }
  | { readonly t: 'not'; readonly e: Expr }
  | { readonly t: 'bin'; readonly op: string; readonly l: Expr; readonly r: Expr }
  | { readonly t: 'filter'; readonly e: Expr; readonly name: string; readonly arg?: Expr };

type Node =
  | { readonly t: 'text'; readonly text: string }
  | { readonly t: 'out'; readonly e: Expr; readonly line: number }
  | {
      readonly t: 'if';
      readonly branches: readonly { readonly cond: Expr; readonly body: readonly Node[]; readonly line: number }[];
      readonly other: readonly Node[];
    }
  | {
      readonly t: 'for';
      readonly vars: readonly string[];
      readonly iter: Expr;
      readonly body: readonly Node[];
      readonly empty: readonly Node[];
      readonly line: number;
    };

class Parser {
  private pos = 0;
  constructor(
    private readonly toks: readonly Tok[],
    private readonly name: string,
  ) {}

  parseAll(): Node[] {
    const { nodes, end } = this.parseUntil([]);
    if (end) throw fail(this.name, end.line, `unexpected "{% ${end.word} %}"`);
    return nodes;
  }

  /** Parses nodes until one of the `stops` tags (returned, consumed) or the end. */
  private parseUntil(stops: readonly string[]): { nodes: Node[]; end?: { word: string; rest: string; line: number } } {
    const nodes: Node[] = [];
    while (this.pos < this.toks.length) {
      const tok = this.toks[this.pos++] as Tok;
      if (tok.kind === 'text') {
        nodes.push({ t: 'text', text: tok.text });
        continue;
      }
      if (tok.kind === 'var') {
        nodes.push({ t: 'out', e: parseExpr(tok.body, this.name, tok.line), line: tok.line });
        continue;
      }
      const [word = '', rest = ''] = splitWord(tok.body);
      if (stops.includes(word)) return { nodes, end: { word, rest, line: tok.line } };
      switch (word) {
        case 'if':
          nodes.push(this.parseIf(rest, tok.line));
          break;
        case 'for':
          nodes.push(this.parseFor(rest, tok.line));
          break;
        case 'autoescape': {
          const inner = this.parseUntil(['endautoescape']);
          if (!inner.end) throw fail(this.name, tok.line, 'missing "{% endautoescape %}"');
          nodes.push(...inner.nodes);
          break;
        }
        default:
          throw fail(
            this.name,
            tok.line,
            BLOCK_WORDS.has(word) ? `unexpected "{% ${word} %}"` : `unknown tag "${word}"`,
          );
      }
    }
    return { nodes };
  }

  private parseIf(cond: string, line: number): Node {
    const branches: { cond: Expr; body: Node[]; line: number }[] = [];
    let current = parseExpr(cond, this.name, line);
    let currentLine = line;
    for (;;) {
      const part = this.parseUntil(['elif', 'else', 'endif']);
      if (!part.end) throw fail(this.name, line, 'missing "{% endif %}"');
      branches.push({ cond: current, body: part.nodes, line: currentLine });
      if (part.end.word === 'endif') return { t: 'if', branches, other: [] };
      if (part.end.word === 'else') {
        const other = this.parseUntil(['endif']);
        if (!other.end) throw fail(this.name, line, 'missing "{% endif %}"');
        return { t: 'if', branches, other: other.nodes };
      }
      current = parseExpr(part.end.rest, this.name, part.end.line);
      currentLine = part.end.line;
    }
  }

  private parseFor(spec: string, line: number): Node {
    const m = /^([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\s+(.+?)(\s+reversed)?$/.exec(spec);
    if (!m) throw fail(this.name, line, `malformed "{% for ${spec} %}"`);
    const vars = m[2] ? [m[1] as string, m[2]] : [m[1] as string];
    let iter = parseExpr(m[3] as string, this.name, line);
    if (m[4]) iter = { t: 'filter', e: iter, name: '__reversed' };
    const body = this.parseUntil(['empty', 'endfor']);
    if (!body.end) throw fail(this.name, line, 'missing "{% endfor %}"');
    let empty: Node[] = [];
    if (body.end.word === 'empty') {
      const e = this.parseUntil(['endfor']);
      if (!e.end) throw fail(this.name, line, 'missing "{% endfor %}"');
      empty = e.nodes;
    }
    return { t: 'for', vars, iter, body: body.nodes, empty, line };
  }
}

const BLOCK_WORDS: ReadonlySet<string> = new Set(['elif', 'else', 'endif', 'empty', 'endfor', 'endautoescape']);

function splitWord(body: string): [string, string] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(body);
  return m ? [m[1] as string, m[2] as string] : ['', ''];
}

// ---------------------------------------------------------------- expressions

type ETok = { readonly k: 'str' | 'num' | 'id' | 'op'; readonly v: string };

const OPS = ['==', '!=', '<>', '<=', '>=', '&&', '||', '<', '>', '!', '|', ':', ',', '.', '(', ')', '[', ']'];

function lexExpr(src: string, name: string, line: number): ETok[] {
  const out: ETok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      let s = '';
      let j = i + 1;
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const n = src[j + 1] as string;
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw fail(name, line, 'unterminated string');
      out.push({ k: 'str', v: s });
      i = j + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^\d+(\.\d+)?/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ k: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_]\w*/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ k: 'id', v: m[0] });
      i += m[0].length;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw fail(name, line, `unexpected character "${c}"`);
      out.push({ k: 'op', v: op });
      i += op.length;
    }
  }
  return out;
}

function parseExpr(src: string, name: string, line: number): Expr {
  if (src.trim() === '') throw fail(name, line, 'empty expression');
  const toks = lexExpr(src, name, line);
  let p = 0;
  const peek = (): ETok | undefined => toks[p];
  const isOp = (v: string): boolean => peek()?.k === 'op' && peek()?.v === v;
  const isWord = (v: string): boolean => peek()?.k === 'id' && peek()?.v === v;
  const expect = (v: string): void => {
    if (!isOp(v)) throw fail(name, line, `expected "${v}" in "${src}"`);
    p++;
  };

  const or = (): Expr => {
    let l = and();
    while (isWord('or') || isOp('||')) {
      p++;
      l = { t: 'bin', op: 'or', l, r: and() };
    }
    return l;
  };
  const and = (): Expr => {
    let l = not();
    while (isWord('and') || isOp('&&')) {
      p++;
      l = { t: 'bin', op: 'and', l, r: not() };
    }
    return l;
  };
  const not = (): Expr => {
    if (isWord('not') || isOp('!')) {
      p++;
      return { t: 'not', e: not() };
    }
    return comparison();
  };
  const comparison = (): Expr => {
    const l = filtered();
    const t = peek();
    if (t?.k === 'op' && ['==', '!=', '<>', '<', '>', '<=', '>='].includes(t.v)) {
      p++;
      return { t: 'bin', op: t.v === '<>' ? '!=' : t.v, l, r: filtered() };
    }
    if (isWord('in')) {
      p++;
      return { t: 'bin', op: 'in', l, r: filtered() };
    }
    if (isWord('not') && toks[p + 1]?.k === 'id' && toks[p + 1]?.v === 'in') {
      p += 2;
      return { t: 'not', e: { t: 'bin', op: 'in', l, r: filtered() } };
    }
    return l;
  };
  const filtered = (): Expr => {
    let e = primary();
    while (isOp('|')) {
      p++;
      const f = peek();
      if (f?.k !== 'id') throw fail(name, line, `expected a filter name in "${src}"`);
      p++;
      if (isOp(':')) {
        p++;
        e = { t: 'filter', e, name: f.v, arg: primary() };
      } else e = { t: 'filter', e, name: f.v };
    }
    return e;
  };
  const primary = (): Expr => {
    const t = peek();
    if (!t) throw fail(name, line, `unexpected end of "${src}"`);
    p++;
    let e: Expr;
    if (t.k === 'str') e = { t: 'lit', v: t.v };
    else if (t.k === 'num') e = { t: 'lit', v: Number(t.v) };
    else if (t.k === 'id') {
      const lits: Record<string, TemplateValue> = { true: true, True: true, false: false, False: false, nil: null, None: null };
      e = t.v in lits ? { t: 'lit', v: lits[t.v] } : { t: 'name', name: t.v };
    } else if (t.v === '(') {
      e = or();
      expect(')');
    } else throw fail(name, line, `unexpected "${t.v}" in "${src}"`);
    for (;;) {
      if (isOp('.')) {
        p++;
        const k = peek();
        if (k?.k !== 'id' && k?.k !== 'num') throw fail(name, line, `expected a name after "." in "${src}"`);
        p++;
        e = { t: 'attr', obj: e, key: { t: 'lit', v: k.v } };
      } else if (isOp('[')) {
        p++;
        e = { t: 'attr', obj: e, key: or() };
        expect(']');
      } else if (isOp('(')) {
        p++;
        const args: Expr[] = [];
        while (!isOp(')')) {
          args.push(or());
          if (!isOp(')')) expect(',');
        }
        p++;
        e = { t: 'call', fn: e, args };
      } else return e;
    }
  };

  const e = or();
  if (p < toks.length) throw fail(name, line, `unexpected "${toks[p]?.v}" in "${src}"`);
  return e;
}

// ---------------------------------------------------------------- evaluation

type Scope = readonly TemplateContext[];

function lookup(scopes: Scope, name: string): TemplateValue {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const s = scopes[i] as TemplateContext;
    if (Object.prototype.hasOwnProperty.call(s, name)) return s[name];
  }
  return undefined;
}

function evaluate(e: Expr, scopes: Scope, name: string, line: number): TemplateValue {
  switch (e.t) {
    case 'lit':
      return e.v;
    case 'name':
      return lookup(scopes, e.name);
    case 'attr': {
      const obj = evaluate(e.obj, scopes, name, line);
      const key = evaluate(e.key, scopes, name, line);
      if (Array.isArray(obj)) return typeof key === 'number' || /^\d+$/.test(String(key)) ? obj[Number(key)] : undefined;
      if (obj !== null && typeof obj === 'object' && Object.prototype.hasOwnProperty.call(obj, String(key))) {
        return (obj as Record<string, TemplateValue>)[String(key)];
      }
      return undefined;
    }
    case 'call': {
      const fn = evaluate(e.fn, scopes, name, line);
      if (typeof fn !== 'function') throw fail(name, line, 'call of something that is not a function');
      return fn(...e.args.map((a) => evaluate(a, scopes, name, line)));
    }
    case 'not':
      return !truthy(evaluate(e.e, scopes, name, line));
    case 'bin': {
      if (e.op === 'and') return truthy(evaluate(e.l, scopes, name, line)) && truthy(evaluate(e.r, scopes, name, line));
      if (e.op === 'or') return truthy(evaluate(e.l, scopes, name, line)) || truthy(evaluate(e.r, scopes, name, line));
      const l = evaluate(e.l, scopes, name, line);
      const r = evaluate(e.r, scopes, name, line);
      switch (e.op) {
        case '==':
          return equal(l, r);
        case '!=':
          return !equal(l, r);
        case 'in':
          return contains(r, l);
        default:
          return compare(e.op, l, r);
      }
    }
    case 'filter':
      return applyFilter(e.name, evaluate(e.e, scopes, name, line), e.arg && evaluate(e.arg, scopes, name, line), name, line);
  }
}

/** pongo2 truthiness: false, 0, "", nil, empty lists and maps are false. */
function truthy(v: TemplateValue): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

function equal(a: TemplateValue, b: TemplateValue): boolean {
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  return a === b;
}

function contains(hay: TemplateValue, needle: TemplateValue): boolean {
  if (typeof hay === 'string') return hay.includes(stringify(needle));
  if (Array.isArray(hay)) return hay.some((x) => equal(x, needle));
  if (hay !== null && typeof hay === 'object') return Object.prototype.hasOwnProperty.call(hay, String(needle));
  return false;
}

function compare(op: string, a: TemplateValue, b: TemplateValue): boolean {
  const both = typeof a === 'number' && typeof b === 'number';
  const x = both ? a : stringify(a);
  const y = both ? b : stringify(b);
  return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
}

/** How values print: nil as "", booleans as pongo2 prints Go bools, lists space-separated. */
function stringify(v: TemplateValue): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'function') return '';
  if (Array.isArray(v)) return `[${v.map(stringify).join(' ')}]`;
  if (typeof v === 'object') {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${stringify((v as Record<string, TemplateValue>)[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

function applyFilter(f: string, v: TemplateValue, arg: TemplateValue, name: string, line: number): TemplateValue {
  switch (f) {
    case 'default':
      return truthy(v) ? v : arg;
    case 'default_if_none':
      return v === undefined || v === null ? arg : v;
    case 'lower':
      return stringify(v).toLowerCase();
    case 'upper':
      return stringify(v).toUpperCase();
    case 'capfirst': {
      const s = stringify(v);
      return s.charAt(0).toUpperCase() + s.slice(1);
    }
    case 'title':
      return stringify(v).replace(/\b\w+/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
    case 'trim':
      return stringify(v).trim();
    case 'safe':
      return v;
    case 'length':
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      return v !== null && typeof v === 'object' ? Object.keys(v).length : 0;
    case 'join':
      return Array.isArray(v) ? v.map(stringify).join(stringify(arg)) : stringify(v);
    case 'first':
      return Array.isArray(v) ? v[0] : stringify(v).charAt(0);
    case 'last':
      return Array.isArray(v) ? v[v.length - 1] : stringify(v).slice(-1);
    case '__reversed':
      return Array.isArray(v) ? [...v].reverse() : v;
    default:
      throw fail(name, line, `unknown filter "${f}"`);
  }
}

function renderNodes(nodes: readonly Node[], scopes: Scope, out: string[], name: string): void {
  for (const n of nodes) {
    switch (n.t) {
      case 'text':
        out.push(n.text);
        break;
      case 'out':
        out.push(stringify(evaluate(n.e, scopes, name, n.line)));
        break;
      case 'if': {
        const hit = n.branches.find((b) => truthy(evaluate(b.cond, scopes, name, b.line)));
        renderNodes(hit ? hit.body : n.other, scopes, out, name);
        break;
      }
      case 'for': {
        const it = evaluate(n.iter, scopes, name, n.line);
        const pairs: [TemplateValue, TemplateValue][] = Array.isArray(it)
          ? it.map((v, i) => [i, v])
          : it !== null && typeof it === 'object'
            ? Object.keys(it)
                .sort()
                .map((k) => [k, (it as Record<string, TemplateValue>)[k]])
            : [];
        if (pairs.length === 0) renderNodes(n.empty, scopes, out, name);
        pairs.forEach(([k, v], i) => {
          const vars: Record<string, TemplateValue> = {
            forloop: { Counter: i + 1, Counter0: i, First: i === 0, Last: i === pairs.length - 1 },
          };
          if (n.vars.length === 2) {
            vars[n.vars[0] as string] = k;
            vars[n.vars[1] as string] = v;
          } else vars[n.vars[0] as string] = Array.isArray(it) ? v : k;
          renderNodes(n.body, [...scopes, vars], out, name);
        });
        break;
      }
    }
  }
}
