// Covers src/node-agent/images/metadata.ts: parsing LXD metadata.yaml (architecture aliases,
// dates, properties, templates) and the INVALID_ARGUMENT errors for malformed documents.
import { strict as assert } from 'node:assert';
import { canonicalArchitecture, parseImageMetadata } from '../../../../src/node-agent/images/metadata.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';

describe('src/node-agent/images/metadata', () => {
  describe('parseImageMetadata', () => {
    it('parses an LXD metadata.yaml', () => {
      const md = parseImageMetadata(`architecture: amd64
creation_date: 1700000000
expiry_date: "1800000000"
properties:
  os: Debian
  release: 12
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
  /etc/hosts:
    when:
      - start
    create_only: true
    template: hosts.tpl
    properties:
      default: localhost
`);
      assert.deepEqual(md, {
        architecture: 'x86_64',
        creationDate: 1700000000,
        expiryDate: 1800000000,
        properties: { os: 'Debian', release: '12' },
        templates: {
          '/etc/hostname': { when: ['create', 'copy'], createOnly: false, template: 'hostname.tpl', properties: {} },
          '/etc/hosts': { when: ['start'], createOnly: true, template: 'hosts.tpl', properties: { default: 'localhost' } },
        },
      });
    });

    const bad: [string, string, RegExp][] = [
      ['a missing architecture', 'creation_date: 1\n', /missing "architecture"/],
      ['an unknown architecture', 'architecture: pdp11\n', /unknown architecture "pdp11"/],
      ['a non-mapping document', '- a\n- b\n', /not a mapping/],
      ['a bad date', 'architecture: x86_64\ncreation_date: yesterday\n', /"creation_date" is not an integer/],
      ['a relative template path', 'architecture: x86_64\ntemplates:\n  etc/x:\n    template: x.tpl\n', /must be absolute/],
      ['a template escaping templates/', 'architecture: x86_64\ntemplates:\n  /x:\n    template: ../x\n', /under templates/],
      ['an unknown trigger', 'architecture: x86_64\ntemplates:\n  /x:\n    template: x\n    when: [boot]\n', /unknown trigger "boot"/],
      ['broken YAML', 'architecture: [\n', /Invalid metadata\.yaml/],
    ];
    for (const [what, text, message] of bad) {
      it(`rejects ${what}`, () => {
        assert.throws(() => parseImageMetadata(text), (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && message.test(err.message));
      });
    }
  });

  describe('canonicalArchitecture', () => {
    it('maps aliases to LXD names', () => {
      assert.deepEqual(
        ['x86_64', 'amd64', 'arm64', 'aarch64', 'armhf', 'ppc64el', 'i386', 'riscv64', 'sparc'].map(canonicalArchitecture),
        ['x86_64', 'x86_64', 'aarch64', 'aarch64', 'armv7l', 'ppc64le', 'i686', 'riscv64', undefined],
      );
    });
  });
});
