/**
 * `raw.lxc` validation. The value is LXC config text appended after what Shoal renders, so a
 * later single-valued key overrides ours (e.g. `lxc.signal.halt`). It is parsed line by line
 * (blank lines and `#` comments allowed); every line must be `lxc.<key> = <value>` with a key
 * LXC 5.0 knows. Refused, because they break what the agent relies on:
 * - `lxc.rootfs.*` (the root is the storage volume, idmapped), `lxc.include` (arbitrary files),
 *   `lxc.ephemeral` (LXC would destroy the rootfs, which belongs to the storage driver);
 * - `lxc.log.file`, `lxc.console.logfile` (the agent reads them), `lxc.uts.name`;
 * - `lxc.idmap` unless the instance is privileged (Shoal maps unprivileged ids itself);
 * - `lxc.net.N.*` for an index used by a nic device, and bare `lxc.net`;
 * - an empty value for list keys Shoal fills (`lxc.mount.entry =`, `lxc.hook.* =`, …), which
 *   would reset Shoal's entries.
 */

/** A parsed raw.lxc line. */
export interface RawLxcEntry {
  readonly line: number;
  readonly key: string;
  readonly value: string;
}

/** Parse result: the entries, or the first problem (1-based line number in the message). */
export type RawLxcParse = { readonly ok: true; readonly entries: readonly RawLxcEntry[] } | { readonly ok: false; readonly reason: string };

/** Key patterns of LXC 5.0 (lxc.container.conf(5)). */
const KNOWN_KEYS: readonly RegExp[] = [
  /^lxc\.arch$/,
  /^lxc\.uts\.name$/,
  /^lxc\.signal\.(halt|reboot|stop)$/,
  /^lxc\.init\.(cmd|cwd|uid|gid|groups)$/,
  /^lxc\.execute\.cmd$/,
  /^lxc\.proc\.[a-z0-9_./-]+$/,
  /^lxc\.ephemeral$/,
  /^lxc\.net$/,
  /^lxc\.net\.\d+(\.[a-z0-9_.]+)?$/,
  /^lxc\.pty\.max$/,
  /^lxc\.tty\.(max|dir)$/,
  /^lxc\.console\.(path|logfile|size|rotate|buffer\.size)$/,
  /^lxc\.mount\.(entry|auto|fstab)$/,
  /^lxc\.autodev(\.tmpfs\.size)?$/,
  /^lxc\.rootfs\.[a-z.]+$/,
  /^lxc\.cap\.(drop|keep)$/,
  /^lxc\.apparmor\.(profile|allow_incomplete|allow_nesting|raw)$/,
  /^lxc\.selinux\.(context|context\.keyring)$/,
  /^lxc\.seccomp\.(profile|allow_nesting|notify\.proxy|notify\.cookie)$/,
  /^lxc\.cgroup2?\.[a-z0-9_.]+$/,
  /^lxc\.cgroup\.(dir|relative)(\.[a-z.]+)?$/,
  /^lxc\.idmap$/,
  /^lxc\.hook\.(pre-start|pre-mount|mount|autodev|start-host|start|stop|post-stop|clone|destroy|version)$/,
  /^lxc\.start\.(auto|delay|order)$/,
  /^lxc\.monitor\.(unshare|signal\.pdeath)$/,
  /^lxc\.group$/,
  /^lxc\.environment(\.runtime|\.hooks)?$/,
  /^lxc\.log\.(level|file|syslog)$/,
  /^lxc\.no_new_privs$/,
  /^lxc\.prlimit\.[a-z_]+$/,
  /^lxc\.sysctl\.[a-z0-9_.-]+$/,
  /^lxc\.namespace\.(clone|keep|share\.[a-z]+)$/,
  /^lxc\.time\.offset\.(boot|monotonic)$/,
  /^lxc\.keyring\.session$/,
  /^lxc\.include$/,
];

/** Keys whose empty value would reset entries Shoal renders. */
const LIST_KEYS = /^lxc\.(mount\.entry|mount\.auto|hook\.[a-z-]+|idmap|environment|cap\.drop|cap\.keep|cgroup2?\.devices\.(allow|deny))$/;

/**
 * Parses and checks raw.lxc. `nicCount` is the number of nic devices (their `lxc.net.N` indexes
 * are 0..nicCount-1); `privileged` allows `lxc.idmap`.
 */
export function parseRawLxc(text: string, opts: { readonly privileged: boolean; readonly nicCount: number }): RawLxcParse {
  const entries: RawLxcEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) return { ok: false, reason: `line ${n}: expected "lxc.<key> = <value>"` };
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!KNOWN_KEYS.some((re) => re.test(key))) return { ok: false, reason: `line ${n}: unknown LXC key "${key}"` };
    const refused = refusal(key, value, opts);
    if (refused !== undefined) return { ok: false, reason: `line ${n}: key "${key}" ${refused}` };
    entries.push({ line: n, key, value });
  }
  return { ok: true, entries };
}

function refusal(key: string, value: string, opts: { readonly privileged: boolean; readonly nicCount: number }): string | undefined {
  if (key.startsWith('lxc.rootfs.')) return 'is managed by Shoal (the root is the storage volume)';
  if (key === 'lxc.include') return 'is not allowed (it would load arbitrary files)';
  if (key === 'lxc.ephemeral') return 'is not allowed (use the instance\'s "ephemeral" flag)';
  if (key === 'lxc.log.file' || key === 'lxc.console.logfile' || key === 'lxc.uts.name') return 'is managed by Shoal';
  if (key === 'lxc.idmap' && !opts.privileged) return 'is only allowed with security.privileged=true';
  if (key === 'lxc.net') return 'is not allowed (it would drop the nic devices)';
  const net = /^lxc\.net\.(\d+)/.exec(key);
  if (net && Number(net[1]) < opts.nicCount) return `clashes with nic device number ${net[1]} (use lxc.net.${opts.nicCount} or higher)`;
  if (value === '' && LIST_KEYS.test(key)) return 'with an empty value would reset entries managed by Shoal';
  return undefined;
}
