// What the probe remembers about each live async resource, keyed by async id, at the cost
// of an array index on the hot path and no allocation: a direct-mapped table of typed columns
// (ids grow, so recent resources rarely collide), with a bounded spill map for the long-lived
// ones a newer id displaced.

const SLOTS = 1 << 16;
const MASK = SLOTS - 1;
/** Long-lived resources tracked beyond the table; past this they go untracked, and counted. */
const MAX_SPILL = 200_000;

/** Flags kept per resource. */
export const RAN = 1;
/** A creation stack was kept for it (creation-sites.ts). */
export const STACKED = 2;
/** Its times are taken (task-types.ts: timesThis()). */
export const TIMED = 4;

interface Spilled {
  readonly typeIndex: number;
  readonly initUs: number;
  flags: number;
}

/** A reference to a resource found in the table: its slot, or one of these. */
export const ABSENT = -1;
const SPILLED = -2;

export class ResourceTable {
  private readonly ids = new Float64Array(SLOTS);
  private readonly types = new Int32Array(SLOTS);
  private readonly inits = new Float64Array(SLOTS);
  private readonly flagsOf = new Uint8Array(SLOTS);
  private readonly spill = new Map<number, Spilled>();
  /** The spilled resource the last find() or remove() returned SPILLED for. */
  private found: Spilled | undefined;
  /** Resources not tracked because the spill map was full. */
  untracked = 0;

  add(asyncId: number, typeIndex: number, initUs: number, flags: number): void {
    const slot = asyncId & MASK;
    const old = this.ids[slot]!;
    if (old !== 0 && old !== asyncId) {
      if (this.spill.size < MAX_SPILL) this.spill.set(old, { typeIndex: this.types[slot]!, initUs: this.inits[slot]!, flags: this.flagsOf[slot]! });
      else this.untracked++;
    }
    this.ids[slot] = asyncId;
    this.types[slot] = typeIndex;
    this.inits[slot] = initUs;
    this.flagsOf[slot] = flags;
  }

  /** A reference to the resource, for the readers below; ABSENT when it is not known. */
  find(asyncId: number): number {
    const slot = asyncId & MASK;
    if (this.ids[slot] === asyncId) return slot;
    if (this.spill.size === 0) return ABSENT;
    this.found = this.spill.get(asyncId);
    return this.found ? SPILLED : ABSENT;
  }

  typeIndex(ref: number): number {
    return ref >= 0 ? this.types[ref]! : this.found!.typeIndex;
  }

  initUs(ref: number): number {
    return ref >= 0 ? this.inits[ref]! : this.found!.initUs;
  }

  flags(ref: number): number {
    return ref >= 0 ? this.flagsOf[ref]! : this.found!.flags;
  }

  setFlag(ref: number, flag: number): void {
    if (ref >= 0) this.flagsOf[ref]! |= flag;
    else this.found!.flags |= flag;
  }

  /**
   * Forgets a resource. Returns a reference that the readers accept until the next call of
   * find() or remove(), or ABSENT.
   */
  remove(asyncId: number): number {
    const slot = asyncId & MASK;
    if (this.ids[slot] === asyncId) {
      // The columns keep their values for the readers; an id of 0 marks the slot free.
      this.ids[slot] = 0;
      return slot;
    }
    if (this.spill.size === 0) return ABSENT;
    this.found = this.spill.get(asyncId);
    if (!this.found) return ABSENT;
    this.spill.delete(asyncId);
    return SPILLED;
  }

  clear(): void {
    this.ids.fill(0);
    this.spill.clear();
    this.found = undefined;
    this.untracked = 0;
  }
}
