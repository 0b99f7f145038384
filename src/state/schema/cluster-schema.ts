/** Where the cluster's schema version lives (`meta/schema`) and how it is read and written. */
import type { KvReader } from '../kv/apply.js';
import { SCHEMA_FIRST } from './versions.js';

/** The key of the cluster schema record. */
export const SCHEMA_KEY = 'meta/schema';

/** The cluster schema version in `reader` (absent = the first version). */
export function readSchemaVersion(reader: Pick<KvReader, 'get'>): number {
  const rec = reader.get(SCHEMA_KEY);
  if (!rec) return SCHEMA_FIRST;
  const parsed = JSON.parse(new TextDecoder().decode(rec.value)) as { version?: unknown };
  return typeof parsed.version === 'number' ? parsed.version : SCHEMA_FIRST;
}

/** The stored value for schema `version`. */
export function encodeSchemaVersion(version: number, updatedAt: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ version, updated_at: updatedAt }));
}
