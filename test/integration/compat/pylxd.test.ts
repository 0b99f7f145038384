// pylxd (Debian python3-pylxd 2.2.10) against a real 3-member Shoal cluster: a client with its own
// certificate is untrusted until `authenticate(<trust token>)`; then host info, certificates,
// profiles (create, get, save, delete) and images (upload, list, alias, delete) work; an
// untrusted client is refused.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { buildBusyboxImage } from '../../../src/node-agent/images/busybox.js';
import { makeClientCert } from '../../support/lxd/client-cert.js';
import { CompatEnv, TAG } from './support.js';

/** Imports, warnings off (self-signed server), and `client()` built from ENDPOINT/CERT/KEY. */
const PRELUDE = `
import json, os, warnings
warnings.simplefilter('ignore')
import urllib3
urllib3.disable_warnings()
import pylxd
from pylxd import exceptions
def client():
    return pylxd.Client(endpoint=os.environ['ENDPOINT'], cert=(os.environ['CERT'], os.environ['KEY']), verify=False)
`;

describe('compat: pylxd 2.2.10', () => {
  let env: CompatEnv;
  let dir: string;
  const certs: Record<'trusted' | 'stranger', { cert: string; key: string }> = {
    trusted: { cert: '', key: '' },
    stranger: { cert: '', key: '' },
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `shoal-${TAG}-py-`));
    for (const who of ['trusted', 'stranger'] as const) {
      const c = await makeClientCert(TAG, `pylxd-${who}`);
      certs[who] = { cert: join(dir, `${who}.crt`), key: join(dir, `${who}.key`) };
      await writeFile(certs[who].cert, c.certPem);
      await writeFile(certs[who].key, c.keyPem, { mode: 0o600 });
    }
    env = await CompatEnv.start(3);
  });
  after(async () => {
    await env?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const py = (source: string, who: 'trusted' | 'stranger' = 'trusted'): Promise<unknown> => env.pylxd(PRELUDE + source, certs[who]);

  it('is untrusted until authenticate() with a trust token, then sees the clustered server', async () => {
    const token = await env.trustToken('pylxd');
    const out = await py(`
c = client()
before = c.trusted
c.authenticate(${JSON.stringify(token)})
print(json.dumps({'before': before, 'after': c.trusted, 'clustered': c.host_info['environment']['server_clustered'],
                  'name': c.host_info['environment']['server_name'], 'projects': c.has_api_extension('projects')}))
`);
    assert.deepEqual(out, { before: false, after: true, clustered: true, name: env.via.name, projects: true });
  });

  it('lists the certificates, including its own', async () => {
    const out = (await py(`
c = client()
print(json.dumps(sorted([(x.name, x.type) for x in c.certificates.all()])))
`)) as Array<[string, string]>;
    assert.ok(out.some(([name, type]) => name === 'pylxd' && type === 'client'), JSON.stringify(out));
    assert.equal(out.filter(([, type]) => type === 'server').length, 3);
  });

  it('creates, reads, saves and deletes a profile', async () => {
    const out = await py(`
c = client()
p = c.profiles.create('pyprof', config={'limits.cpu': '1'}, devices={})
p = c.profiles.get('pyprof')
first = dict(p.config)
p.config['limits.memory'] = '64MiB'
p.description = 'from pylxd'
p.save()
q = c.profiles.get('pyprof')
saved = {'config': dict(q.config), 'description': q.description}
names = sorted(x.name for x in c.profiles.all())
q.delete()
print(json.dumps({'first': first, 'saved': saved, 'names': names, 'exists': c.profiles.exists('pyprof')}))
`);
    assert.deepEqual(out, {
      first: { 'limits.cpu': '1' },
      saved: { config: { 'limits.cpu': '1', 'limits.memory': '64MiB' }, description: 'from pylxd' },
      names: ['default', 'pyprof'],
      exists: false,
    });
  });

  it('gets LXD errors as exceptions for a missing or badly named profile', async () => {
    const out = await py(`
c = client()
def code(f):
    try:
        f()
        return 0
    except exceptions.NotFound:
        return 404
    except exceptions.LXDAPIException as e:
        return e.response.status_code
print(json.dumps({'missing': code(lambda: c.profiles.get('nope')), 'bad': code(lambda: c.profiles.create('bad/name'))}))
`);
    assert.deepEqual(out, { missing: 404, bad: 400 });
  });

  it('uploads an image, lists it, adds an alias and deletes it', async () => {
    const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
    const file = join(dir, 'busybox.tar.xz');
    await writeFile(file, image.tarball);
    const out = await py(`
c = client()
with open(${JSON.stringify(file)}, 'rb') as f:
    img = c.images.create(f.read(), wait=True)
img.add_alias('pybb', 'from pylxd')
listed = [(i.fingerprint, [a['name'] for a in i.aliases]) for i in c.images.all()]
by_alias = c.images.get_by_alias('pybb').fingerprint
img.delete(wait=True)
print(json.dumps({'fingerprint': img.fingerprint, 'listed': listed, 'by_alias': by_alias, 'after': len(c.images.all())}))
`);
    const fingerprint = createHash('sha256').update(image.tarball).digest('hex');
    assert.deepEqual(out, { fingerprint, listed: [[fingerprint, ['pybb']]], by_alias: fingerprint, after: 0 });
  });

  it('creates, starts, executes in, stops and deletes a container through /1.0/containers', async () => {
    const image = await buildBusyboxImage({}, AbortSignal.timeout(120_000));
    const file = join(dir, 'busybox-c.tar.xz');
    await writeFile(file, image.tarball);
    const out = await py(`
c = client()
with open(${JSON.stringify(file)}, 'rb') as f:
    img = c.images.create(f.read(), wait=True)
ct = c.containers.create({'name': 'py1', 'source': {'type': 'image', 'fingerprint': img.fingerprint}}, wait=True)
ct.start(wait=True)
ct.sync()
status = ct.status
res = ct.execute(['sh', '-c', 'echo hi'])
names = [x.name for x in c.containers.all()]
ct.stop(wait=True, force=True)
ct.delete(wait=True)
img.delete(wait=True)
print(json.dumps({'status': status, 'exit': res[0], 'stdout': res[1], 'names': names, 'after': [x.name for x in c.containers.all()]}))
`);
    assert.deepEqual(out, { status: 'Running', exit: 0, stdout: 'hi\n', names: ['py1'], after: [] });
  });

  it('refuses an untrusted client (403) and changes nothing', async () => {
    const out = await py(
      `
c = client()
try:
    c.profiles.create('evil')
    created = True
except exceptions.LXDAPIException as e:
    created = e.response.status_code
try:
    c.profiles.all()
    listed = True
except exceptions.LXDAPIException as e:
    listed = e.response.status_code
print(json.dumps({'trusted': c.trusted, 'created': created, 'listed': listed}))
`,
      'stranger',
    );
    assert.deepEqual(out, { trusted: false, created: 403, listed: 403 });
    const names = (await env.cluster.request(env.via, 'GET', '/1.0/profiles')).body.metadata as string[];
    assert.ok(!names.includes('/1.0/profiles/evil'));
  });
});
