// scripts/demo/shoal-commands.ts readers: how the demo reads `shoal cluster list` and `shoal list`,
// from LXD's JSON shapes and from LXD's ASCII tables (multi-line cells, IPv4 with the device).
// Pure; lives with the deploy suite because the demo is its only user.
import { strict as assert } from 'node:assert';
import { parseInstances, parseMembers, parseTable } from '../../../scripts/demo/shoal-commands.js';

const MEMBERS_TABLE = `+------+----------------------------+-----------------+--------------+----------------+-------------+--------+-------------------+
| NAME |            URL             |      ROLES      | ARCHITECTURE | FAILURE DOMAIN | DESCRIPTION | STATE  |      MESSAGE      |
+------+----------------------------+-----------------+--------------+----------------+-------------+--------+-------------------+
| m1   | https://10.213.77.11:8444  | database-leader | x86_64       | default        |             | ONLINE | Fully operational |
|      |                            | database        |              |                |             |        |                   |
+------+----------------------------+-----------------+--------------+----------------+-------------+--------+-------------------+
| m2   | https://10.213.77.12:8444  | database        | x86_64       | default        |             | ONLINE | Fully operational |
+------+----------------------------+-----------------+--------------+----------------+-------------+--------+-------------------+
`;

const LIST_TABLE = `+------+---------+------------------------+------+-----------+-----------+----------+
| NAME |  STATE  |          IPV4          | IPV6 |   TYPE    | SNAPSHOTS | LOCATION |
+------+---------+------------------------+------+-----------+-----------+----------+
| web1 | RUNNING | 10.213.81.23 (eth0)    |      | CONTAINER | 0         | m1       |
+------+---------+------------------------+------+-----------+-----------+----------+
| web2 | STOPPED |                        |      | CONTAINER | 0         | m2       |
+------+---------+------------------------+------+-----------+-----------+----------+
`;

describe('scripts/demo/shoal-commands.ts', () => {
  describe('parseTable', () => {
    it('joins the lines of a multi-line cell and keys cells by upper-case header', () => {
      assert.deepEqual(parseTable('+---+---+\n| a | b |\n+---+---+\n| 1 | x |\n|   | y |\n+---+---+\n'), [{ A: '1', B: 'x\ny' }]);
    });
  });

  describe('parseMembers', () => {
    it('reads the table with roles on several lines', () => {
      assert.deepEqual(parseMembers(MEMBERS_TABLE), [
        { name: 'm1', url: 'https://10.213.77.11:8444', roles: ['database-leader', 'database'], status: 'ONLINE' },
        { name: 'm2', url: 'https://10.213.77.12:8444', roles: ['database'], status: 'ONLINE' },
      ]);
    });

    it('reads LXD ClusterMember JSON', () => {
      const json = JSON.stringify([{ server_name: 'm1', url: 'https://a:1', roles: ['database-leader'], status: 'Online', extra: 1 }]);
      assert.deepEqual(parseMembers(json), [{ name: 'm1', url: 'https://a:1', roles: ['database-leader'], status: 'Online' }]);
    });
  });

  describe('parseInstances', () => {
    it('reads the table, dropping the device name after each address', () => {
      assert.deepEqual(parseInstances(LIST_TABLE), [
        { name: 'web1', status: 'RUNNING', location: 'm1', ipv4: ['10.213.81.23'] },
        { name: 'web2', status: 'STOPPED', location: 'm2', ipv4: [] },
      ]);
    });

    it('reads LXD Instance JSON with state, skipping loopback', () => {
      const json = JSON.stringify([
        {
          name: 'web1',
          status: 'Running',
          location: 'm2',
          state: {
            network: {
              lo: { addresses: [{ family: 'inet', address: '127.0.0.1', scope: 'local' }] },
              eth0: { addresses: [{ family: 'inet6', address: 'fe80::1', scope: 'link' }, { family: 'inet', address: '10.213.81.5', scope: 'global' }] },
            },
          },
        },
        { name: 'web2', status: 'Stopped', location: 'm1', state: null },
      ]);
      assert.deepEqual(parseInstances(json), [
        { name: 'web1', status: 'Running', location: 'm2', ipv4: ['10.213.81.5'] },
        { name: 'web2', status: 'Stopped', location: 'm1', ipv4: [] },
      ]);
    });
  });
});
