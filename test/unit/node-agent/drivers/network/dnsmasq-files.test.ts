// Covers src/node-agent/drivers/network/dnsmasq-files.ts: host entry names and lines (LXD
// `<mac>,<ip>,<name>`), dnsmasq lease file parsing, and how host entries and leases merge into
// LXD's static/dynamic lease list.
import { strict as assert } from 'node:assert';
import {
  dnsNameOf,
  hostEntryFile,
  mergeLeases,
  parseHostEntry,
  parseLeases,
  renderHostEntry,
} from '../../../../../src/node-agent/drivers/network/dnsmasq-files.js';

describe('src/node-agent/drivers/network/dnsmasq-files', () => {
  describe('host entries', () => {
    it('renders and parses static and name-only entries', () => {
      const s = renderHostEntry({ hwaddr: '00:16:3e:00:00:01', ipv4: '10.172.3.50', name: 'web1' });
      const d = renderHostEntry({ hwaddr: '00:16:3e:00:00:02', ipv4: null, name: 'web2' });
      assert.equal(s, '00:16:3e:00:00:01,10.172.3.50,web1\n');
      assert.equal(d, '00:16:3e:00:00:02,web2\n');
      assert.deepEqual(parseHostEntry('web1.eth0', s), {
        file: 'web1.eth0',
        hwaddr: '00:16:3e:00:00:01',
        ipv4: '10.172.3.50',
        name: 'web1',
      });
      assert.deepEqual(parseHostEntry('web2.eth0', d), {
        file: 'web2.eth0',
        hwaddr: '00:16:3e:00:00:02',
        ipv4: null,
        name: 'web2',
      });
    });
    it('refuses lines that are not host entries', () => {
      for (const t of [
        '',
        'junk',
        '00:16:3e:00:00:01',
        'zz:16:3e:00:00:01,a',
        '00:16:3e:00:00:01,10.1.1,a',
        '00:16:3e:00:00:01,,a',
      ]) {
        assert.equal(parseHostEntry('f', t), null, t);
      }
    });
    it('names files <instance>.<device> and refuses names that escape or that dnsmasq skips', () => {
      assert.equal(hostEntryFile('web1', 'eth0'), 'web1.eth0');
      assert.equal(hostEntryFile('proj_web1', 'eth0'), 'proj_web1.eth0');
      for (const [i, d] of [
        ['', 'eth0'],
        ['a/b', 'eth0'],
        ['..', 'eth0'],
        ['.web', 'eth0'],
        ['web', 'x/y'],
        ['web', 'eth0~'],
        ['a.b', 'eth0'],
      ]) {
        assert.equal(hostEntryFile(i!, d!), null, `${i} ${d}`);
      }
    });
    it('derives DNS names from host instance names', () => {
      assert.equal(dnsNameOf('web1'), 'web1');
      assert.equal(dnsNameOf('Proj_Web1'), 'proj-web1');
      assert.equal(dnsNameOf('x'.repeat(70)).length, 63);
    });
  });

  describe('parseLeases', () => {
    it('reads IPv4 leases and skips DHCPv6 and malformed lines', () => {
      const text = [
        '1795436888 02:00:00:00:99:0b 10.172.99.50 bee 01:02:00:00:00:99:0b',
        '0 02:00:00:00:99:0a 10.172.99.54 * *',
        'duid 00:01:00:01:2c:aa:bb:cc:dd:ee:ff:00:11',
        '1795436888 1234 fd42::5 web *',
        'garbage line',
        '',
      ].join('\n');
      assert.deepEqual(parseLeases(text), [
        {
          expiresAtSec: 1795436888,
          hwaddr: '02:00:00:00:99:0b',
          address: '10.172.99.50',
          hostname: 'bee',
          clientId: '01:02:00:00:00:99:0b',
        },
        { expiresAtSec: 0, hwaddr: '02:00:00:00:99:0a', address: '10.172.99.54', hostname: '', clientId: '' },
      ]);
    });
  });

  describe('mergeLeases', () => {
    it('lists static entries as static and other leases as dynamic, named by instance when known', () => {
      const entries = [
        { file: 'db.eth0', hwaddr: '00:16:3e:00:00:01', ipv4: '10.172.3.50', name: 'db' },
        { file: 'web.eth0', hwaddr: '00:16:3e:00:00:02', ipv4: null, name: 'web' },
        { file: 'idle.eth0', hwaddr: '00:16:3e:00:00:03', ipv4: '10.172.3.60', name: 'idle' },
      ];
      const leases = [
        { expiresAtSec: 2000, hwaddr: '00:16:3e:00:00:01', address: '10.172.3.50', hostname: 'whatever', clientId: '' },
        {
          expiresAtSec: 3000,
          hwaddr: '00:16:3e:00:00:02',
          address: '10.172.3.9',
          hostname: 'client-name',
          clientId: '',
        },
        {
          expiresAtSec: 4000,
          hwaddr: '02:00:00:00:00:09',
          address: '10.172.3.100',
          hostname: 'stranger',
          clientId: '',
        },
        { expiresAtSec: 0, hwaddr: '02:00:00:00:00:0a', address: '10.172.3.101', hostname: '', clientId: '' },
      ];
      assert.deepEqual(mergeLeases(entries, leases), [
        { hostname: 'web', hwaddr: '00:16:3e:00:00:02', address: '10.172.3.9', type: 'dynamic', expiresAt: 3_000_000 },
        { hostname: 'db', hwaddr: '00:16:3e:00:00:01', address: '10.172.3.50', type: 'static', expiresAt: 0 },
        { hostname: 'idle', hwaddr: '00:16:3e:00:00:03', address: '10.172.3.60', type: 'static', expiresAt: 0 },
        {
          hostname: 'stranger',
          hwaddr: '02:00:00:00:00:09',
          address: '10.172.3.100',
          type: 'dynamic',
          expiresAt: 4_000_000,
        },
        { hostname: '', hwaddr: '02:00:00:00:00:0a', address: '10.172.3.101', type: 'dynamic', expiresAt: 0 },
      ]);
    });
  });
});
