/** defineTable: builds a TableDef from a record check, key parts and optional extra validation. */
import { validateConfig, type ConfigEntity, type ConfigScope } from '../config/registry.js';
import { ErrorCode, ShoalError } from '../../shared/index.js';
import type { Check } from './fields.js';
import { checkForWrite, sameShape, type RecordFormat, type TableDef } from './table.js';

export interface TableSpec<T, A extends readonly string[]> {
  readonly name: string;
  readonly noun: string;
  readonly arity: A['length'];
  readonly keyOf: (record: T) => A;
  readonly describe: (parts: A) => string;
  /** The check of the current record shape. */
  readonly check: Check<T>;
  /** Formats by ascending version; default: one format, version 1, of the current shape. */
  readonly formats?: readonly RecordFormat<T>[];
  /** Checks beyond the shape (config keys, devices, cross-field rules). Throws INVALID_ARGUMENT. */
  readonly validate?: (record: T) => void;
}

export function defineTable<T, A extends readonly string[]>(spec: TableSpec<T, A>): TableDef<T, A> {
  const table: TableDef<T, A> = {
    name: spec.name,
    noun: spec.noun,
    prefix: `${spec.name}/`,
    arity: spec.arity,
    keyOf: spec.keyOf,
    describe: spec.describe,
    formats: spec.formats ?? [sameShape(1, spec.check)],
    validate: (record) => {
      checkForWrite(table, spec.check, record);
      spec.validate?.(record);
    },
  };
  return table;
}

/** Validates `config` of an object against the registry, prefixing the message with the object. */
export function checkConfig(what: string, entity: ConfigEntity, config: Readonly<Record<string, string>>, scope?: ConfigScope): void {
  try {
    validateConfig(entity, config, scope);
  } catch (err) {
    if (err instanceof ShoalError) throw new ShoalError(err.code, `Invalid ${what}: ${err.message}`, { cause: err, ...(err.details ? { details: err.details } : {}) });
    throw err;
  }
}

/** LXD devices: every device has a `type`. */
export function checkDevices(what: string, devices: Readonly<Record<string, Readonly<Record<string, string>>>>): void {
  for (const [name, dev] of Object.entries(devices)) {
    if (!dev['type']) throw new ShoalError(ErrorCode.InvalidArgument, `Invalid ${what}: device "${name}" has no "type"`);
    if (!['disk', 'nic', 'none', 'proxy', 'unix-char', 'unix-block', 'usb', 'gpu', 'infiniband', 'tpm', 'pci'].includes(dev['type'])) {
      throw new ShoalError(ErrorCode.InvalidArgument, `Invalid ${what}: device "${name}" has unknown type "${dev['type']}"`);
    }
  }
}

/** `"name"` / `"name" in project "p"`. */
export const inProject = (noun: string, name: string, project: string): string => `${noun} "${name}" in project "${project}"`;
