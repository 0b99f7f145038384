/*
 * Covers test/support/datadriven.ts: parsing of commands, arguments, input and expected output
 * (including the ----/---- form for outputs with blank lines), and rewriting a file.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, parseDataDriven, runDataDrivenFile } from '../../support/datadriven.js';

const SAMPLE = `# a comment
cmd a b=1 c=(x,y) d=()
input line
----
out 1
out 2

other
----
----
first

second
----
----
`;

describe('test/support/datadriven', () => {
  describe('parseArgs', () => {
    it('parses bare keys, key=value and key=(list)', () => {
      assert.deepEqual(parseArgs('a b=1 c=(x,y) d=() e=(1 2)'), [
        { key: 'a', vals: [] },
        { key: 'b', vals: ['1'] },
        { key: 'c', vals: ['x', 'y'] },
        { key: 'd', vals: [] },
        { key: 'e', vals: ['1', '2'] },
      ]);
    });
  });

  describe('parseDataDriven', () => {
    it('reads commands, input and expected output, skipping comments', () => {
      const ds = parseDataDriven(SAMPLE, 'x.txt');
      assert.deepEqual(
        ds.map((d) => [d.line, d.cmd, d.input, d.expected]),
        [
          [2, 'cmd', 'input line', 'out 1\nout 2\n'],
          [8, 'other', '', 'first\n\nsecond\n'],
        ],
      );
    });

    it('reports a directive without its ---- separator', () => {
      assert.throws(() => parseDataDriven('cmd\nno separator\n', 'y.txt'), /y\.txt:1: missing ----/);
    });
  });

  describe('runDataDrivenFile', () => {
    let dir = '';
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'datadriven-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
      delete process.env.REWRITE;
    });

    it('passes when outputs match and names the directive when they differ', () => {
      const file = join(dir, 't.txt');
      writeFileSync(file, 'echo hi\n----\nhi\n');
      runDataDrivenFile(file, (d) => d.args[0]!.key);
      writeFileSync(file, 'echo hi\n----\nbye\n');
      assert.throws(() => runDataDrivenFile(file, (d) => d.args[0]!.key), /t\.txt:1: output of "echo hi" differs/);
    });

    it('rewrites expected outputs with REWRITE=1, keeping comments and using ----/---- for blank lines', () => {
      const file = join(dir, 't.txt');
      writeFileSync(file, '# keep me\necho a\n----\nstale\n\nblank\n----\n');
      process.env.REWRITE = '1';
      runDataDrivenFile(file, (d) => (d.cmd === 'blank' ? 'x\n\ny' : 'fresh'));
      assert.equal(
        readFileSync(file, 'utf8'),
        '# keep me\necho a\n----\nfresh\n\nblank\n----\n----\nx\n\ny\n----\n----\n',
      );
      delete process.env.REWRITE;
      runDataDrivenFile(file, (d) => (d.cmd === 'blank' ? 'x\n\ny' : 'fresh'));
    });
  });
});
