/**
 * The port integrity rules use inside a write transaction: tracked reads (every read becomes a
 * compare of the transaction, so the rule still holds when it commits) and cascading deletes.
 * Implemented by the store's WriteTx.
 */
import type { Stored, TableDef } from './table.js';

export interface TableTx {
  /** The cluster schema version the transaction writes. */
  readonly schemaVersion: number;
  get<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: A): Stored<T> | undefined;
  /** Records whose key starts with the given name parts (all when none), in key order. */
  list<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: string[]): Stored<T>[];
  /** Deletes a record (running its own rules); NOT_FOUND when absent. */
  delete<T, A extends readonly string[]>(table: TableDef<T, A>, ...parts: A): void;
}

/** Rules of one table, run inside the transaction that writes it. They throw to refuse. */
export interface TableRules<T> {
  beforeWrite?(tx: TableTx, next: T, prev: Stored<T> | undefined): void;
  beforeDelete?(tx: TableTx, prev: Stored<T>): void;
}
