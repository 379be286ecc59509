// Blocked-loop reports grouped by where they blocked: reports whose stacks have the same
// frames of the program's own code are one group, with its count, total, longest and latest.
// A loop blocked 400 times in one function is one row, not 400. Pure.

import { frameKind, frameParts, userFrames } from '../../main/common/format';
import type { BlockedView, StackFrame } from '../../main/ui/ui-api';

export interface BlockGroup {
  readonly key: string;
  /** The latest report's stack and error, to show the group by. */
  readonly stack: readonly StackFrame[];
  readonly stackError: string | null;
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
  /** Latest first. */
  readonly reports: readonly BlockedView[];
  readonly ongoing: boolean;
}

// By line, not column: a stack taken inside a loop on one line lands on any of its expressions.
const frameKey = (f: StackFrame): string => `${f.functionName}@${f.url}:${f.lineNumber}`;

/** What makes two reports one group: their own code's frames (function, file, line); all frames when there are none of those. */
export function groupKey(b: BlockedView): string {
  if (b.stack.length === 0) return `no stack: ${b.stackError ?? ''}`;
  const own = b.stack.filter((f) => frameKind(f) === 'own');
  return (own.length > 0 ? own : b.stack).map(frameKey).join('\n');
}

/** The groups, most blocked time first. */
export function groupBlocked(blocked: readonly BlockedView[]): BlockGroup[] {
  const byKey = new Map<string, BlockedView[]>();
  for (const b of blocked) {
    const key = groupKey(b);
    const list = byKey.get(key);
    if (list) list.push(b);
    else byKey.set(key, [b]);
  }
  const groups: BlockGroup[] = [];
  for (const [key, list] of byKey) {
    const reports = [...list].sort((a, b) => b.t - a.t);
    const latest = reports[0]!;
    groups.push({
      key,
      stack: latest.stack.length > 0 ? latest.stack : reports.find((r) => r.stack.length > 0)?.stack ?? [],
      stackError: latest.stackError,
      count: reports.length,
      totalMs: reports.reduce((s, r) => s + r.durationMs, 0),
      maxMs: Math.max(...reports.map((r) => r.durationMs)),
      reports,
      ongoing: reports.some((r) => r.ongoing),
    });
  }
  return groups.sort((a, b) => b.totalMs - a.totalMs || b.count - a.count);
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
export function groupTitle(g: Pick<BlockGroup, 'stack' | 'stackError'>, cwd: string): { readonly name: string; readonly where: string } {
  const frames = userFrames(g.stack).slice(0, 2);
  if (frames.length === 0) return { name: 'no stack', where: g.stackError ?? 'none could be taken' };
  return { name: frames.map((f) => frameParts(f, cwd).name).join(' ← '), where: frameParts(frames[0]!, cwd).where };
}
