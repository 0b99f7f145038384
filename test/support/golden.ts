// Golden files: compares rendered text with test/testdata/<path>. With REWRITE=1 the file is
// (re)written instead; review the diff before committing.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'testdata');

/** Asserts that `actual` equals the golden file `test/testdata/<relPath>` (or rewrites it with REWRITE=1). */
export function assertGolden(relPath: string, actual: string): void {
  const path = join(TESTDATA, relPath);
  if (process.env.REWRITE === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(path, 'utf8');
  } catch {
    assert.fail(`golden file ${relPath} is missing; run with REWRITE=1 to create it`);
  }
  assert.equal(actual, expected, `output differs from golden file ${relPath}`);
}
