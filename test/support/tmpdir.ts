// Temporary directories for tests that touch the disk: created under the OS temp dir with a
// recognisable prefix and removed by the returned function (call it from after/afterEach).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Creates a fresh temporary directory; `remove()` deletes it recursively (idempotent). */
export async function makeTempDir(label: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `shoal-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
