/**
 * shoald: the Shoal daemon's command line. For now it only has the operator's window into the
 * cluster database (like `lxd sql global`), talking to the running member in $SHOAL_DIR (default
 * /var/lib/shoal) over its control socket `$SHOAL_DIR/control.socket` (see state-runtime.ts):
 *
 *   shoald db dump [PREFIX] [--stale]   every key (under PREFIX) with its record, as a JSON array
 *   shoald db get KEY [--stale]         one key, as a JSON object (exit 1 when absent)
 *
 * Reads are linearizable (a ReadIndex round through the leader) unless --stale is given, which
 * answers from this member's applied state even without a leader. Values that are JSON are printed
 * as JSON, other values as `{"base64": …}`. Exit codes: 0 ok, 1 error, 2 usage.
 */
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { KeyValue } from '../../proto/gen/shoal/kv/v1/kv.js';
import { StateServiceClient, type RangeRequest, type RangeResponse } from '../../proto/gen/shoal/state/v1/state.js';
import { ErrorCode, fromGrpcError, isShoalError, ShoalError } from '../shared/index.js';
import { controlSocketPath } from './state-runtime.js';

const USAGE = `Usage: shoald db dump [PREFIX] [--stale]
       shoald db get KEY [--stale]
Environment: SHOAL_DIR (default /var/lib/shoal) selects the member.`;

/** A stored key as printed. */
function render(kv: KeyValue): Record<string, unknown> {
  const text = kv.value.toString('utf8');
  let value: unknown;
  try {
    value = Buffer.from(text, 'utf8').equals(kv.value) ? JSON.parse(text) : { base64: kv.value.toString('base64') };
  } catch {
    value = { base64: kv.value.toString('base64') }; // not JSON (e.g. a raw KV value): printed as bytes
  }
  return { key: kv.key, value, version: kv.version, create_revision: kv.createRevision, mod_revision: kv.modRevision };
}

function range(socket: string, req: RangeRequest): Promise<RangeResponse> {
  const client = new StateServiceClient(`unix:${socket}`, grpc.credentials.createInsecure());
  return new Promise<RangeResponse>((resolve, reject) => {
    client.range(req, new grpc.Metadata(), { deadline: Date.now() + 15_000 }, (err, res) => {
      client.close();
      if (err) reject(err.code === grpc.status.UNAVAILABLE ? new ShoalError(ErrorCode.Unavailable, `No running member answers on ${socket}`, { cause: err }) : fromGrpcError(err));
      else resolve(res);
    });
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { stale: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
  const [group, verb, arg, extra] = positionals;
  if (values.help || group !== 'db' || (verb !== 'dump' && verb !== 'get') || extra !== undefined || (verb === 'get' && arg === undefined)) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const socket = controlSocketPath(process.env['SHOAL_DIR'] ?? '/var/lib/shoal');
  const serializable = values.stale ?? false;
  if (verb === 'dump') {
    const res = await range(socket, { key: arg ?? '', prefix: true, limit: 0, serializable });
    process.stdout.write(`${JSON.stringify(res.kvs.map(render), null, 2)}\n`);
    return 0;
  }
  const res = await range(socket, { key: arg!, prefix: false, limit: 0, serializable });
  const kv = res.kvs[0];
  if (!kv) throw new ShoalError(ErrorCode.NotFound, `Key "${arg!}" not found`);
  process.stdout.write(`${JSON.stringify(render(kv), null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`Error: ${isShoalError(err) || err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
