/**
 * Process CPU of the pieces of our create+start, each repeated in a loop (for the profile in
 * bench/agent/README.md): one trivial gRPC call over mTLS, one synced agent-DB batch, one spawn.
 * `node --import tsx bench/agent/cpu-probe.ts`
 */
import { randomUUID } from 'node:crypto';
import { run } from '../../src/node-agent/exec.js';
import { putOp } from '../../src/node-agent/agent-db.js';
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { HOST_TAG, randomSuffix } from '../../test/support/host-plan.js';
import { createTestPki } from '../../test/support/pki.js';
import { cleanupOnSignals, onCleanup, runAll } from './cleanup.js';
import { OursSide } from './ours.js';
import { nowMs } from './stats.js';

async function probe(label: string, n: number, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 5; i++) await fn();
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  for (let i = 0; i < n; i++) await fn();
  const c = process.cpuUsage(c0);
  process.stderr.write(`${label.padEnd(36)} cpu ${((c.user + c.system) / 1000 / n).toFixed(3)} ms/op, wall ${((nowMs() - t0) / n).toFixed(3)} ms/op\n`);
}

async function main(): Promise<void> {
  cleanupOnSignals();
  const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
  const pki = await createTestPki(`shoal-${HOST_TAG}-probe-ca`);
  onCleanup('test CA', () => pki.remove());
  const ours = await OursSide.setup(`${HOST_TAG}${randomSuffix(2)}`, pki, image.tarball, '1GiB');
  const { ctx } = ours.service;
  const client = (ours as unknown as { client: { unary(m: string, r: object): Promise<unknown> } }).client;
  await probe('gRPC ListStoragePools', 200, () => client.unary('listStoragePools', {}));
  await probe('gRPC GetMemberInfo', 200, () => client.unary('getMemberInfo', {}));
  await probe('db batch (sync) 1 put', 200, () => ctx.db.batch([putOp(ctx.db.opsByTime, `probe-${randomUUID()}`, 'x')], { sync: true }));
  await probe('db batch (no sync) 1 put', 200, () => ctx.db.batch([putOp(ctx.db.opsByTime, `probe-${randomUUID()}`, 'x')]));
  await probe('ctx.deviceLookups', 200, () => ctx.deviceLookups());
  await probe('spawn true', 50, () => run('true', []));
  const pool = (await ctx.db.pools.get('bdir'))!;
  const network = (await ctx.db.networks.values()[Symbol.asyncIterator]().next()).value as { spec: { name: string } };
  const fingerprint = (await ctx.drivers.images.list())[0]!.fingerprint;
  const signal = AbortSignal.timeout(600_000);
  let cpuCS = 0;
  let wallCS = 0;
  const n = 15;
  for (let i = -2; i < n; i++) {
    const name = `${HOST_TAG}pr${i + 2}`;
    const spec = {
      project: 'default',
      name,
      ephemeral: false,
      config: {},
      devices: { root: { type: 'disk', path: '/', pool: pool.spec.name }, eth0: { type: 'nic', network: network.spec.name, name: 'eth0' } },
    };
    const c0 = process.cpuUsage();
    const t0 = nowMs();
    await ours.service.instances.create(randomUUID(), spec, { type: 'image', fingerprint }, signal);
    await ours.service.lifecycle.start(randomUUID(), { project: 'default', name }, signal);
    const c = process.cpuUsage(c0);
    if (i >= 0) {
      cpuCS += (c.user + c.system) / 1000;
      wallCS += nowMs() - t0;
    }
    await ours.service.lifecycle.stop(randomUUID(), { project: 'default', name }, { force: true, timeoutMs: 0 }, signal);
    await ours.service.instances.delete(randomUUID(), { project: 'default', name }, signal);
  }
  process.stderr.write(`${'service create+start (no gRPC), dir'.padEnd(36)} cpu ${(cpuCS / n).toFixed(3)} ms/op, wall ${(wallCS / n).toFixed(3)} ms/op\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`[cpu-probe] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await runAll();
    process.exit(process.exitCode ?? 0);
  });
