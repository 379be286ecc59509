// trace mode's only per-resource memory on the target's main thread: a few flags for the
// resources whose callbacks need something the event rows do not carry (a timer's due time, a
// nextTick's not starting a loop turn, a creation stack to forget) and, where Node may still
// call the hook for promises, for every resource made while it was on (probe/trace.ts).
// Everything else about a resource is worked out from the rows, in loopscope
// (main/session/event-views.ts). The same direct-mapped layout as resource-table.ts, one byte a
// resource.

const SLOTS = 1 << 16;
const MASK = SLOTS - 1;
/**
 * Marked resources kept beyond the table (long-lived ones a newer mark displaced); past this,
 * forgotten. As many as resource-table.ts keeps: where every resource is marked, as many live.
 */
const MAX_SPILL = 200_000;

export class IdMarks {
  private readonly ids = new Float64Array(SLOTS);
  private readonly marks = new Uint8Array(SLOTS);
  private readonly spill = new Map<number, number>();

  /** Marks a resource just created; `mark` is not 0. */
  add(asyncId: number, mark: number): void {
    const slot = asyncId & MASK;
    const old = this.ids[slot]!;
    if (old !== 0 && old !== asyncId && this.spill.size < MAX_SPILL) this.spill.set(old, this.marks[slot]!);
    this.ids[slot] = asyncId;
    this.marks[slot] = mark;
  }

  /** The resource's marks, 0 for none. */
  of(asyncId: number): number {
    const slot = asyncId & MASK;
    if (this.ids[slot] === asyncId) return this.marks[slot]!;
    return this.spill.size === 0 ? 0 : this.spill.get(asyncId) ?? 0;
  }

  /** Forgets a resource; returns the marks it had. */
  remove(asyncId: number): number {
    const slot = asyncId & MASK;
    if (this.ids[slot] === asyncId) {
      this.ids[slot] = 0;
      return this.marks[slot]!;
    }
    if (this.spill.size === 0) return 0;
    const mark = this.spill.get(asyncId) ?? 0;
    this.spill.delete(asyncId);
    return mark;
  }
}
