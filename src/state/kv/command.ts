/**
 * The wire form of commands in the Raft log (proto `shoal.state.v1.Command`, whose fields 1-3 are
 * those of the older `shoal.kv.v1.Command`). Decoding never throws: a malformed entry decodes to an
 * error string, which the state machine applies as a deterministic no-op on every member.
 */
import { Command } from '../../../proto/gen/shoal/state/v1/state.js';
import type { KvCommand } from './apply.js';
import { asBuffer, toKeyValue, txnFromProto, txnToProto } from './txn-codec.js';

export { toKeyValue };

/** Encodes a command as the data of a Normal entry. */
export function encodeCommand(cmd: KvCommand): Uint8Array {
  switch (cmd.kind) {
    case 'put':
      return Command.encode({ command: { $case: 'put', value: { key: cmd.key, value: asBuffer(cmd.value) } } }).finish();
    case 'delete':
      return Command.encode({ command: { $case: 'delete', value: { key: cmd.key } } }).finish();
    case 'cas':
      return Command.encode({
        command: {
          $case: 'cas',
          value: {
            key: cmd.key,
            value: asBuffer(cmd.value),
            expected:
              cmd.expected.kind === 'value'
                ? { $case: 'expectedValue', value: asBuffer(cmd.expected.value) }
                : { $case: 'expectedVersion', value: cmd.expected.version },
          },
        },
      }).finish();
    case 'txn':
      return Command.encode({ command: { $case: 'txn', value: txnToProto(cmd.txn) } }).finish();
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
    case 'txn': {
      const txn = txnFromProto(c.value);
      return typeof txn === 'string' ? txn : { kind: 'txn', txn };
    }
  }
}
