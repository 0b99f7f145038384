// Pure parts of the image API: X-LXD-* upload headers as the Go client and pylxd send them,
// expires_at parsing, alias names and URLs with ?project=.
import { strict as assert } from 'node:assert';
import { aliasUrl, checkAliasName, expiryFromApi, imageUrl, uploadHeaders } from '../../../../src/api/images/records.js';
import { ErrorCode, isShoalError } from '../../../../src/shared/index.js';

const invalid = (includes: string) => (err: unknown) => isShoalError(err, ErrorCode.InvalidArgument) && err.message.includes(includes);

describe('src/api/images/records.ts', () => {
  describe('uploadHeaders', () => {
    it('reads the URL-encoded forms of properties, profiles and aliases', () => {
      const fp = 'A'.repeat(64);
      assert.deepEqual(
        uploadHeaders({
          'x-lxd-fingerprint': fp,
          'x-lxd-filename': 'img.tar.xz',
          'x-lxd-public': 'true',
          'x-lxd-properties': 'os=Ubuntu&description=Ubuntu+22.04',
          'x-lxd-profiles': 'profile=default&profile=small',
          'x-lxd-aliases': 'alias=web&alias=web%2Flatest',
        }),
        { fingerprint: fp.toLowerCase(), filename: 'img.tar.xz', public: true, properties: { os: 'Ubuntu', description: 'Ubuntu 22.04' }, profiles: ['default', 'small'], aliases: ['web', 'web/latest'] },
      );
    });

    it('defaults everything when no header is sent (pylxd sends X-LXD-Public: 1 only)', () => {
      assert.deepEqual(uploadHeaders({}), { fingerprint: '', filename: '', public: false, properties: {}, profiles: undefined, aliases: [] });
      assert.equal(uploadHeaders({ 'x-lxd-public': '1' }).public, true);
    });

    it('refuses a fingerprint that is not 64 hex digits', () => {
      assert.throws(() => uploadHeaders({ 'x-lxd-fingerprint': 'abc' }), invalid('Invalid X-LXD-fingerprint "abc"'));
    });
  });

  describe('expiryFromApi', () => {
    it('maps the zero time and empty to never and normalises others', () => {
      assert.equal(expiryFromApi(undefined), null);
      assert.equal(expiryFromApi(''), null);
      assert.equal(expiryFromApi('0001-01-01T00:00:00Z'), null);
      assert.equal(expiryFromApi('2030-01-02T03:04:05+01:00'), '2030-01-02T02:04:05.000Z');
      assert.throws(() => expiryFromApi('tomorrow'), invalid('Invalid expires_at "tomorrow"'));
    });
  });

  describe('names and URLs', () => {
    it('checks alias names and adds ?project= outside default', () => {
      assert.doesNotThrow(() => checkAliasName('ubuntu/22.04'.replace('/', '-')));
      assert.throws(() => checkAliasName('a/b'), invalid('Invalid alias name'));
      assert.throws(() => checkAliasName(''), invalid('Invalid alias name'));
      assert.equal(imageUrl('default', 'ab'), '/1.0/images/ab');
      assert.equal(imageUrl('p1', 'ab', '/export'), '/1.0/images/ab/export?project=p1');
      assert.equal(aliasUrl('p1', 'web'), '/1.0/images/aliases/web?project=p1');
    });
  });
});
