/**
 * NetworkDriver: managed networks on this host (today a Linux bridge with dnsmasq for DHCP/DNS and
 * nftables NAT). Idempotent, AbortSignal-aware; nothing leaks: deleting a network removes its
 * bridge, dnsmasq process, nft table and files.
 */
import type { ConfigMap, InterfaceState, NetworkLease, NetworkSpec } from '../types.js';

/** An instance's interface as the network must know it (DHCP host entry, DNS name). */
export interface NetworkHost {
  /** Host instance name; also its DNS name on the network. */
  readonly instance: string;
  readonly device: string;
  readonly hwaddr: string;
  /** Static IPv4 lease, if the nic has `ipv4.address`. */
  readonly ipv4?: string;
}

export interface NetworkDriver {
  readonly type: 'bridge';
  /** Throws INVALID_ARGUMENT for unknown or bad config keys. Pure. */
  validate(spec: NetworkSpec): void;
  /** Creates and starts the network. Returns the effective config (e.g. the subnet picked for "auto"). */
  create(spec: NetworkSpec, signal: AbortSignal): Promise<ConfigMap>;
  /** Brings an existing network up after an agent or host restart (bridge, nft rules, dnsmasq). */
  start(spec: NetworkSpec, signal: AbortSignal): Promise<void>;
  /** Stops dnsmasq and takes the bridge down, keeping config. */
  stop(name: string, signal: AbortSignal): Promise<void>;
  update(spec: NetworkSpec, signal: AbortSignal): Promise<void>;
  /** Removes everything the network made. Missing → no-op. (The service refuses when in use.) */
  delete(name: string, signal: AbortSignal): Promise<void>;
  /** The bridge's state (LXD `NetworkState`). */
  state(name: string, signal: AbortSignal): Promise<InterfaceState>;
  leases(name: string, signal: AbortSignal): Promise<readonly NetworkLease[]>;
  /** Adds or replaces the DHCP/DNS entry of an instance's interface. */
  addHost(name: string, host: NetworkHost, signal: AbortSignal): Promise<void>;
  /** Removes an instance's entries (and releases its lease). Missing → no-op. */
  removeHost(name: string, instance: string, signal: AbortSignal): Promise<void>;
}
