// Output formats of the shoal CLI: lxc-style tables (borders, centred headers, multi-line
// cells), compact columns, and csv/json/yaml rendered then parsed back to the same data.
// Pure functions only; every test builds its listing inline.
import { strict as assert } from 'node:assert';
import { parse as parseYaml } from 'yaml';
import { parseCsv, renderCompact, renderCsv, renderListing, renderTable } from '../../../src/cli/format/table.js';

const headers = ['NAME', 'STATE', 'IPV4'];
const rows = [
  ['web1', 'RUNNING', '10.0.0.2 (eth0)\n10.0.1.2 (eth1)'],
  ['db, "main"', 'STOPPED', ''],
];

describe('src/cli/format/table', () => {
  describe('renderTable', () => {
    it('draws lxc borders with centred headers and one physical line per cell line', () => {
      assert.equal(
        renderTable(headers, rows),
        [
          '+------------+---------+-----------------+',
          '|    NAME    |  STATE  |      IPV4       |',
          '+------------+---------+-----------------+',
          '| web1       | RUNNING | 10.0.0.2 (eth0) |',
          '|            |         | 10.0.1.2 (eth1) |',
          '+------------+---------+-----------------+',
          '| db, "main" | STOPPED |                 |',
          '+------------+---------+-----------------+',
          '',
        ].join('\n'),
      );
    });

    it('renders only the header for an empty list', () => {
      assert.equal(renderTable(['NAME'], []), '+------+\n| NAME |\n+------+\n');
    });
  });

  describe('renderCompact', () => {
    it('aligns columns without borders and joins multi-line cells', () => {
      assert.equal(
        renderCompact(['A', 'B'], [['x', '1\n2'], ['long', '3']]),
        'A     B\nx     1, 2\nlong  3\n',
      );
    });
  });

  describe('renderCsv / parseCsv', () => {
    it('quotes commas, quotes and line breaks and parses back to the same rows', () => {
      const text = renderCsv(rows);
      assert.equal(text, 'web1,RUNNING,"10.0.0.2 (eth0)\n10.0.1.2 (eth1)"\n"db, ""main""",STOPPED,\n');
      assert.deepEqual(parseCsv(text), rows);
    });
  });

  describe('renderListing', () => {
    const objects = [{ name: 'web1', config: { 'limits.cpu': '2' } }, { name: 'db', config: {} }];

    it('prints json that parses back to the objects', async () => {
      assert.deepEqual(JSON.parse(await renderListing({ headers, rows, objects }, 'json')), objects);
    });

    it('prints yaml that parses back to the objects', async () => {
      assert.deepEqual(parseYaml(await renderListing({ headers, rows, objects }, 'yaml')), objects);
    });

    it('prints csv without a header, as lxc does', async () => {
      assert.deepEqual(parseCsv(await renderListing({ headers, rows, objects }, 'csv')), rows);
    });
  });
});
