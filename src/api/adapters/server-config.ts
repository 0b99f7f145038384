/**
 * StateServerConfig: the server configuration of `/1.0` as LXD shows it to a member — the
 * cluster-wide keys (`config-cluster` record) merged with this member's member-specific keys
 * (`config-member/<member>`, e.g. `core.https_address`). Writes route each key by its scope in the
 * config key registry (src/state/config/registry.ts), in ONE transaction; an unknown key or a bad
 * value is INVALID_ARGUMENT and nothing is written.
 */
import { ErrorCode, ShoalError } from '../../shared/index.js';
import { clusterConfig, configKey, memberConfig, validateConfig, type StateStore } from '../../state/index.js';
import type { ServerConfig } from '../ports.js';

/** See the module comment. */
export class StateServerConfig implements ServerConfig {
  constructor(
    private readonly store: StateStore,
    /** This member's name (whose member-specific keys are read and written). */
    private readonly member: () => string,
  ) {}

  async get(): Promise<Readonly<Record<string, string>>> {
    const view = await this.store.view();
    return { ...(view.get(clusterConfig)?.record.config ?? {}), ...(view.get(memberConfig, this.member())?.record.config ?? {}) };
  }

  async update(
    changes: Readonly<Record<string, string>>,
    mode: 'replace' | 'merge',
    check?: (current: Readonly<Record<string, string>>) => void,
  ): Promise<void> {
    validateConfig('server', changes);
    const member = this.member();
    await this.store.update((tx) => {
      const cluster = tx.get(clusterConfig)?.record.config ?? {};
      const mine = tx.get(memberConfig, member)?.record.config ?? {};
      check?.({ ...cluster, ...mine });
      const next = { cluster: mode === 'replace' ? {} : { ...cluster }, member: mode === 'replace' ? {} : { ...mine } } as Record<'cluster' | 'member', Record<string, string>>;
      for (const [k, v] of Object.entries(changes)) {
        const def = configKey('server', k);
        if (!def) throw new ShoalError(ErrorCode.InvalidArgument, `Unknown configuration key "${k}"`);
        const target = next[def.scope];
        if (v === '') delete target[k];
        else target[k] = v;
      }
      tx.put(clusterConfig, { config: next.cluster });
      if (tx.get(memberConfig, member) || Object.keys(next.member).length > 0) tx.put(memberConfig, { member, config: next.member });
    });
  }
}
