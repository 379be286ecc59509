// What the probe remembers about each live async resource, keyed by async id, at the cost
// of an array index on the hot path: a direct-mapped table (ids grow, so recent resources
// rarely collide), with a bounded spill map for the long-lived ones a newer id displaced.

const SLOTS = 1 << 16;
const MASK = SLOTS - 1;
/** Long-lived resources tracked beyond the table; past this they go untracked, and counted. */
const MAX_SPILL = 200_000;

export interface ResourceInfo {
  typeIndex: number;
  initUs: number;
  ran: boolean;
  /** An Error whose stack was captured at creation (sampled), formatted only when needed. */
  stack: Error | undefined;
}

export class ResourceTable {
  private readonly ids = new Float64Array(SLOTS);
  private readonly infos: (ResourceInfo | undefined)[] = new Array(SLOTS);
  private readonly spill = new Map<number, ResourceInfo>();
  /** Resources not tracked because the spill map was full. */
  untracked = 0;

  add(asyncId: number, info: ResourceInfo): void {
    const slot = asyncId & MASK;
    const old = this.infos[slot];
    if (old !== undefined && this.ids[slot] !== asyncId) {
      if (this.spill.size < MAX_SPILL) this.spill.set(this.ids[slot]!, old);
      else this.untracked++;
    }
    this.ids[slot] = asyncId;
    this.infos[slot] = info;
  }

  get(asyncId: number): ResourceInfo | undefined {
    const slot = asyncId & MASK;
    if (this.ids[slot] === asyncId) return this.infos[slot];
    return this.spill.size > 0 ? this.spill.get(asyncId) : undefined;
  }

  /** Forgets a resource and returns what was known of it. */
  remove(asyncId: number): ResourceInfo | undefined {
    const slot = asyncId & MASK;
    if (this.ids[slot] === asyncId) {
      const info = this.infos[slot];
      this.ids[slot] = 0;
      this.infos[slot] = undefined;
      return info;
    }
    if (this.spill.size === 0) return undefined;
    const info = this.spill.get(asyncId);
    if (info) this.spill.delete(asyncId);
    return info;
  }

  clear(): void {
    this.ids.fill(0);
    this.infos.fill(undefined);
    this.spill.clear();
    this.untracked = 0;
  }
}
