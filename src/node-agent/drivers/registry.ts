/**
 * Driver registry: name → factory (incus `storage/drivers/load.go`). Adding a driver (lvm, zfs, a
 * VM driver, an overlay network) means one new file family and one line here.
 */
import type { Logger } from '../../shared/index.js';
import type { AgentPaths } from '../types.js';
import type { InstanceDriver } from './instance-driver.js';
import type { NetworkDriver } from './network-driver.js';
import type { StorageDriver } from './storage-driver.js';

/** What every driver factory receives. */
export interface DriverContext {
  readonly paths: AgentPaths;
  readonly log: Logger;
}

export type StorageDriverFactory = (ctx: DriverContext) => StorageDriver;
export type InstanceDriverFactory = (ctx: DriverContext) => InstanceDriver;
export type NetworkDriverFactory = (ctx: DriverContext) => NetworkDriver;

/** Registered storage drivers, by LXD driver name. */
export const storageDrivers: Readonly<Record<string, StorageDriverFactory>> = {};
/** Registered instance drivers, by instance type. */
export const instanceDrivers: Readonly<Record<string, InstanceDriverFactory>> = {};
/** Registered network drivers, by network type. */
export const networkDrivers: Readonly<Record<string, NetworkDriverFactory>> = {};
