/**
 * The members of an evacuation plan as columns of numbers that the plan updates in place, and the
 * ranking of one instance over them.
 *
 * planEvacuation places hundreds of instances one after the other over the same members, and only
 * one member's allocation changes between two placements. The straightforward loop re-ran all nine
 * filters and re-read every member object for each instance (≈ 250 ns per member and instance).
 * Here the six filters that do not read allocations run once per member and request shape
 * (project, architecture), and the per-instance pass reads typed arrays: the cpu, memory and disk
 * checks, the load and the comparison. Every quantity is computed with the same floating-point
 * operations in the same order as `firstRejection`, `loadValue` and place.ts's `better`, and the
 * members are scanned in the same order, so the choice is the same member, bit for bit (property
 * test: test/unit/scheduler/evacuate-equivalence.test.ts against the old planner).
 */
import { passesStaticFilters, type FilterContext } from './filters.js';
import { memoryBytesOn } from './resources.js';
import { loadOf } from './scorers.js';
import type { ClusterSnapshot, EvacuationCandidate, MemberView, PlacementRequest, Resources } from './types.js';

interface PoolColumns {
  /** Whether the member has the pool (`capacity.disk[pool] !== undefined`). */
  readonly present: Uint8Array;
  /** `capacity.disk[pool]` (0 when absent). */
  readonly size: Float64Array;
  /** `allocated.disk[pool] ?? 0`, updated as instances are assigned. */
  readonly allocated: Float64Array;
}

/** Per-plan mutable view of the members, indexed like `snapshot.members`. */
export class EvacuationTable {
  readonly names: readonly string[];
  private readonly n: number;
  private readonly members: readonly MemberView[];
  /** Index of the last member with the same name (the one `byName` resolves to). */
  private readonly canonical: Int32Array;
  private readonly lastIndex: ReadonlyMap<string, number>;
  /** Rank of the name in `<` order: `names[i] < names[j]` ⇔ `nameRank[i] < nameRank[j]`. */
  private readonly nameRank: Int32Array;
  private readonly domainId: Int32Array;
  private readonly domainOf: readonly string[];
  private readonly capMemory: Float64Array;
  private readonly cpuLimit: Float64Array;
  private readonly memLimit: Float64Array;
  private readonly allocCpu: Float64Array;
  private readonly allocMemory: Float64Array;
  private readonly count: Float64Array;
  private readonly pools = new Map<string, PoolColumns>();
  private readonly eligible = new Map<string, Uint8Array>();
  private readonly binpack: boolean;

