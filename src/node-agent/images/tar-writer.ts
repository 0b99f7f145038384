/**
 * A minimal deterministic POSIX ustar writer: the same entries always give the same bytes (no
 * host user names, no timestamps but the ones given, no padding beyond the two end blocks).
 * Used by the image builders. Pure.
 */
import { errors } from '../../shared/index.js';

/** One member to write. Directory paths may omit the trailing slash. */
export type TarWriteEntry =
  | { readonly type: 'directory'; readonly path: string; readonly mode: number; readonly uid?: number; readonly gid?: number }
  | {
      readonly type: 'file';
      readonly path: string;
      readonly mode: number;
      readonly content: Uint8Array;
      readonly uid?: number;
      readonly gid?: number;
    }
  | { readonly type: 'symlink' | 'hardlink'; readonly path: string; readonly target: string };

const BLOCK = 512;

/** Serialises `entries` in the given order, each with modification time `mtime` (epoch seconds). */
export function writeTar(entries: readonly TarWriteEntry[], mtime: number): Buffer {
  const chunks: Buffer[] = [];
  for (const e of entries) {
    const isDir = e.type === 'directory';
    const path = isDir && !e.path.endsWith('/') ? `${e.path}/` : e.path;
    const content = e.type === 'file' ? Buffer.from(e.content) : Buffer.alloc(0);
    const h = Buffer.alloc(BLOCK);
    const [prefix, name] = splitName(path);
    h.write(name, 0, 100, 'utf8');
    const owned = e.type === 'directory' || e.type === 'file' ? e : undefined;
    const mode = owned ? owned.mode : 0o777;
    const uid = owned?.uid ?? 0;
    const gid = owned?.gid ?? 0;
    octal(h, 100, 8, mode);
    octal(h, 108, 8, uid);
    octal(h, 116, 8, gid);
    octal(h, 124, 12, content.length);
    octal(h, 136, 12, mtime);
    h.write(FLAG[e.type], 156, 1, 'latin1');
    if (e.type === 'symlink' || e.type === 'hardlink') {
      if (Buffer.byteLength(e.target) > 100) throw errors.invalid(`Link target of "${e.path}" is too long for ustar`);
      h.write(e.target, 157, 100, 'utf8');
    }
    h.write('ustar\0', 257, 6, 'latin1');
    h.write('00', 263, 2, 'latin1');
    h.write('root', 265, 32, 'latin1');
    h.write('root', 297, 32, 'latin1');
    octal(h, 329, 8, 0);
    octal(h, 337, 8, 0);
    h.write(prefix, 345, 155, 'utf8');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    chunks.push(h, content);
    const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (pad > 0) chunks.push(Buffer.alloc(pad));
  }
  chunks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(chunks);
}

const FLAG: Readonly<Record<TarWriteEntry['type'], string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  directory: '5',
};

function octal(h: Buffer, off: number, len: number, value: number): void {
  const s = value.toString(8);
  if (s.length > len - 1) throw errors.invalid(`Value ${value} does not fit a ustar header field`);
  h.write(`${s.padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

/** ustar names: up to 100 bytes, or a prefix (≤ 155) and a name (≤ 100) split at a slash. */
function splitName(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.lastIndexOf('/', path.length - 2); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw errors.invalid(`Path "${path}" is too long for ustar`);
}
