/**
 * The cluster schema: a number that says which record format every table writes. This build knows
 * every version up to SCHEMA_LATEST. The cluster's version is stored at `meta/schema` (absent = 1)
 * and only moves up, in one Raft transaction that rewrites the affected records, once every member
 * advertises (in its member record) that it supports the new version. Until then every member —
 * old or new — reads and writes the cluster's current version, so a mixed-version cluster keeps
 * serving (LXD instead blocks the upgraded members until all are upgraded).
 */

/** One step up: the version it introduces and the record format each changed table moves to. */
export interface SchemaStep {
  readonly version: number;
  readonly description: string;
  /** Table name → record format version from this schema version on. */
  readonly tables: Readonly<Record<string, number>>;
}

export const SCHEMA_STEPS: readonly SchemaStep[] = [
  { version: 2, description: 'certificates gain "restricted" and "projects" (LXD certificate_project)', tables: { certificates: 2 } },
];

/** The oldest cluster schema (a fresh cluster starts here and upgrades as soon as all members can). */
export const SCHEMA_FIRST = 1;

/** The newest cluster schema this build supports. */
export const SCHEMA_LATEST = SCHEMA_STEPS.reduce((m, s) => Math.max(m, s.version), SCHEMA_FIRST);

/** The record format `table` writes at cluster schema `schema`. */
export function recordVersionAt(table: string, schema: number): number {
  let v = 1;
  for (const s of SCHEMA_STEPS) if (s.version <= schema && s.tables[table] !== undefined) v = s.tables[table];
  return v;
}

/** Tables whose format changes between schema `from` and `to`. */
export function tablesChangedBetween(from: number, to: number): string[] {
  const out = new Set<string>();
  for (const s of SCHEMA_STEPS) if (s.version > from && s.version <= to) for (const t of Object.keys(s.tables)) out.add(t);
  return [...out];
}