  constructor(
    private readonly snapshot: Pick<ClusterSnapshot, 'members' | 'projects' | 'config'>,
    private readonly exclude: ReadonlySet<string>,
    private readonly countScale: number,
  ) {
    const members = snapshot.members;
    const n = members.length;
    this.n = n;
    this.members = members;
    this.names = members.map((m) => m.name);
    this.binpack = snapshot.config.policy === 'binpack';
    const last = new Map<string, number>();
    members.forEach((m, i) => last.set(m.name, i));
    this.canonical = Int32Array.from(members, (m) => last.get(m.name)!);
    this.lastIndex = last;
    const sorted = [...new Set(this.names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rank = new Map(sorted.map((name, i) => [name, i]));
    this.nameRank = Int32Array.from(members, (m) => rank.get(m.name)!);
    const domains = new Map<string, number>();
    this.domainId = Int32Array.from(members, (m) => {
      let id = domains.get(m.failureDomain);
      if (id === undefined) domains.set(m.failureDomain, (id = domains.size));
      return id;
    });
    this.domainOf = members.map((m) => m.failureDomain);
    const cfg = snapshot.config;
    this.capMemory = Float64Array.from(members, (m) => m.capacity.memoryBytes);
    this.cpuLimit = Float64Array.from(members, (m) => m.capacity.cpu * cfg.cpuOvercommit);
    this.memLimit = Float64Array.from(members, (m) => m.capacity.memoryBytes * cfg.memoryOvercommit);
    this.allocCpu = Float64Array.from(members, (m) => m.allocated.cpu);
    this.allocMemory = Float64Array.from(members, (m) => m.allocated.memoryBytes);
    this.count = Float64Array.from(members, (m) => m.instanceCount);
  }

  private pool(name: string): PoolColumns {
    let p = this.pools.get(name);
    if (!p) {
      // Built on first use: assignments only ever touch the pool they reserve on, so the
      // snapshot's figures are still current for a pool nobody has used yet.
      const ms = this.members;
      p = {
        present: Uint8Array.from(ms, (m) => (m.capacity.disk[name] === undefined ? 0 : 1)),
        size: Float64Array.from(ms, (m) => m.capacity.disk[name] ?? 0),
        allocated: Float64Array.from(ms, (m) => m.allocated.disk[name] ?? 0),
      };
      this.pools.set(name, p);
    }
    return p;
  }

  private eligibility(request: PlacementRequest): Uint8Array {
    const key = `${request.project}\u0000${request.architecture ?? '\u0001'}`;
    let e = this.eligible.get(key);
    if (!e) {
      const ctx: FilterContext = { config: this.snapshot.config, project: this.snapshot.projects.get(request.project) };
      e = Uint8Array.from(this.members, (m) => (passesStaticFilters(m, request, ctx) ? 1 : 0));
      this.eligible.set(key, e);
    }
    return e;
  }

  /**
   * The index of the member place.ts would choose for `request` (which has `exclude` and no
   * target), or -1 when no member passes the filters. `groupCounts` are the request's placement
   * group's instances per member name, undefined when the group has none anywhere.
   */
  choose(request: PlacementRequest, groupCounts: ReadonlyMap<string, number> | undefined): number {
    const eligible = this.eligibility(request);
    const res = request.resources;
    const wantCpu = res.cpu;
    const memReq = res.memory;
    const fixedMemory = 'bytes' in memReq;
    const memBytes = 'bytes' in memReq ? memReq.bytes : 0;
    const memPercent = 'bytes' in memReq ? 0 : memReq.percent;
    const root = res.rootDisk;
    const pool = root ? this.pool(root.pool) : undefined;
    const rootBytes = root ? root.bytes : 0;
    const hasGroup = groupCounts !== undefined;
    const domainCounts = new Map<string, number>();
    if (groupCounts) {
      for (const [name, k] of groupCounts) {
        const i = this.lastIndex.get(name);
        if (i === undefined) continue;
        const d = this.domainOf[i]!;
        domainCounts.set(d, (domainCounts.get(d) ?? 0) + k);
      }
    }
    const { cpuLimit, memLimit, allocCpu, allocMemory, capMemory, count, domainId, nameRank, binpack, countScale } = this;

    let firstDomain = -1;
    let manyDomains = false;
    let plain = -1;
    let plainLoad = 0;
    let plainGm = 0;
    let dom = -1;
    let domLoad = 0;
    let domGm = 0;
    let domGd = 0;
    for (let i = 0; i < this.n; i++) {
      if (eligible[i] === 0) continue;
      // The cpu, memory and disk filters (filters.ts), in that order.
      const cLimit = cpuLimit[i]!;
      const cAlloc = allocCpu[i]!;
      if (!(wantCpu <= cLimit - cAlloc + 1e-9)) continue;
      const want = fixedMemory ? memBytes : Math.floor((capMemory[i]! * memPercent) / 100);
      const mLimit = memLimit[i]!;
      const mAlloc = allocMemory[i]!;
      if (!(want <= mLimit - mAlloc)) continue;
      let disk = 0;
      if (pool) {
        if (pool.present[i] === 0) continue;
        const size = pool.size[i]!;
        const dAlloc = pool.allocated[i]!;
        if (!(rootBytes <= size - dAlloc)) continue;
        disk = size > 0 ? (dAlloc + rootBytes) / size : 1;
      }
      // Feasible: the load exactly as scorers.ts's loadValue computes it.
      const d = domainId[i]!;
      if (firstDomain < 0) firstDomain = d;
      else if (d !== firstDomain) manyDomains = true;
      const memory = mLimit > 0 ? (mAlloc + want) / mLimit : 1;
      const cpu = cLimit > 0 ? (cAlloc + wantCpu) / cLimit : 1;
      const load = loadOf(memory, cpu, disk, (count[i]! + 1) / countScale);
      // place.ts's `better`, once without and once with the failure-domain key.
      const gm = hasGroup ? (groupCounts.get(this.names[i]!) ?? 0) : 0;
      if (plain < 0 || this.better(i, load, gm, 0, plain, plainLoad, plainGm, 0, false, binpack, nameRank)) {
        plain = i;
        plainLoad = load;
        plainGm = gm;
      }
      if (hasGroup) {
        const gd = domainCounts.get(this.domainOf[i]!) ?? 0;
        if (dom < 0 || this.better(i, load, gm, gd, dom, domLoad, domGm, domGd, true, binpack, nameRank)) {
          dom = i;
          domLoad = load;
          domGm = gm;
          domGd = gd;
        }
      }
    }
    const useDomains = request.placementGroup !== undefined && manyDomains;
    return useDomains && dom >= 0 ? dom : plain;
  }

  private better(
    i: number,
    load: number,
    gm: number,
    gd: number,
    b: number,
    bLoad: number,
    bGm: number,
    bGd: number,
    useDomains: boolean,
    binpack: boolean,
    nameRank: Int32Array,
  ): boolean {
    if (useDomains && gd !== bGd) return gd < bGd;
    if (gm !== bGm) return gm < bGm;
    if (Math.abs(load - bLoad) > 1e-12) return binpack ? load > bLoad : load < bLoad;
    return nameRank[i]! < nameRank[b]!;
  }

  /**
   * Counts `instance` on the member named like member `i` (the one `byName` resolves to) and
   * returns that member's name.
   */
  assign(i: number, instance: EvacuationCandidate): string {
    const c = this.canonical[i]!;
    const m = this.members[c]!;
    const res = instance.resources;
    this.allocCpu[c] = this.allocCpu[c]! + res.cpu;
    this.allocMemory[c] = this.allocMemory[c]! + memoryBytesOn(res, m);
    if (res.rootDisk) {
      const p = this.pool(res.rootDisk.pool);
      p.allocated[c] = p.allocated[c]! + res.rootDisk.bytes;
    }
    this.count[c] = this.count[c]! + 1;
    return m.name;
  }

  /**
   * Member views with the current allocations (to explain an instance that fits nowhere). A
   * member that shares its name with a later one was never assigned anything and keeps its own.
   */
  views(): MemberView[] {
    return this.members.map((m, i) => {
      const disk: Record<string, number> = { ...m.allocated.disk };
      for (const [name, p] of this.pools) disk[name] = p.allocated[i]!;
      const allocated: Resources = { cpu: this.allocCpu[i]!, memoryBytes: this.allocMemory[i]!, disk };
      return { ...m, allocated, instanceCount: this.count[i]! };
    });
  }
}
