/**
 * Turning an instance's expanded config into a ResourceRequest, and member-relative arithmetic.
 * LXD semantics: `limits.cpu` is a count ("2") or a CPU set ("0-3", "0,2"); `limits.memory` is a
 * size ("512MiB") or a percentage of the member's memory ("25%"); the root disk `size` reserves
 * pool space. Missing limits reserve nothing (the instance still counts for spreading).
 */
import { errors } from '../shared/errors.js';
import { parseByteSize } from '../shared/units.js';
import type { MemberView, ResourceRequest } from './types.js';

/** Number of CPUs a `limits.cpu` value reserves. Throws INVALID_ARGUMENT. */
export function parseCpuLimit(value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1) throw errors.invalid(`Invalid limits.cpu "${value}": must be at least 1`);
    return n;
  }
  // A CPU set: "0-3", "0,2,4", "0-1,4".
  if (/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) {
    const cpus = new Set<number>();
    for (const part of v.split(',')) {
      const [a, b] = part.split('-').map(Number) as [number, number | undefined];
      const hi = b ?? a;
      if (hi < a) throw errors.invalid(`Invalid limits.cpu "${value}": bad range "${part}"`);
      for (let c = a; c <= hi; c++) cpus.add(c);
    }
    return cpus.size;
  }
  throw errors.invalid(`Invalid limits.cpu "${value}"`);
}

/** Parses `limits.memory`. Throws INVALID_ARGUMENT. */
export function parseMemoryLimit(value: string): ResourceRequest['memory'] {
  const v = value.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent <= 0 || percent > 100) throw errors.invalid(`Invalid limits.memory "${value}": percentage out of range`);
    return { percent };
  }
  return { bytes: parseByteSize(v) };
}

/**
 * Builds the request from an instance's expanded config and its expanded root disk device
 * (`{ type: 'disk', path: '/', pool, size? }`); `rootDisk` null when the instance has none.
 */
export function requestFromConfig(
  config: Readonly<Record<string, string>>,
  rootDisk: Readonly<Record<string, string>> | null,
): ResourceRequest {
  const cpu = config['limits.cpu'] ? parseCpuLimit(config['limits.cpu']) : 0;
  const memory = config['limits.memory'] ? parseMemoryLimit(config['limits.memory']) : { bytes: 0 };
  let disk: ResourceRequest['rootDisk'] = null;
  if (rootDisk) {
    const pool = rootDisk['pool'];
    if (!pool) throw errors.invalid('Root disk device has no "pool"');
    disk = { pool, bytes: rootDisk['size'] ? parseByteSize(rootDisk['size']) : 0 };
  }
  return { cpu, memory, rootDisk: disk };
}

/** Memory in bytes the request reserves on `member`. */
export function memoryBytesOn(request: ResourceRequest, member: MemberView): number {
  return 'bytes' in request.memory
    ? request.memory.bytes
    : Math.floor((member.capacity.memoryBytes * request.memory.percent) / 100);
}
