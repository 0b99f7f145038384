/**
 * Rolling schema upgrades through Raft. Every member advertises the newest schema it supports in
 * its member record (`schema_max`). The leader's SchemaUpgrader moves the cluster to the newest
 * version all members support, in ONE transaction that rewrites every record of the changed tables
 * into their new format and bumps `meta/schema`; the transaction lists the member records, so it
 * commits only if no member changed (e.g. an older one joined) in between. Until then every member
 * keeps reading and writing the current version: nobody is blocked.
 */
import type { Clock, Disposable, Logger } from '../../shared/index.js';
import { ErrorCode, isShoalError } from '../../shared/index.js';
import type { StateStore } from '../store/state-store.js';
import type { WriteTx } from '../store/write-tx.js';
import { members } from '../tables/cluster.js';
import { TABLES } from '../tables/integrity.js';
import { encodeSchemaVersion } from './cluster-schema.js';
import { tablesChangedBetween } from './versions.js';

/** The outcome of one upgrade attempt inside a transaction. */
export type UpgradeStep = { readonly upgraded: true; readonly from: number; readonly to: number; readonly rewritten: number } | { readonly upgraded: false; readonly reason: string };

/**
 * Inside `tx`: if every member supports a schema newer than the cluster's (capped at `cap`, the
 * caller's own support), rewrites the changed tables and raises the schema. With `raftIds`, every
 * one of those Raft members must have a member record. Pure over the tx.
 */
export function upgradeSchemaTx(tx: WriteTx, cap: number, now: string, raftIds?: readonly number[]): UpgradeStep {
  const from = tx.schemaVersion;
  const all = tx.list(members);
  if (all.length === 0) return { upgraded: false, reason: 'no member records yet' };
  // A Raft member that has not advertised yet may be an older release: wait for it.
  const silent = (raftIds ?? []).filter((id) => !all.some((m) => m.record.raft_id === id));
  if (silent.length > 0) return { upgraded: false, reason: `waiting for Raft member(s) ${silent.join(', ')} to advertise their schema` };
  const to = Math.min(cap, ...all.map((m) => m.record.schema_max));
  if (to <= from) {
    const behind = all.filter((m) => m.record.schema_max <= from).map((m) => m.record.server_name);
    return { upgraded: false, reason: to < cap ? `waiting for ${behind.join(', ')} to support schema ${from + 1}` : `already at schema ${from}` };
  }
  tx.raiseSchema(to, encodeSchemaVersion(to, now));
  let rewritten = 0;
  for (const name of tablesChangedBetween(from, to)) {
    const table = TABLES.find((t) => t.name === name);
    if (!table) continue;
    for (const s of tx.list(table)) {
      tx.put(table, s.record);
      rewritten++;
    }
  }
  return { upgraded: true, from, to, rewritten };
}

export interface SchemaUpgraderOptions {
  readonly store: StateStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** True while this member is the Raft leader (only the leader proposes the upgrade). */
  readonly isLeader: () => boolean;
  /** Ids of every Raft member (voters and learners): each must have advertised before an upgrade. */
  readonly raftMembers: () => readonly number[];
  /** Re-check period. Default 5 s (member record changes trigger a check at once). */
  readonly intervalMs?: number;
}

/** Runs on every member; on the leader, upgrades the cluster schema as soon as everyone can. */
export class SchemaUpgrader implements Disposable {
  private timer: Disposable | undefined;
  private watch: Disposable | undefined;
  private running = false;
  private again = false;
  private disposed = false;

  constructor(private readonly o: SchemaUpgraderOptions) {}

  start(): void {
    this.watch = this.o.store.watch(members.prefix, undefined, { next: () => this.trigger() });
    this.arm();
    this.trigger();
  }

  /** Checks now (coalesced with a check in progress). */
  trigger(): void {
    if (this.disposed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.check().finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.trigger();
      }
    });
  }

  private arm(): void {
    if (this.disposed) return;
    this.timer = this.o.clock.setTimer(this.o.intervalMs ?? 5000, () => {
      this.trigger();
      this.arm();
    });
  }

  private async check(): Promise<void> {
    if (!this.o.isLeader()) return;
    const now = new Date(this.o.clock.now()).toISOString();
    try {
      const { result } = await this.o.store.update((tx) => upgradeSchemaTx(tx, this.o.store.schemaMax, now, this.o.raftMembers()));
      if (result.upgraded) this.o.logger.info({ from: result.from, to: result.to, rewritten: result.rewritten }, 'cluster schema upgraded');
      else this.o.logger.debug({ reason: result.reason }, 'cluster schema unchanged');
    } catch (err) {
      // Leadership moved or a member record changed meanwhile: the next check retries.
      if (isShoalError(err) && (err.code === ErrorCode.NotLeader || err.code === ErrorCode.Aborted || err.code === ErrorCode.Unavailable)) {
        this.o.logger.debug({ err }, 'schema upgrade deferred');
      } else {
        this.o.logger.warn({ err }, 'schema upgrade failed');
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    this.timer?.dispose();
    this.watch?.dispose();
  }
}
