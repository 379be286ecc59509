// Blocked-loop reports grouped by where they blocked: the same code blocking fifty times
// matters more than one long block. Pure and incremental, with bounded memory.

import type { BlockedReport, StackFrame } from '../../probe/wire';
import { userFrames } from '../common/format';

/** Frames that name a place: the innermost few of the user's own. */
const SIGNATURE_FRAMES = 3;
const MAX_GROUPS = 1000;
/** A probe has one block ongoing at a time; more is a damaged or crafted file (each may be 256 kB). */
const MAX_OPEN = 16;

export interface StackGroup {
  readonly stack: readonly StackFrame[];
  readonly count: number;
  readonly totalUs: number;
  readonly maxUs: number;
}

const signature = (stack: readonly StackFrame[]): string =>
  userFrames(stack).slice(0, SIGNATURE_FRAMES).map((f) => `${f.functionName}@${f.url}:${f.lineNumber}:${f.columnNumber}`).join('|');

export class BlockedStacks {
  /** Reports still ongoing, by id, with the stack an earlier report of the block carried. */
  private readonly open = new Map<number, BlockedReport>();
  private readonly groups = new Map<string, { stack: readonly StackFrame[]; count: number; totalUs: number; maxUs: number }>();
  private overflow = 0;

  add(report: BlockedReport): void {
    const previous = this.open.get(report.id);
    const stack = report.stack.length > 0 ? report.stack : previous?.stack ?? [];
    if (report.state === 'cancelled') {
      this.open.delete(report.id);
      return;
    }
    if (report.state === 'ongoing') {
      if (this.open.size < MAX_OPEN || previous) this.open.set(report.id, { ...report, stack });
      return;
    }
    this.open.delete(report.id);
    this.count(stack, report.durationUs);
  }

  /** The groups, the most total blocked time first; blocks still ongoing at the end count too. */
  result(limit: number): { groups: StackGroup[]; ungrouped: number } {
    for (const r of this.open.values()) this.count(r.stack, r.durationUs);
    this.open.clear();
    const groups = [...this.groups.values()].sort((a, b) => b.totalUs - a.totalUs).slice(0, limit);
    return { groups, ungrouped: this.overflow };
  }

  private count(stack: readonly StackFrame[], durationUs: number): void {
    const key = signature(stack);
    const g = this.groups.get(key);
    if (g) {
      g.count++;
      g.totalUs += durationUs;
      g.maxUs = Math.max(g.maxUs, durationUs);
    } else if (this.groups.size < MAX_GROUPS) this.groups.set(key, { stack, count: 1, totalUs: durationUs, maxUs: durationUs });
    else this.overflow++;
  }
}
