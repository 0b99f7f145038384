/**
 * Database records → LXD wire objects (shared/api/instance.go, instance_snapshot.go,
 * instance_state.go). Everything here is pure: the observed `status` comes from the instances
 * table (the API writes it after each lifecycle call, src/cluster/instance-status.ts reconciles
 * the rest), so rendering a list never calls an agent.
 */
import { expandInstance, instances, profiles, type InstanceRecord, type InstanceSnapshotRecord, type StateView, type WriteTx } from '../../state/index.js';
import type * as pb from '../../../proto/gen/shoal/agent/v1/agent.js';
import { StatusCode, ZERO_TIME, type Instance, type InstanceSnapshot, type InstanceState } from '../types/index.js';

/** LXD status code of an instance status string ('Creating' is Shoal's: the placement is being carried out). */
export function instanceStatusCode(status: string): number {
  switch (status) {
    case 'Running':
      return StatusCode.Running;
    case 'Stopped':
      return StatusCode.Stopped;
    case 'Frozen':
      return StatusCode.Frozen;
    case 'Creating':
      return StatusCode.Pending;
    default:
      return StatusCode.Error;
  }
}

/** `/1.0/instances/<name>` plus `?project=` outside the default project (LXD's URL form). */
export function instanceUrl(project: string, name: string, suffix = ''): string {
  return `/1.0/instances/${encodeURIComponent(name)}${suffix}${project === 'default' ? '' : `?project=${encodeURIComponent(project)}`}`;
}

/** The expanded config and devices of `r` over the profiles in `view` (missing profiles skipped). */
export function expandedOf(
  view: StateView | WriteTx,
  r: Pick<InstanceRecord, 'project' | 'profiles' | 'config' | 'devices'>,
): { config: Record<string, string>; devices: Record<string, Record<string, string>> } {
  const ps = r.profiles.map((p) => view.get(profiles, r.project, p)?.record).filter((p) => p !== undefined);
  return expandInstance(r, ps);
}

/** The instance as `GET /1.0/instances/<name>` shows it. */
export function renderInstance(view: StateView | WriteTx, r: InstanceRecord): Instance {
  const expanded = expandedOf(view, r);
  return {
    architecture: r.architecture,
    config: { ...r.config },
    devices: structuredClone(r.devices) as Instance['devices'],
    ephemeral: r.ephemeral,
    profiles: [...r.profiles],
    stateful: r.stateful,
    description: r.description,
    created_at: r.created_at,
    expanded_config: expanded.config,
    expanded_devices: expanded.devices,
    name: r.name,
    status: r.status,
    status_code: instanceStatusCode(r.status),
    last_used_at: r.last_used_at ?? ZERO_TIME,
    location: r.location,
    type: r.type,
    project: r.project,
  };
}

/** The editable part of an instance: what its ETag covers (LXD: architecture, config, devices, ephemeral, profiles, description). */
export function instanceEtag(r: Pick<InstanceRecord, 'architecture' | 'config' | 'devices' | 'ephemeral' | 'profiles' | 'description'>): unknown {
  return { architecture: r.architecture, config: r.config, devices: r.devices, ephemeral: r.ephemeral, profiles: r.profiles, description: r.description };
}

/** A snapshot as `GET /1.0/instances/<n>/snapshots/<s>` shows it. */
export function renderSnapshot(view: StateView | WriteTx, s: InstanceSnapshotRecord, architecture: string): InstanceSnapshot {
  const expanded = expandedOf(view, s);
  return {
    expires_at: s.expires_at ?? ZERO_TIME,
    architecture,
    config: { ...s.config },
    created_at: s.created_at,
    devices: structuredClone(s.devices) as InstanceSnapshot['devices'],
    ephemeral: s.ephemeral,
    expanded_config: expanded.config,
    expanded_devices: expanded.devices,
    last_used_at: ZERO_TIME,
    name: s.name,
    profiles: [...s.profiles],
    stateful: s.stateful,
    size: -1,
  };
}

/** The editable part of a snapshot (its ETag): LXD covers `expires_at`. */
export function snapshotEtag(s: Pick<InstanceSnapshotRecord, 'expires_at'>): unknown {
  return { expires_at: s.expires_at ?? ZERO_TIME };
}

/** The agent's live state in LXD's InstanceState shape. */
export function renderState(s: pb.InstanceState): InstanceState {
  const network: InstanceState['network'] = {};
  for (const [name, n] of Object.entries(s.network)) {
    network[name] = {
      addresses: n.addresses.map((a) => ({ family: a.family, address: a.address, netmask: a.netmask, scope: a.scope })),
      counters: {
        bytes_received: n.counters?.bytesReceived ?? 0,
        bytes_sent: n.counters?.bytesSent ?? 0,
        packets_received: n.counters?.packetsReceived ?? 0,
        packets_sent: n.counters?.packetsSent ?? 0,
        errors_received: 0,
        errors_sent: 0,
        packets_dropped_outbound: 0,
        packets_dropped_inbound: 0,
      },
      hwaddr: n.hwaddr,
      host_name: n.hostName,
      mtu: n.mtu,
      state: n.state,
      type: name === 'lo' ? 'loopback' : 'broadcast',
    };
  }
  const disk: InstanceState['disk'] = {};
  for (const [name, d] of Object.entries(s.disk)) disk[name] = { usage: d.usageBytes };
  return {
    status: s.status,
    status_code: s.statusCode || instanceStatusCode(s.status),
    disk,
    memory: { usage: s.memory?.usageBytes ?? 0, usage_peak: s.memory?.peakBytes ?? 0, swap_usage: 0, swap_usage_peak: 0 },
    network,
    pid: s.pid,
    processes: s.processes,
    cpu: { usage: s.cpu?.usageNs ?? 0 },
  };
}

/** A state with only the status, for instances whose agent cannot be asked (Creating, member offline). */
export function statusOnlyState(status: string): InstanceState {
  return {
    status,
    status_code: instanceStatusCode(status),
    disk: {},
    memory: { usage: 0, usage_peak: 0, swap_usage: 0, swap_usage_peak: 0 },
    network: {},
    pid: 0,
    processes: 0,
    cpu: { usage: 0 },
  };
}

/** Instances of `project` (or of every project), in key order. */
export function listInstances(view: StateView, project: string | undefined): InstanceRecord[] {
  return (project === undefined ? view.list(instances) : view.list(instances, project)).map((s) => s.record);
}
