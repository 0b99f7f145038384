/**
 * LXD image metadata (metadata.yaml, `api.ImageMetadata`): architecture, creation_date,
 * expiry_date, properties and templates. Parsing validates what LXD relies on and normalises the
 * architecture to LXD's canonical names (shared/osarch). Pure.
 */
import { parse } from 'yaml';
import { errors } from '../../shared/index.js';
import type { TemplateTrigger } from './image-store.js';

/** One `templates:` entry: the file at `path` inside the instance is rendered from `template`. */
export interface ImageTemplate {
  readonly when: readonly TemplateTrigger[];
  /** Only write the file when it does not exist yet. */
  readonly createOnly: boolean;
  /** File name under the image's templates/ directory. */
  readonly template: string;
  readonly properties: Readonly<Record<string, string>>;
}

export interface ImageMetadata {
  readonly architecture: string;
  /** Epoch seconds (0 when absent). */
  readonly creationDate: number;
  readonly expiryDate: number;
  readonly properties: Readonly<Record<string, string>>;
  /** Keyed by absolute path inside the instance. */
  readonly templates: Readonly<Record<string, ImageTemplate>>;
}

/** LXD's canonical architecture names and the aliases it accepts (shared/osarch/architectures.go). */
const ARCH_ALIASES: Readonly<Record<string, readonly string[]>> = {
  i686: ['i386', 'i586', '386', 'x86', 'generic_32'],
  x86_64: ['amd64', 'generic_64'],
  armv6l: ['armel', 'arm'],
  armv7l: ['armhf', 'armhfp', 'armv7a', 'armv7hl', 'armv7', 'armv7b'],
  armv8l: [],
  aarch64: ['arm64', 'arm64_generic'],
  ppc: ['powerpc'],
  ppc64: ['powerpc64'],
  ppc64le: ['ppc64el'],
  s390x: [],
  mips: ['mipsel', 'mipsle'],
  mips64: ['mips64el', 'mips64le'],
  riscv32: [],
  riscv64: [],
  loongarch64: ['loong64'],
};

const ARCH_BY_NAME: ReadonlyMap<string, string> = new Map(
  Object.entries(ARCH_ALIASES).flatMap(([canon, aliases]) => [canon, ...aliases].map((a) => [a, canon] as const)),
);

/** LXD's canonical name for an architecture (`amd64` → `x86_64`), or undefined when unknown. */
export function canonicalArchitecture(name: string): string | undefined {
  return ARCH_BY_NAME.get(name.trim().toLowerCase());
}

const TRIGGERS: ReadonlySet<string> = new Set<TemplateTrigger>(['create', 'copy', 'start']);

/** Parses metadata.yaml; throws INVALID_ARGUMENT naming the first problem. */
export function parseImageMetadata(text: string): ImageMetadata {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw errors.invalid(`Invalid metadata.yaml: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (!isRecord(doc)) throw errors.invalid('Invalid metadata.yaml: not a mapping');
  const archRaw = doc['architecture'];
  if (typeof archRaw !== 'string' || archRaw.trim() === '') {
    throw errors.invalid('Invalid metadata.yaml: missing "architecture"');
  }
  const architecture = canonicalArchitecture(archRaw);
  if (architecture === undefined) throw errors.invalid(`Invalid metadata.yaml: unknown architecture "${archRaw}"`);
  return {
    architecture,
    creationDate: epoch(doc['creation_date'], 'creation_date'),
    expiryDate: epoch(doc['expiry_date'], 'expiry_date'),
    properties: stringMap(doc['properties'], 'properties'),
    templates: templates(doc['templates']),
  };
}

function templates(raw: unknown): Record<string, ImageTemplate> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw errors.invalid('Invalid metadata.yaml: "templates" is not a mapping');
  const out: Record<string, ImageTemplate> = {};
  for (const [path, t] of Object.entries(raw)) {
    const where = `templates."${path}"`;
    if (!path.startsWith('/')) throw errors.invalid(`Invalid metadata.yaml: ${where}: path must be absolute`);
    if (!isRecord(t)) throw errors.invalid(`Invalid metadata.yaml: ${where} is not a mapping`);
    const file = t['template'];
    if (typeof file !== 'string' || file === '' || file.startsWith('/') || file.split('/').includes('..')) {
      throw errors.invalid(`Invalid metadata.yaml: ${where}: "template" must name a file under templates/`);
    }
    const whenRaw = t['when'] ?? [];
    if (!Array.isArray(whenRaw)) throw errors.invalid(`Invalid metadata.yaml: ${where}: "when" is not a list`);
    const when: TemplateTrigger[] = [];
    for (const w of whenRaw) {
      if (typeof w !== 'string' || !TRIGGERS.has(w)) {
        throw errors.invalid(`Invalid metadata.yaml: ${where}: unknown trigger "${String(w)}"`);
      }
      when.push(w as TemplateTrigger);
    }
    const createOnly = t['create_only'] ?? false;
    if (typeof createOnly !== 'boolean') {
      throw errors.invalid(`Invalid metadata.yaml: ${where}: "create_only" is not a boolean`);
    }
    out[path] = { when, createOnly, template: file, properties: stringMap(t['properties'], `${where}.properties`) };
  }
  return out;
}

function epoch(v: unknown, key: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  throw errors.invalid(`Invalid metadata.yaml: "${key}" is not an integer`);
}

function stringMap(v: unknown, key: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw errors.invalid(`Invalid metadata.yaml: "${key}" is not a mapping`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (val === null || typeof val === 'object') {
      throw errors.invalid(`Invalid metadata.yaml: "${key}.${k}" is not a string`);
    }
    out[k] = String(val);
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
