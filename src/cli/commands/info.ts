/**
 * `shoal info [NAME]`: an instance's details as lxc prints them (status, location, resources,
 * network addresses, snapshots), or with no name the server itself (`GET /1.0` as YAML).
 */
import type { InstanceFull, Server } from '../../api/types/index.js';
import type { CliContext } from '../context.js';
import { instancePath } from './instances.js';
import { bytes } from './list.js';

function when(ts: string): string {
  if (!ts || ts.startsWith('0001-')) return '';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toUTCString();
}

/** The text lxc prints for one instance. */
export function renderInstanceInfo(i: InstanceFull): string {
  const lines = [
    `Name: ${i.name}`,
    `Status: ${i.status.toUpperCase()}`,
    `Type: ${i.type || 'container'}${i.ephemeral ? ' (ephemeral)' : ''}`,
    `Architecture: ${i.architecture}`,
  ];
  if (i.location && i.location !== 'none') lines.push(`Location: ${i.location}`);
  if (i.state && i.state.pid > 0) lines.push(`PID: ${i.state.pid}`);
  lines.push(`Created: ${when(i.created_at)}`);
  const used = when(i.last_used_at);
  if (used) lines.push(`Last Used: ${used}`);
  const s = i.state;
  if (s && s.pid > 0) {
    lines.push('', 'Resources:', `  Processes: ${s.processes}`);
    const disks = Object.entries(s.disk);
    if (disks.length > 0) {
      lines.push('  Disk usage:');
      for (const [n, d] of disks) lines.push(`    ${n}: ${bytes(d.usage)}`);
    }
    if (s.cpu.usage > 0) lines.push('  CPU usage:', `    CPU usage (in seconds): ${Math.round(s.cpu.usage / 1e9)}`);
    if (s.memory.usage > 0) {
      lines.push('  Memory usage:', `    Memory (current): ${bytes(s.memory.usage)}`);
      if (s.memory.usage_peak > 0) lines.push(`    Memory (peak): ${bytes(s.memory.usage_peak)}`);
    }
    const nets = Object.entries(s.network);
    if (nets.length > 0) {
      lines.push('  Network usage:');
      for (const [n, net] of nets.sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`    ${n}:`, `      Type: ${net.type}`, `      State: ${net.state.toUpperCase()}`);
        if (net.host_name) lines.push(`      Host interface: ${net.host_name}`);
        if (net.hwaddr) lines.push(`      MAC address: ${net.hwaddr}`);
        if (net.mtu) lines.push(`      MTU: ${net.mtu}`);
        lines.push(`      Bytes received: ${bytes(net.counters.bytes_received)}`, `      Bytes sent: ${bytes(net.counters.bytes_sent)}`);
        if (net.addresses.length > 0) {
          lines.push('      IP addresses:');
          for (const a of net.addresses) lines.push(`        ${a.family}:  ${a.address}/${a.netmask} (${a.scope})`);
        }
      }
    }
  }
  if (i.snapshots && i.snapshots.length > 0) {
    lines.push('', 'Snapshots:');
    for (const snap of i.snapshots) lines.push(`  ${snap.name} (taken at ${when(snap.created_at)})${snap.stateful ? ' (stateful)' : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** Runs `shoal info`. */
export async function info(ctx: CliContext, arg: string | undefined, opts: { target?: string | undefined }): Promise<void> {
  const ref = await ctx.resolve(arg ?? '');
  if (ref.name === '') {
    const server = await ref.client.get<Server>('/1.0', { target: opts.target, project: ref.project });
    ctx.out((await import('yaml')).stringify(server));
    return;
  }
  let inst = await ref.client.get<InstanceFull>(instancePath(ref.name), { recursion: 1, project: ref.project });
  if (inst.state === undefined) {
    // A server that ignores recursion on one instance: ask for the state on its own.
    const state = await ref.client.get<InstanceFull['state']>(`${instancePath(ref.name)}/state`, { project: ref.project });
    inst = { ...inst, state };
  }
  ctx.out(renderInstanceInfo(inst));
}
