/**
 * The LXC config renderer: InstanceRuntime (+ host features) → the text of
 * `<containers>/<hostName>/config`. Pure and deterministic: the same inputs give the same bytes, so
 * `create` is idempotent by comparison and golden files pin the output
 * (test/testdata/node-agent/lxc-config/). Defaults follow LXD's driver_lxc.go (initLXC):
 * unprivileged via `lxc.idmap` with an idmapped rootfs (`idmap=container`, no chown shifting),
 * LXD's capability drops and mounts, optional bind mounts of host nodes, seccomp deny list,
 * console log with rotation. The config references the volume only by `<volumePath>/rootfs`,
 * so a snapshot restore (same volume path, new content) needs no config change.
 */
import { errors } from '../../../shared/index.js';
import type { InstanceRuntime } from '../../types.js';
import { cgroupConfigKey, cgroupLimitSettings } from './cgroup-limits.js';
import type { HostFeatures } from './host-features.js';
import { idmapLines } from './idmap.js';
import { renderDevices, type DiskSourceKind } from './lxc-config-devices.js';
import { parseRawLxc } from './raw-lxc.js';
import { isTrue } from './units.js';

/** Inputs of {@link renderLxcConfig} besides the runtime. */
export interface RenderContext {
  readonly features: HostFeatures;
  /** `<containers>/<hostName>`: logs, console log and host device nodes live here. */
  readonly instanceDir: string;
  /** The `lxc.hook.post-stop` command that records stops for the agent, or null for none. */
  readonly stopHook: string | null;
  /** What each disk device's source is on the host (the driver stats them before rendering). */
  readonly diskKinds: Readonly<Record<string, DiskSourceKind>>;
}

/** The signal LXC sends init for a clean stop. SIGPWR: busybox init and systemd both halt on it. */
export const HALT_SIGNAL = 'SIGPWR';

/** Capabilities dropped from every container (LXD). */
export const CAP_DROP = 'sys_time sys_module sys_rawio mac_admin mac_override';

/** Paths of the per-instance files the config points at. */
export function instanceFiles(instanceDir: string): { config: string; log: string; consoleLog: string } {
  return { config: `${instanceDir}/config`, log: `${instanceDir}/lxc.log`, consoleLog: `${instanceDir}/console.log` };
}

