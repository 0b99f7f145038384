// A process that makes test hosts and a long-running process inside one of them, prints "ready"
// and then waits to be killed: net-hosts.test.ts kills it with SIGKILL to simulate a crashed run.
// Usage: node --import tsx crash-fixture.ts PREFIX SUBNET LOGFILE
import { NetHosts } from '../../../scripts/demo/net-hosts.js';

const [prefix = '', subnet = '', logFile = ''] = process.argv.slice(2);
const hosts = await NetHosts.create({ prefix, subnet, names: ['a', 'b'] });
await hosts.spawn(hosts.host('a'), 'sleep', ['600'], { logFile, detached: true });
process.stdout.write('ready\n');
setInterval(() => undefined, 1000);
