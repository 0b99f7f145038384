/**
 * Lists the processes our agent spawns for one create+start, stop and delete (dir and btrfs), to
 * compare with the floor's (cp or snapshot, lxc-start; lxc-stop; rm). Run it under
 * `strace -f -e trace=execve -o FILE node --import tsx bench/agent/spawn-trace.ts` and read FILE.
 */
import { buildBusyboxImage } from '../../src/node-agent/images/busybox.js';
import { HOST_TAG } from '../../test/support/host-plan.js';
import { createTestPki } from '../../test/support/pki.js';
import { runAll } from './cleanup.js';
import { OursSide } from './ours.js';

const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
const pki = await createTestPki(`shoal-${HOST_TAG}-trace-ca`);
try {
  const ours = await OursSide.setup(`${HOST_TAG}tr`, pki, image.tarball, '1GiB');
  for (const storage of ['dir', 'btrfs'] as const) {
    for (const i of [0, 1]) {
      const name = `${HOST_TAG}tr-${storage}-${i}`;
      process.stderr.write(`MARK create+start ${name}\n`);
      await ours.createStart(name, storage);
      process.stderr.write(`MARK stop ${name}\n`);
      await ours.stop(name);
      process.stderr.write(`MARK delete ${name}\n`);
      await ours.delete(name);
    }
  }
} finally {
  await runAll();
  await pki.remove();
}
