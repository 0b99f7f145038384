/**
 * The LXD 5.0.2 side of the API benchmark: a throw-away daemon from test/support/lxd (own LXD_DIR,
 * image-server fetches to a closed loopback port), HTTPS on a loopback port, the benchmark's client
 * certificate trusted, a dir pool `default` as the default profile's root disk, the busybox image
 * imported from the same tarball as ours, and N stopped instances created from it.
 */
import { createHash } from 'node:crypto';
import { freePorts } from '../../test/support/free-port.js';
import { LxdDaemon } from '../../test/support/lxd/lxd-daemon.js';
import { onCleanup } from '../agent/cleanup.js';
import { say } from '../agent/stats.js';
import type { ClientCert } from '../../test/support/lxd/client-cert.js';
import { inBatches } from './batches.js';

/** LXD, ready to be measured. */
export interface LxdApiSide {
  /** HTTPS address (`127.0.0.1:port`). */
  readonly address: string;
  readonly pid: number | undefined;
}

/** Starts and fills LXD; cleanup (instances, image, pool, daemon, dir) is registered. */
export async function setupLxd(tag: string, cert: ClientCert, tarball: Buffer, instances: number): Promise<LxdApiSide> {
  const lxd = await LxdDaemon.start(tag);
  onCleanup(`LXD daemon and dir ${lxd.dir}`, () => lxd.close());
  const [port] = await freePorts(1);
  const address = `127.0.0.1:${port!}`;
  await lxd.sync('PATCH', '/1.0', { config: { 'core.https_address': address } });
  await lxd.sync('POST', '/1.0/certificates', { type: 'client', name: 'bench', certificate: cert.derBase64 });
  await lxd.sync('POST', '/1.0/storage-pools', { name: 'default', driver: 'dir', config: {} });
  await lxd.sync('PUT', '/1.0/profiles/default', { config: {}, description: 'Default LXD profile', devices: { root: { type: 'disk', path: '/', pool: 'default' } } });
  const fingerprint = createHash('sha256').update(tarball).digest('hex');
  onCleanup('LXD objects', async () => {
    const names = ((await lxd.sync('GET', '/1.0/instances')) as string[]).map((u) => u.split('/').pop()!);
    await inBatches(names, 8, (n) => lxd.async('DELETE', `/1.0/instances/${n}`));
    await lxd.async('DELETE', `/1.0/images/${fingerprint}`).catch(() => undefined);
    await lxd.sync('PUT', '/1.0/profiles/default', { config: {}, description: '', devices: {} });
    await lxd.sync('DELETE', '/1.0/storage-pools/default');
  });
  await lxd.async('POST', '/1.0/images', tarball);
  say(`LXD: creating ${instances} stopped instances`);
  const names = Array.from({ length: instances }, (_, i) => `${tag}-i${i}`);
  await inBatches(names, 4, (name) =>
    lxd.async('POST', '/1.0/instances', { name, type: 'container', source: { type: 'image', fingerprint }, profiles: ['default'] }),
  );
  const info = (await lxd.sync('GET', '/1.0')) as { environment: { server_pid: number } };
  return { address, pid: info.environment.server_pid };
}
