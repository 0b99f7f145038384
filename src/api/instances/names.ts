/**
 * Instance and snapshot names as LXD validates them (lxd/instance/instance_utils.go ValidName,
 * shared/validate IsHostname), and LXD's generated names: a petname for an instance created
 * without one, `snap<N>` (config `snapshots.pattern`) for a snapshot.
 */
import { errors, type Rng } from '../../shared/index.js';

/** Why `name` is not a valid hostname, or undefined (LXD validate.IsHostname). */
function hostnameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 63) return 'Name must be 1-63 characters long';
  if (name.startsWith('-')) return 'Name must not start with "-" character';
  if (name.endsWith('-')) return 'Name must not end with "-" character';
  if (/^[0-9]/.test(name)) return 'Name must not be a number or start with a digit';
  if (!/^[A-Za-z0-9-]+$/.test(name)) return 'Name can only contain alphanumeric and hyphen characters';
  return undefined;
}

/** Throws INVALID_ARGUMENT `Invalid instance name: <why>` (LXD's message) unless `name` is a valid instance name. */
export function checkInstanceName(name: string): void {
  const why = hostnameProblem(name);
  if (why) throw errors.invalid(`Invalid instance name: ${why}`);
}

/** Throws INVALID_ARGUMENT unless `name` is a valid snapshot name (LXD: no "/", not empty, not "." or ".."). */
export function checkSnapshotName(name: string): void {
  if (name === '') throw errors.invalid('Invalid snapshot name: Cannot be empty');
  if (name.includes('/')) throw errors.invalid('Invalid snapshot name: Cannot contain slashes');
  if (name === '.' || name === '..') throw errors.invalid(`Invalid snapshot name: Cannot be "${name}"`);
  if (name.length > 63) throw errors.invalid('Invalid snapshot name: Name must be 1-63 characters long');
  if (/\s/.test(name)) throw errors.invalid('Invalid snapshot name: Cannot contain white space');
}

const ADJECTIVES = ['able', 'brave', 'calm', 'clever', 'eager', 'fair', 'gentle', 'happy', 'keen', 'lively', 'merry', 'noble', 'proud', 'quick', 'sharp', 'tidy', 'vital', 'witty'];
const ANIMALS = ['badger', 'beetle', 'condor', 'dingo', 'falcon', 'gecko', 'heron', 'ibex', 'koala', 'lemur', 'marten', 'newt', 'otter', 'panda', 'quail', 'raven', 'seal', 'tapir', 'walrus', 'zebra'];

/** A petname (`keen-otter`) not in `taken` (LXD names unnamed instances with a petname). */
export function petName(rng: Rng, taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const base = `${ADJECTIVES[Math.floor(rng() * ADJECTIVES.length)]!}-${ANIMALS[Math.floor(rng() * ANIMALS.length)]!}`;
    const name = i < 20 ? base : `${base}-${i}`;
    if (!taken(name)) return name;
  }
}

/**
 * The next snapshot name from `pattern` (LXD snapshots.pattern, default `snap%d`): `%d` is replaced
 * by the lowest number not yet used; a pattern without `%d` is used as is (taken: `<pattern>-<N>`).
 */
export function nextSnapshotName(pattern: string, taken: ReadonlySet<string>): string {
  if (!pattern.includes('%d')) {
    if (!taken.has(pattern)) return pattern;
    for (let i = 0; ; i++) if (!taken.has(`${pattern}-${i}`)) return `${pattern}-${i}`;
  }
  for (let i = 0; ; i++) {
    const n = pattern.replace('%d', String(i));
    if (!taken.has(n)) return n;
  }
}