/** Renders the LXC config. Assumes the spec passed `validate` (raw.lxc is re-parsed and must be valid). */
export function renderLxcConfig(runtime: InstanceRuntime, ctx: RenderContext): string {
  const { spec } = runtime;
  const { features } = ctx;
  const privileged = runtime.idmap === null;
  const lines: string[] = [];
  const set = (key: string, value: string | number): void => void lines.push(`${key} = ${value}`);
  const section = (title: string): void => void lines.push('', `# ${title}`);

  lines.push(`# Instance "${spec.name}" (project "${spec.project}"), written by the Shoal node agent.`);
  lines.push('# Do not edit: changes are lost on the next update. Use the raw.lxc config key instead.');

  section('Base');
  set('lxc.uts.name', spec.name);
  set('lxc.rootfs.path', `dir:${runtime.volumePath}/rootfs`);
  if (runtime.idmap !== null) {
    set('lxc.rootfs.options', 'idmap=container');
    for (const l of idmapLines(runtime.idmap)) set('lxc.idmap', l);
  }
  set('lxc.autodev', 1);
  set('lxc.pty.max', 1024);
  set('lxc.tty.max', 0);
  set('lxc.signal.halt', HALT_SIGNAL);
  set('lxc.cap.drop', CAP_DROP);
  // The instance sees its own cgroup as the root of a cgroup filesystem at /sys/fs/cgroup (v1
  // controllers under /sys/fs/cgroup/<controller> plus cgroup2 at /sys/fs/cgroup/unified on a
  // hybrid host; cgroup2 at /sys/fs/cgroup on a unified one), so `memory.limit_in_bytes` or
  // `memory.max` show its limits inside, as in LXD. With cgroup namespaces LXC mounts nothing
  // unless forced (it leaves that to init, and busybox init does not); the limit files stay owned
  // by host root, so an unprivileged instance can read but not raise them. Without cgroup
  // namespaces, `mixed` exposes the host tree read-only and the instance's own cgroup read-write.
  const cgroupMount = features.cgroupNamespace ? 'cgroup:rw:force' : 'cgroup:mixed';
  set('lxc.mount.auto', privileged ? `proc:mixed sys:mixed ${cgroupMount}` : `proc:rw sys:rw ${cgroupMount}`);
  for (const m of features.bindMounts) {
    if (privileged && m.path === '/dev/mqueue') continue;
    const target = m.path.slice(1);
    set('lxc.mount.entry', m.dir ? `${m.path} ${target} none rbind,create=dir,optional 0 0` : `${m.path} ${target} none bind,create=file,optional 0 0`);
  }
  if (privileged) set('lxc.mount.entry', 'mqueue dev/mqueue mqueue rw,relatime,create=dir,optional 0 0');
  if (features.lxcfsInclude !== null) set('lxc.include', features.lxcfsInclude);
  if (isTrue(spec.config, 'security.nesting')) {
    set('lxc.mount.entry', 'proc dev/.lxc/proc proc create=dir,optional 0 0');
    set('lxc.mount.entry', 'sys dev/.lxc/sys sysfs create=dir,optional 0 0');
  }

  section('Security');
  if (features.apparmor) {
    set('lxc.apparmor.profile', 'generated');
    if (isTrue(spec.config, 'security.nesting')) set('lxc.apparmor.allow_nesting', 1);
  }
  if (features.seccompProfile !== null) set('lxc.seccomp.profile', features.seccompProfile);
  if (privileged && features.cgroup.devices !== undefined) {
    const dev = features.cgroup.devices === 'v1' ? 'lxc.cgroup.devices' : 'lxc.cgroup2.devices';
    set(`${dev}.deny`, 'a');
    for (const rule of PRIVILEGED_DEVICE_RULES) set(`${dev}.allow`, rule);
  }

  section('Logs and console');
  const files = instanceFiles(ctx.instanceDir);
  set('lxc.log.file', files.log);
  set('lxc.log.level', 'warn');
  set('lxc.console.logfile', files.consoleLog);
  set('lxc.console.size', 'auto');
  set('lxc.console.rotate', 1);
  if (ctx.stopHook !== null) set('lxc.hook.post-stop', ctx.stopHook);

  const envKeys = Object.keys(spec.config)
    .filter((k) => k.startsWith('environment.'))
    .sort();
  if (envKeys.length > 0) {
    section('Environment');
    for (const k of envKeys) set('lxc.environment', `${k.slice('environment.'.length)}=${spec.config[k] ?? ''}`);
  }

  const limits = cgroupLimitSettings(runtime, features).filter((s) => !s.isDefault);
  if (limits.length > 0) {
    section('Limits');
    for (const s of limits) set(cgroupConfigKey(s), s.value);
  }

  lines.push(...renderDevices(runtime, ctx));

  const raw = spec.config['raw.lxc'];
  if (raw !== undefined && raw.trim() !== '') {
    const parsed = parseRawLxc(raw, { privileged, nicCount: runtime.nics.length });
    if (!parsed.ok) throw errors.invalid(`Invalid instance "${spec.name}": config "raw.lxc": ${parsed.reason}`);
    section('raw.lxc');
    for (const e of parsed.entries) set(e.key, e.value);
  }
  return `${lines.join('\n')}\n`;
}

/** LXD's device cgroup rules for privileged containers. */
const PRIVILEGED_DEVICE_RULES: readonly string[] = [
  'b *:* m',
  'c *:* m',
  'c 136:* rwm',
  'c 1:3 rwm',
  'c 1:5 rwm',
  'c 1:7 rwm',
  'c 1:8 rwm',
  'c 1:9 rwm',
  'c 5:0 rwm',
  'c 5:1 rwm',
  'c 5:2 rwm',
  'c 10:229 rwm',
  'c 10:200 rwm',
];
