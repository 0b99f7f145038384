/** Identifiers: random (for operations and secrets) and validated names (LXD rules). */
import { randomBytes, randomUUID } from 'node:crypto';
import { errors, type ShoalError } from './errors.js';

/** A random UUID v4 (operation ids, as LXD uses). */
export function newOperationId(): string {
  return randomUUID();
}

/** `bytes` of crypto randomness as lowercase hex. */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * LXD's instance/member name rule (hostname-like): 1–63 characters of letters, digits and
 * dashes, not starting with a digit or dash, not ending with a dash.
 */
const HOSTNAME_NAME = /^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** Returns an INVALID_ARGUMENT error when `name` is not a valid instance or member name. */
export function checkHostnameName(kind: string, name: string): ShoalError | undefined {
  if (!HOSTNAME_NAME.test(name)) {
    return errors.invalid(
      `Invalid ${kind} name "${name}": must be 1-63 letters, digits or dashes, start with a letter and not end with a dash`,
    );
  }
  return undefined;
}

/** Names of pools, networks, profiles and projects: no slashes, no leading dot, printable, ≤ 64. */
const OBJECT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

/** Returns an INVALID_ARGUMENT error when `name` is not a valid object name. */
export function checkObjectName(kind: string, name: string): ShoalError | undefined {
  if (!OBJECT_NAME.test(name) || name.includes('..')) {
    return errors.invalid(`Invalid ${kind} name "${name}"`);
  }
  return undefined;
}
