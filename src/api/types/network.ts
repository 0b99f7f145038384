/** `/1.0/networks` (shared/api/network.go). */
import { Type, type Static } from 'typebox';
import { NStringMap, Nullable, STRICT, StringList, StringMap } from './common.js';

/** `PUT|PATCH /1.0/networks/<name>` (with `?target=` for member-specific keys). */
export const NetworkPut = Type.Partial(Type.Object({ config: NStringMap, description: Type.String() }), STRICT);
export type NetworkPut = Static<typeof NetworkPut>;

/** `POST /1.0/networks` (per-member pending creation with `?target=`). */
export const NetworksPost = Type.Object(
  { ...NetworkPut.properties, name: Type.String(), type: Type.Optional(Type.String()) },
  STRICT,
);
export type NetworksPost = Static<typeof NetworksPost>;

/** `POST /1.0/networks/<name>` (rename). */
export const NetworkPost = Type.Object({ name: Type.String() }, STRICT);
export type NetworkPost = Static<typeof NetworkPost>;

/** A network. `status` is "Created", "Pending", "Errored" or "Unknown"; `locations` lists members. */
export const Network = Type.Object({
  config: StringMap,
  description: Type.String(),
  name: Type.String(),
  type: Type.String(),
  used_by: StringList,
  managed: Type.Boolean(),
  status: Type.String(),
  locations: StringList,
});
export type Network = Static<typeof Network>;

/** A DHCP lease (`/1.0/networks/<name>/leases`). */
export const NetworkLease = Type.Object({
  hostname: Type.String(),
  hwaddr: Type.String(),
  address: Type.String(),
  type: Type.String(),
  location: Type.String(),
});
export type NetworkLease = Static<typeof NetworkLease>;

export const NetworkStateAddress = Type.Object({
  family: Type.String(),
  address: Type.String(),
  netmask: Type.String(),
  scope: Type.String(),
});
export const NetworkStateCounters = Type.Object({
  bytes_received: Type.Integer(),
  bytes_sent: Type.Integer(),
  packets_received: Type.Integer(),
  packets_sent: Type.Integer(),
});
export const NetworkStateBond = Type.Object({
  mode: Type.String(),
  transmit_policy: Type.String(),
  up_delay: Type.Integer(),
  down_delay: Type.Integer(),
  mii_frequency: Type.Integer(),
  mii_state: Type.String(),
  lower_devices: StringList,
});
export const NetworkStateBridge = Type.Object({
  id: Type.String(),
  stp: Type.Boolean(),
  forward_delay: Type.Integer(),
  vlan_default: Type.Integer(),
  vlan_filtering: Type.Boolean(),
  upper_devices: StringList,
});
export const NetworkStateVLAN = Type.Object({ lower_device: Type.String(), vid: Type.Integer() });
export const NetworkStateOVN = Type.Object({ chassis: Type.String() });

/** Observed state of a network interface (`/1.0/networks/<name>/state`, per member with `?target=`). */
export const NetworkState = Type.Object({
  addresses: Type.Array(NetworkStateAddress),
  counters: NetworkStateCounters,
  hwaddr: Type.String(),
  mtu: Type.Integer(),
  state: Type.String(),
  type: Type.String(),
  bond: Nullable(NetworkStateBond),
  bridge: Nullable(NetworkStateBridge),
  vlan: Nullable(NetworkStateVLAN),
  ovn: Nullable(NetworkStateOVN),
});
export type NetworkState = Static<typeof NetworkState>;
