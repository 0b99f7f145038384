/**
 * Where tests and benchmarks that make real host objects may put them, so that several runs (and
 * several people) can share one machine: every name starts with a three-letter tag, temp dirs are
 * `/tmp/shoal-<tag>-*`, and IPv4 stays inside one /16, split into four /18 blocks by suite.
 * `SHOAL_TEST_TAG` (three lower-case letters) and `SHOAL_TEST_NET16` (`a.b`) override the defaults.
 */
import { randomBytes } from 'node:crypto';

function fromEnv(name: string, fallback: string, shape: RegExp): string {
  const value = process.env[name] ?? fallback;
  if (!shape.test(value)) throw new Error(`${name}="${value}" does not match ${String(shape)}`);
  return value;
}

/** Three lower-case letters that start every host object name (links, netns, nft tables, instances). */
export const HOST_TAG = fromEnv('SHOAL_TEST_TAG', 'spl', /^[a-z]{3}$/);

/** The first two octets of the /16 tests may address (`10.174`). */
export const HOST_NET16 = fromEnv('SHOAL_TEST_NET16', '10.174', /^(\d{1,3})\.(\d{1,3})$/);

/** The /18 block of each family of suites: third octets [64·n, 64·n + 63]. */
export const NET_BLOCK = { lxc: 0, network: 1, agent: 2, bench: 3 } as const;
export type NetBlock = keyof typeof NET_BLOCK;

/** The block as a CIDR (`10.174.64.0/18`), e.g. for a driver's automatic subnet pool. */
export function blockCidr(block: NetBlock): string {
  return `${HOST_NET16}.${NET_BLOCK[block] * 64}.0/18`;
}

/** The `a.b.c` prefix of the `k`-th /24 of a block (k taken modulo 64). */
export function blockSubnet(block: NetBlock, k: number): string {
  return `${HOST_NET16}.${NET_BLOCK[block] * 64 + (((k % 64) + 64) % 64)}`;
}

/** A random /24 prefix of a block, avoiding its first 8 (kept for fixed plans such as the benchmark's). */
export function randomBlockSubnet(block: NetBlock): string {
  return blockSubnet(block, 8 + ((randomBytes(1)[0] as number) % 56));
}

/** A random lower-case alphanumeric string of `n` characters. */
export function randomSuffix(n: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (const b of randomBytes(n)) s += chars[b % chars.length];
  return s;
}

/** A run tag: the host tag plus 4 random characters (7 characters; veth names add 8 hex). */
export function newRunTag(): string {
  return `${HOST_TAG}${randomSuffix(4)}`;
}
