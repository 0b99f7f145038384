// renderMetrics: Prometheus text under LXD's metric names; families once each with HELP/TYPE,
// labels escaped, instances in a stable order, server figures and per-project instance counts.
import { strict as assert } from 'node:assert';
import { renderMetrics, type InstanceSample } from '../../../../src/api/metrics/render.js';

const inst = (name: string, project = 'default'): InstanceSample => ({
  name,
  project,
  type: 'container',
  cpuSeconds: 1.5,
  memTotalBytes: 1000,
  memUsedBytes: 400,
  processes: 3,
  network: [{ device: 'eth0', rxBytes: 10, txBytes: 20, rxPackets: 1, txPackets: 2 }],
  filesystems: [{ device: 'root', mountpoint: '/', sizeBytes: 500, usedBytes: 100 }],
});

describe('src/api/metrics/render', () => {
  describe('renderMetrics', () => {
    it('renders every family once with HELP and TYPE and one sample per instance', () => {
      const text = renderMetrics([inst('b'), inst('a', 'p"1')], { warnings: 2, operations: 1, uptimeSeconds: 42 });
      const lines = text.trimEnd().split('\n');
      assert.equal(lines.filter((l) => l === '# TYPE lxd_cpu_seconds_total counter').length, 1);
      assert.ok(lines.includes('lxd_cpu_seconds_total{name="b",project="default",type="container",cpu="total",mode="total"} 1.5'));
      assert.ok(lines.includes('lxd_memory_MemAvailable_bytes{name="b",project="default",type="container"} 600'));
      assert.ok(lines.includes('lxd_network_receive_bytes_total{name="b",project="default",type="container",device="eth0"} 10'));
      assert.ok(lines.includes('lxd_filesystem_avail_bytes{name="b",project="default",type="container",device="root",mountpoint="/"} 400'));
      assert.ok(lines.includes('lxd_procs_total{name="a",project="p\\"1",type="container"} 3'));
      assert.ok(lines.includes('lxd_warnings_total 2'));
      assert.ok(lines.includes('lxd_operations_total 1'));
      assert.ok(lines.includes('lxd_uptime_seconds 42'));
      assert.ok(lines.includes('lxd_instances{project="default",type="container"} 1'));
      // "default" sorts before 'p"1': instance b first.
      const cpu = lines.filter((l) => l.startsWith('lxd_cpu_seconds_total{'));
      assert.deepEqual(cpu.map((l) => /name="(\w)"/.exec(l)?.[1]), ['b', 'a']);
      for (const l of lines) assert.match(l, /^(# (HELP|TYPE) \w+ .+|\w+(\{.*\})? [\d.e+-]+)$/);
    });

    it('renders only the server families without instances', () => {
      const text = renderMetrics([], { warnings: 0, operations: 0, uptimeSeconds: 1 });
      assert.equal(text, [
        '# HELP lxd_warnings_total The number of active warnings.',
        '# TYPE lxd_warnings_total gauge',
        'lxd_warnings_total 0',
        '# HELP lxd_operations_total The number of running operations.',
        '# TYPE lxd_operations_total gauge',
        'lxd_operations_total 0',
        '# HELP lxd_uptime_seconds The daemon uptime in seconds.',
        '# TYPE lxd_uptime_seconds gauge',
        'lxd_uptime_seconds 1',
        '',
      ].join('\n'));
    });
  });
});
