/** `/1.0/instances/<name>/state` (shared/api/instance_state.go). */
import { Type, type Static } from 'typebox';
import { STRICT } from './common.js';

/** State actions. */
export const InstanceStateAction = {
  Start: 'start',
  Stop: 'stop',
  Restart: 'restart',
  Freeze: 'freeze',
  Unfreeze: 'unfreeze',
} as const;
export type InstanceStateAction = (typeof InstanceStateAction)[keyof typeof InstanceStateAction];

/** `PUT /1.0/instances/<name>/state` (async). `timeout` in seconds, -1 = wait forever. */
export const InstanceStatePut = Type.Object(
  {
    action: Type.Union([
      Type.Literal('start'),
      Type.Literal('stop'),
      Type.Literal('restart'),
      Type.Literal('freeze'),
      Type.Literal('unfreeze'),
    ]),
    timeout: Type.Optional(Type.Integer()),
    force: Type.Optional(Type.Boolean()),
    stateful: Type.Optional(Type.Boolean()),
  },
  STRICT,
);
export type InstanceStatePut = Static<typeof InstanceStatePut>;

export const InstanceStateDisk = Type.Object({ usage: Type.Integer() });
export const InstanceStateCPU = Type.Object({ usage: Type.Integer({ description: 'nanoseconds' }) });
export const InstanceStateMemory = Type.Object({
  usage: Type.Integer(),
  usage_peak: Type.Integer(),
  swap_usage: Type.Integer(),
  swap_usage_peak: Type.Integer(),
});
export const InstanceStateNetworkAddress = Type.Object({
  family: Type.String(),
  address: Type.String(),
  netmask: Type.String(),
  scope: Type.String(),
});
export const InstanceStateNetworkCounters = Type.Object({
  bytes_received: Type.Integer(),
  bytes_sent: Type.Integer(),
  packets_received: Type.Integer(),
  packets_sent: Type.Integer(),
  errors_received: Type.Integer(),
  errors_sent: Type.Integer(),
  packets_dropped_outbound: Type.Integer(),
  packets_dropped_inbound: Type.Integer(),
});
export const InstanceStateNetwork = Type.Object({
  addresses: Type.Array(InstanceStateNetworkAddress),
  counters: InstanceStateNetworkCounters,
  hwaddr: Type.String(),
  host_name: Type.String(),
  mtu: Type.Integer(),
  state: Type.String(),
  type: Type.String(),
});

/** Observed state of an instance. */
export const InstanceState = Type.Object({
  status: Type.String(),
  status_code: Type.Integer(),
  disk: Type.Record(Type.String(), InstanceStateDisk),
  memory: InstanceStateMemory,
  network: Type.Record(Type.String(), InstanceStateNetwork),
  pid: Type.Integer(),
  processes: Type.Integer(),
  cpu: InstanceStateCPU,
});
export type InstanceState = Static<typeof InstanceState>;
