/**
 * `boot.autostart` planning (pure), as LXD does at daemon start: `true` → start; `false` → never;
 * unset → start if the instance was last asked to run (LXD volatile.last_state.power; here the
 * driver's `shoal-power` file, which a host reboot leaves at RUNNING). Running or frozen
 * instances are left alone. Order: `boot.autostart.priority` (higher first), then name; after
 * starting an instance the driver waits its `boot.autostart.delay` seconds.
 */
import type { ConfigMap } from '../../types.js';
import type { PowerState } from './instance-store.js';
import { parseBool, parseInt10, parseUint } from './units.js';

/** What the planner knows about one instance. */
export interface AutostartCandidate {
  readonly hostName: string;
  readonly config: ConfigMap;
  readonly lastPower: PowerState | null;
  readonly running: boolean;
}

/** One planned start. */
export interface AutostartStep {
  readonly hostName: string;
  readonly delayAfterMs: number;
}

/** The ordered starts for `candidates`. */
export function planAutostart(candidates: readonly AutostartCandidate[]): AutostartStep[] {
  const wanted = candidates.filter((c) => {
    if (c.running) return false;
    const flag = c.config['boot.autostart'];
    if (flag !== undefined && flag.trim() !== '' && parseBool(flag) !== undefined) return parseBool(flag) === true;
    return c.lastPower === 'RUNNING';
  });
  const priority = (c: AutostartCandidate): number => parseInt10(c.config['boot.autostart.priority'] ?? '0') ?? 0;
  return wanted
    .sort((a, b) => priority(b) - priority(a) || a.hostName.localeCompare(b.hostName))
    .map((c) => ({ hostName: c.hostName, delayAfterMs: (parseUint(c.config['boot.autostart.delay'] ?? '0') ?? 0) * 1000 }));
}
