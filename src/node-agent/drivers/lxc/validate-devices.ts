/**
 * Pure validation of an instance's expanded devices (LXD device maps). Returns the first problem
 * as `device "<name>": key "<key>": …`, or undefined. Types: nic (bridged or macvlan, or
 * `network=<managed bridge>`), disk (root `path=/` + `pool`, or a bind mount of `source` at
 * `path`), unix-char, unix-block, none.
 */
import type { ConfigMap, DeviceMap } from '../../types.js';
import { parseBool, parseUint } from './units.js';

type KeyCheck = (value: string, device: ConfigMap) => string | undefined;

const bool: KeyCheck = (v) => (parseBool(v) === undefined ? 'expected a boolean (true/false)' : undefined);
const uint: KeyCheck = (v) => (parseUint(v) === undefined ? 'expected a non-negative integer' : undefined);
const any: KeyCheck = () => undefined;
const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;
const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An absolute path without `..` components, NUL or newlines. */
function absPath(v: string): string | undefined {
  if (!v.startsWith('/')) return 'expected an absolute path';
  if (v.split('/').includes('..')) return 'must not contain ".." components';
  if (/[\0\n]/.test(v)) return 'must not contain NUL or newline characters';
  return undefined;
}
const absPathCheck: KeyCheck = (v) => absPath(v);

const NIC_KEYS: Readonly<Record<string, KeyCheck>> = {
  nictype: (v) => (v === 'bridged' || v === 'macvlan' ? undefined : 'expected "bridged" or "macvlan"'),
  network: (v) => (/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(v) ? undefined : 'expected a network name'),
  parent: (v) => (IFNAME.test(v) ? undefined : 'expected a host interface name (at most 15 characters)'),
  name: (v) => (IFNAME.test(v) ? undefined : 'expected an interface name (at most 15 characters)'),
  host_name: (v) => (IFNAME.test(v) ? undefined : 'expected an interface name (at most 15 characters)'),
  hwaddr: (v) => (MAC.test(v) ? undefined : 'expected a MAC address (00:16:3e:xx:xx:xx)'),
  mtu: (v) => {
    const n = parseUint(v);
    return n === undefined || n < 68 || n > 65535 ? 'expected an MTU between 68 and 65535' : undefined;
  },
  'ipv4.address': (v) => (IPV4.test(v) ? undefined : 'expected an IPv4 address'),
  'ipv6.address': any,
  'ipv4.routes': any,
  'ipv6.routes': any,
  'boot.priority': uint,
  'security.mac_filtering': bool,
  'security.ipv4_filtering': bool,
  'security.ipv6_filtering': bool,
  'limits.ingress': any,
  'limits.egress': any,
  'limits.max': any,
  'queue.tx.length': uint,
  vlan: uint,
};

const DISK_KEYS: Readonly<Record<string, KeyCheck>> = {
  path: absPathCheck,
  source: (v) => (v.startsWith('/') ? absPath(v) : /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(v) ? undefined : 'expected an absolute host path or a volume name'),
  pool: (v) => (/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(v) ? undefined : 'expected a storage pool name'),
  readonly: bool,
  required: bool,
  shift: bool,
  recursive: bool,
  propagation: (v) =>
    ['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable'].includes(v)
      ? undefined
      : 'expected a mount propagation mode',
  size: any,
  'size.state': any,
  'limits.read': any,
  'limits.write': any,
  'limits.max': any,
  'boot.priority': uint,
};

const UNIX_KEYS: Readonly<Record<string, KeyCheck>> = {
  path: absPathCheck,
  source: absPathCheck,
  major: uint,
  minor: uint,
  uid: uint,
  gid: uint,
  mode: (v) => (/^0?[0-7]{3,4}$/.test(v) ? undefined : 'expected an octal mode (0660)'),
  required: bool,
};

const DEVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

function checkKeys(device: ConfigMap, keys: Readonly<Record<string, KeyCheck>>): string | undefined {
  for (const key of Object.keys(device).sort()) {
    if (key === 'type') continue;
    const value = device[key] ?? '';
    const check = keys[key];
    if (check === undefined) return `key "${key}": unknown device key`;
    const why = check(value, device);
    if (why !== undefined) return `key "${key}": invalid value "${value}": ${why}`;
  }
  return undefined;
}

function checkDevice(device: ConfigMap): string | undefined {
  const type = device['type'];
  switch (type) {
    case 'nic': {
      const bad = checkKeys(device, NIC_KEYS);
      if (bad) return bad;
      if (device['network'] === undefined && device['parent'] === undefined) return 'key "parent": required (or "network")';
      if (device['network'] !== undefined && device['nictype'] === 'macvlan') return 'key "network": not allowed with nictype "macvlan"';
      if (device['network'] !== undefined && device['parent'] !== undefined) return 'key "parent": not allowed with "network"';
      return undefined;
    }
    case 'disk': {
      const bad = checkKeys(device, DISK_KEYS);
      if (bad) return bad;
      if (device['path'] === undefined) return 'key "path": required';
      if (device['path'] === '/') {
        if (device['source'] !== undefined) return 'key "source": not allowed on the root disk';
        if (device['pool'] === undefined) return 'key "pool": required on the root disk';
        return undefined;
      }
      if (device['source'] === undefined) return 'key "source": required';
      return undefined;
    }
    case 'unix-char':
    case 'unix-block': {
      const bad = checkKeys(device, UNIX_KEYS);
      if (bad) return bad;
      if (device['path'] === undefined && device['source'] === undefined) return 'key "path": required (or "source")';
      if ((device['major'] === undefined) !== (device['minor'] === undefined)) return 'key "major": "major" and "minor" go together';
      return undefined;
    }
    case 'none':
      return undefined;
    case undefined:
      return 'key "type": required';
    default:
      return `key "type": unsupported device type "${type}"`;
  }
}

/** Returns the first problem with `devices` as `device "<name>": …`, or undefined. */
export function validateDevices(devices: DeviceMap): string | undefined {
  const paths = new Map<string, string>();
  let roots = 0;
  for (const name of Object.keys(devices).sort()) {
    const device = devices[name] ?? {};
    if (!DEVICE_NAME.test(name)) return `device "${name}": invalid device name`;
    const why = checkDevice(device);
    if (why !== undefined) return `device "${name}": ${why}`;
    const type = device['type'];
    if (type === 'disk' || type === 'unix-char' || type === 'unix-block') {
      const p = (device['path'] ?? device['source'] ?? '').replace(/\/+$/, '') || '/';
      if (p === '/') roots += 1;
      const other = paths.get(p);
      if (other !== undefined) return `device "${name}": key "path": "${p}" is already used by device "${other}"`;
      paths.set(p, name);
    }
  }
  if (roots > 1) return 'more than one root disk (path "/")';
  return undefined;
}

/** Number of nic devices (they get `lxc.net.0…N-1`). */
export function nicCount(devices: DeviceMap): number {
  return Object.values(devices).filter((d) => d['type'] === 'nic').length;
}
