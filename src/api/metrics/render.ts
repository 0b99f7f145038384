/**
 * Prometheus text exposition (format 0.0.4) of a member's metrics under LXD's metric names
 * (lxd/metrics/types.go), so LXD dashboards work: per instance `lxd_cpu_seconds_total`,
 * `lxd_memory_*_bytes`, `lxd_network_*_total`, `lxd_filesystem_*_bytes`, `lxd_procs_total`, labelled
 * `{name, project, type}` as LXD labels them; and the server's `lxd_warnings_total`,
 * `lxd_operations_total`, `lxd_uptime_seconds`. Pure: the route gathers the numbers.
 *
 * Where Shoal knows less than LXD it says so rather than invent: the agents report one CPU
 * usage figure per instance, not per CPU and mode, so CPU time is one series with
 * `cpu="total", mode="total"` (sums and rates over `lxd_cpu_seconds_total` match LXD's).
 */

/** One instance's numbers, as the node agent reports them. */
export interface InstanceSample {
  readonly name: string;
  readonly project: string;
  readonly type: 'container';
  readonly cpuSeconds: number;
  /** Memory limit, or the member's total when unlimited (LXD does the same). */
  readonly memTotalBytes: number;
  readonly memUsedBytes: number;
  readonly processes: number;
  readonly network: ReadonlyArray<{ readonly device: string; readonly rxBytes: number; readonly txBytes: number; readonly rxPackets: number; readonly txPackets: number }>;
  readonly filesystems: ReadonlyArray<{ readonly device: string; readonly mountpoint: string; readonly sizeBytes: number; readonly usedBytes: number }>;
}

/** The server-level numbers. */
export interface ServerSample {
  readonly warnings: number;
  readonly operations: number;
  readonly uptimeSeconds: number;
}

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: Array<{ labels: Labels; value: number }>;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Renders the metrics; families in a fixed order, each with `# HELP` and `# TYPE`. */
export function renderMetrics(instances: readonly InstanceSample[], server: ServerSample): string {
  const families = new Map<string, Family>();
  const add = (name: string, type: Family['type'], help: string, labels: Labels, value: number): void => {
    let f = families.get(name);
    if (!f) {
      f = { help, type, samples: [] };
      families.set(name, f);
    }
    f.samples.push({ labels, value });
  };
  const sorted = [...instances].sort((a, b) => a.project.localeCompare(b.project) || a.name.localeCompare(b.name));
  for (const i of sorted) {
    const base = { name: i.name, project: i.project, type: i.type };
    add('lxd_cpu_seconds_total', 'counter', 'The total number of CPU time used in seconds.', { ...base, cpu: 'total', mode: 'total' }, i.cpuSeconds);
    add('lxd_memory_MemTotal_bytes', 'gauge', 'The amount of used memory.', base, i.memTotalBytes);
    add('lxd_memory_MemFree_bytes', 'gauge', 'The amount of free memory.', base, Math.max(0, i.memTotalBytes - i.memUsedBytes));
    add('lxd_memory_MemAvailable_bytes', 'gauge', 'The amount of available memory.', base, Math.max(0, i.memTotalBytes - i.memUsedBytes));
    add('lxd_procs_total', 'gauge', 'The number of running processes.', base, i.processes);
    for (const n of i.network) {
      const l = { ...base, device: n.device };
      add('lxd_network_receive_bytes_total', 'counter', 'The amount of received bytes on a given interface.', l, n.rxBytes);
      add('lxd_network_transmit_bytes_total', 'counter', 'The amount of transmitted bytes on a given interface.', l, n.txBytes);
      add('lxd_network_receive_packets_total', 'counter', 'The amount of received packets on a given interface.', l, n.rxPackets);
      add('lxd_network_transmit_packets_total', 'counter', 'The amount of transmitted packets on a given interface.', l, n.txPackets);
    }
    for (const fs of i.filesystems) {
      const l = { ...base, device: fs.device, mountpoint: fs.mountpoint };
      add('lxd_filesystem_size_bytes', 'gauge', 'The size of the filesystem in bytes.', l, fs.sizeBytes);
      add('lxd_filesystem_avail_bytes', 'gauge', 'The number of available space in bytes.', l, Math.max(0, fs.sizeBytes - fs.usedBytes));
      add('lxd_filesystem_free_bytes', 'gauge', 'The number of free space in bytes.', l, Math.max(0, fs.sizeBytes - fs.usedBytes));
    }
  }
  add('lxd_warnings_total', 'gauge', 'The number of active warnings.', {}, server.warnings);
  add('lxd_operations_total', 'gauge', 'The number of running operations.', {}, server.operations);
  add('lxd_uptime_seconds', 'gauge', 'The daemon uptime in seconds.', {}, server.uptimeSeconds);
  const perProject = new Map<string, number>();
  for (const i of instances) perProject.set(i.project, (perProject.get(i.project) ?? 0) + 1);
  for (const [project, n] of [...perProject].sort()) add('lxd_instances', 'gauge', 'The number of instances.', { project, type: 'container' }, n);

  const lines: string[] = [];
  for (const [name, f] of families) {
    lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      lines.push(`${name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
