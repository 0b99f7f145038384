/**
 * `npm run demo -- --down`: removes everything a cluster demo run made, found by its fixed
 * names (layout.ts), so it works after a crash as well as after a clean run:
 * 1. the shoald processes in pids.json (by PID, only if still shoald), so nothing restarts instances;
 * 2. the LXC containers in every member's LXC path (`lxc-stop --kill`), whose processes live in
 *    their own namespaces and would outlive the member namespaces;
 * 3. whatever else runs in the member namespaces (dnsmasq, LXC monitors), then the namespaces,
 *    veths and bridge (prefix "sd-");
 * 4. mounts under the demo dir, then the demo dir.
 * Idempotent. Returns what it removed, for the demo to print.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/node-agent/exec.js';
import { DEMO_DIR, DEMO_PREFIX, MEMBER_NAMES, PID_FILE, memberDir } from './layout.js';
import { removeNetHostsByPrefix } from './net-hosts.js';

/** The recorded shoald PIDs by member name (empty when there is no record). */
export function readPids(): Record<string, number> {
  if (!existsSync(PID_FILE)) return {};
  return JSON.parse(readFileSync(PID_FILE, 'utf8')) as Record<string, number>;
}

/** True when `pid` runs shoald (guards against a recycled PID). */
export function isShoald(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shoald');
  } catch {
    return false; // gone
  }
}

/** Sends SIGKILL to `pid` and waits until it is gone (up to 10 s). */
export async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw err;
  }
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) {
    // A zombie keeps /proc/<pid> until its parent reaps it; a detached child is reaped by init.
    if (/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** LXC container names under one LXC path (directories holding a `config`). */
function containersIn(lxcPath: string): string[] {
  if (!existsSync(lxcPath)) return [];
  return readdirSync(lxcPath, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(lxcPath, d.name, 'config')))
    .map((d) => d.name);
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Removes every trace of the cluster demo; returns a line per thing removed. */
export async function teardownClusterDemo(): Promise<string[]> {
  const done: string[] = [];
  for (const [member, pid] of Object.entries(readPids())) {
    if (isShoald(pid)) {
      await killAndWait(pid);
      done.push(`shoald ${member} (pid ${pid})`);
    }
  }
  for (const member of MEMBER_NAMES) {
    // The agent's LXC path is <SHOAL_DIR>/containers (ARCHITECTURE "Where state lives").
    const lxcPath = join(memberDir(member), 'containers');
    for (const name of containersIn(lxcPath)) {
      const res = await run('lxc-stop', ['--kill', '-P', lxcPath, '-n', name], { okCodes: [0, 1, 2], timeoutMs: 60_000 });
      if (res.code === 0) done.push(`container ${name} on ${member}`);
    }
  }
  done.push(...(await removeNetHostsByPrefix(DEMO_PREFIX)).map((n) => `network object ${n}`));
  for (const m of mountsUnder(DEMO_DIR)) {
    await run('umount', ['--lazy', m]);
    done.push(`mount ${m}`);
  }
  if (existsSync(DEMO_DIR)) {
    rmSync(DEMO_DIR, { recursive: true, force: true });
    done.push(DEMO_DIR);
  }
  return done;
}
