/**
 * Where the cluster demo puts things. Everything is fixed and documented so that
 * `npm run demo -- --down` finds what any earlier run made, even one that crashed:
 *
 *   /var/lib/shoal-demo/            demo dir (SHOAL_DEMO_DIR overrides it); mode 0711 so that
 *     m1/ m2/ m3/                   unprivileged containers can reach their root file systems
 *       (SHOAL_DIR of each member: db/, certs/, containers/ (LXC path), unix.socket, …)
 *     m1.log …                      each member's shoald output
 *     pids.json                     shoald PIDs by member
 *   network namespaces sd-m1 sd-m2 sd-m3, veths sd-m1h …, bridge sd-br  (prefix "sd-")
 *   10.213.77.0/24 on sd-br: the host .1, members .11 .12 .13; inside each member namespace its
 *   own instance bridge shoalbr0 (10.213.81.1/24, .82, .83 when the product takes one per member)
 */
import { join } from 'node:path';

/** Repository root (scripts/demo/ → ../..). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** The demo dir holding every member's SHOAL_DIR, logs and PIDs. */
export const DEMO_DIR = process.env['SHOAL_DEMO_DIR'] ?? '/var/lib/shoal-demo';

/** Prefix of the demo's namespaces, veths and bridge (see net-hosts.ts). */
export const DEMO_PREFIX = 'sd-';

/** The demo's "physical network". */
export const DEMO_SUBNET = '10.213.77.0/24';

/** Member names, in bootstrap order. */
export const MEMBER_NAMES = ['m1', 'm2', 'm3'] as const;

/** Cluster (gRPC) port on each member's own address; the REST API listens on the next port. */
export const CLUSTER_PORT = 8443;
export const API_PORT = CLUSTER_PORT + 1;

/** The instance bridge each member creates inside its namespace. */
export const INSTANCE_BRIDGE = 'shoalbr0';

/** The instance subnet bootstrapped on the first member (`shoald init --network-ipv4`). */
export const INSTANCE_IPV4 = '10.213.81.1/24';

/** State dir of member `name`. */
export function memberDir(name: string): string {
  return join(DEMO_DIR, name);
}

/** PID file of the demo's shoald processes. */
export const PID_FILE = join(DEMO_DIR, 'pids.json');

/** Built entry points (setup.sh builds them). */
export const SHOALD_JS = join(REPO_ROOT, 'dist', 'src', 'daemon', 'shoald.js');
export const SHOAL_JS = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
