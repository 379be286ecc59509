// The blocks pane's pure parts. The groups come from the session (main/session/blocked-groups.ts,
// the same for the terminal and the JSON summary); here: which group and report are shown,
// the report behind a spike clicked on a chart, and a group's name.

import { frameParts, userFrames } from '../../main/common/format';
import type { BlockedView, BlockGroupView, StackFrame } from '../../main/ui/ui-api';

/** What the user picked: a group (from its list or a key finding), or a report (from its group's list or a chart). */
export interface BlockSelection {
  readonly group?: string;
  readonly report?: number;
}

export interface ShownBlocks {
  readonly group: BlockGroupView | undefined;
  readonly report: BlockedView | undefined;
  /** The group's reports the session keeps (the longest of the session), latest first. */
  readonly reports: readonly BlockedView[];
}

/**
 * The group and report to show: the picked report and its group; else the picked group (the
 * first when none) and its longest report kept, the block whose CPU profile selecting the
 * group shows. A report whose group is not known yet (a block going on, its samples to come)
 * shows alone.
 */
export function shownBlocks(groups: readonly BlockGroupView[], blocked: readonly BlockedView[], selection: BlockSelection): ShownBlocks {
  const picked = selection.report === undefined ? undefined : blocked.find((b) => b.id === selection.report);
  const key = picked?.group ?? selection.group;
  const group = groups.find((g) => g.key === key) ?? (picked ? undefined : groups[0]);
  const reports = group ? blocked.filter((b) => b.group === group.key).sort((a, b) => b.t - a.t) : picked ? [picked] : [];
  const longest = reports.reduce<BlockedView | undefined>((a, b) => (a && a.durationMs >= b.durationMs ? a : b), undefined);
  return { group, report: picked ?? longest, reports };
}

/**
 * The report behind a spike the user clicked at `t` on a lag chart: the loop's lag shows when
 * it comes back, at the block's end. The nearest end within `toleranceS`; undefined for none.
 */
export function reportAt(blocked: readonly BlockedView[], t: number, toleranceS: number): BlockedView | undefined {
  let best: BlockedView | undefined;
  let bestDistance = Infinity;
  for (const b of blocked) {
    const end = b.t + b.durationMs / 1000;
    // Anywhere over the block counts as on it.
    const distance = t >= b.t && t <= end ? 0 : Math.min(Math.abs(t - end), Math.abs(t - b.t));
    if (distance <= toleranceS && (distance < bestDistance || (distance === bestDistance && best && b.durationMs > best.durationMs))) {
      best = b;
      bestDistance = distance;
    }
  }
  return best;
}

/** A group's name, by its innermost frames of the program's own ("spin ← parseBig"), and where the first is. */
export function groupTitle(stack: readonly StackFrame[], cwd: string): { readonly name: string; readonly where: string } {
  const frames = userFrames(stack).slice(0, 2);
  if (frames.length === 0) return { name: 'no stack', where: 'none could be taken' };
  return { name: frames.map((f) => frameParts(f, cwd).name).join(' ← '), where: frameParts(frames[0]!, cwd).where };
}
