/**
 * The wire form of KV commands in the Raft log (proto `shoal.kv.v1.Command`) and of snapshots
 * (`shoal.kv.v1.KvSnapshot`). Decoding never throws: a malformed entry decodes to an error string,
 * which the state machine applies as a deterministic no-op on every member.
 */
import { Command, type KeyValue } from '../../../proto/gen/shoal/kv/v1/kv.js';
import type { KeyValueView, KvCommand } from './apply.js';

/** Encodes a command as the data of a Normal entry. */
export function encodeCommand(cmd: KvCommand): Uint8Array {
  switch (cmd.kind) {
    case 'put':
      return Command.encode({ command: { $case: 'put', value: { key: cmd.key, value: Buffer.from(cmd.value) } } }).finish();
    case 'delete':
      return Command.encode({ command: { $case: 'delete', value: { key: cmd.key } } }).finish();
    case 'cas':
      return Command.encode({
        command: {
          $case: 'cas',
          value: {
            key: cmd.key,
            value: Buffer.from(cmd.value),
            expected:
              cmd.expected.kind === 'value'
                ? { $case: 'expectedValue', value: Buffer.from(cmd.expected.value) }
                : { $case: 'expectedVersion', value: cmd.expected.version },
          },
        },
      }).finish();
  }
}

/** Decodes an entry's data; a string is the reason it is not a valid command. */
export function decodeCommand(data: Uint8Array): KvCommand | string {
  let msg: Command;
  try {
    msg = Command.decode(data);
  } catch (err) {
    return `undecodable command: ${err instanceof Error ? err.message : String(err)}`;
  }
  const c = msg.command;
  if (c === undefined) return 'empty command';
  switch (c.$case) {
    case 'put':
      return { kind: 'put', key: c.value.key, value: c.value.value };
    case 'delete':
      return { kind: 'delete', key: c.value.key };
    case 'cas': {
      const e = c.value.expected;
      if (e === undefined) return 'cas without an expectation';
      return {
        kind: 'cas',
        key: c.value.key,
        value: c.value.value,
        expected: e.$case === 'expectedValue' ? { kind: 'value', value: e.value } : { kind: 'version', version: e.value },
      };
    }
  }
}

/** Converts a stored key to its wire form. */
export function toKeyValue(kv: KeyValueView): KeyValue {
  return {
    key: kv.key,
    value: Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength),
    version: kv.version,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
  };
}
