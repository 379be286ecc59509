// Blocked-loop reports grouped by where they blocked: the same code blocking fifty times
// matters more than one long block. Part of the session's state (so the live views, the
// summary, replay and every keyframe have them), pure, with bounded memory.

import type { BlockedReport, StackFrame, StackSource } from '../../probe/wire';
import { userFrames } from '../common/format';
import { countSource, mainSource, NO_SOURCES, type StackSourceCounts } from '../common/stack-sources';
import { countNoStack, NO_NO_STACK, type NoStackCounts } from './no-stack-reasons';

/** Frames that name a place: the innermost few of the user's own. */
const SIGNATURE_FRAMES = 3;
/** Groups kept; blocks of any further ones are only counted. */
export const MAX_BLOCK_GROUPS = 1000;

export interface BlockGroup {
  readonly key: string;
  /**
   * The stack of a block whose stack came from `stackSource` (they all share the signature's
   * frames): the first one's, until another source has most blocks.
   */
  readonly stack: readonly StackFrame[];
  /** Where most of the group's blocks got their stacks (`sources` counts each). */
  readonly stackSource: StackSource | null;
  readonly sources: StackSourceCounts;
  /** Its blocks with no stack, by why (no-stack-reasons.ts). */
  readonly noStack: NoStackCounts;
  readonly count: number;
  readonly totalUs: number;
  readonly maxUs: number;
  /** The longest block: selecting the group selects its time. */
  readonly longestStartUs: number;
  readonly lastStartUs: number;
}

/**
 * Which group a stack belongs to: the innermost user frames, by line. Not by column: an
 * interrupt taken inside a loop on one line lands on any of its expressions, and a line from
 * samples has no column.
 */
export function groupKey(stack: readonly StackFrame[]): string {
  return userFrames(stack).slice(0, SIGNATURE_FRAMES).map((f) => `${f.functionName}@${f.url}:${f.lineNumber}`).join('|');
}

/** `groups` with one more block in them; `overflow` counts the blocks of groups past the bound. */
export function addBlock(groups: readonly BlockGroup[], overflow: number, report: BlockedReport): { groups: readonly BlockGroup[]; overflow: number } {
  const key = groupKey(report.stack);
  const at = groups.findIndex((g) => g.key === key);
  if (at === -1) {
    if (groups.length >= MAX_BLOCK_GROUPS) return { groups, overflow: overflow + 1 };
    const sources = countSource(NO_SOURCES, report.stackSource ?? null);
    return {
      groups: [...groups, {
        key, stack: report.stack, stackSource: mainSource(sources), sources, noStack: countNoStack(NO_NO_STACK, report), count: 1, totalUs: report.durationUs, maxUs: report.durationUs,
        longestStartUs: report.startUs, lastStartUs: report.startUs,
      }],
      overflow,
    };
  }
  const g = groups[at]!;
  const longer = report.durationUs > g.maxUs;
  const sources = countSource(g.sources, report.stackSource ?? null);
  const main = mainSource(sources);
  // The main source changes only to this block's: the stack shown goes with it, so that a
  // group badged "samples" does not show the interrupt stack its first block had.
  const next: BlockGroup = {
    ...g, stack: main === g.stackSource ? g.stack : report.stack, stackSource: main, sources, noStack: countNoStack(g.noStack, report), count: g.count + 1, totalUs: g.totalUs + report.durationUs, maxUs: longer ? report.durationUs : g.maxUs,
    longestStartUs: longer ? report.startUs : g.longestStartUs, lastStartUs: Math.max(g.lastStartUs, report.startUs),
  };
  return { groups: groups.map((x, i) => (i === at ? next : x)), overflow };
}

/**
 * The groups of the ended blocks plus the blocks still ongoing, the most blocked time first.
 * `ongoing: 'known'` (the live views) adds an ongoing block only to a group that its stack
 * from samples already belongs to. Else it would make a group of its own until it ends: an
 * interrupt served while it lasts may show what runs after it (a native call returns before
 * the interrupt is served), and its samples so far may not hold its heaviest stack yet.
 */
export function groupsWithOngoing(groups: readonly BlockGroup[], blocked: readonly BlockedReport[], ongoing: 'all' | 'known' = 'all'): BlockGroup[] {
  let all = groups;
  let overflow = 0;
  for (const b of blocked) {
    if (b.state === 'ongoing' && (ongoing === 'all' || isKnownOngoing(groups, b))) ({ groups: all, overflow } = addBlock(all, overflow, b));
  }
  return [...all].sort((a, b) => b.totalUs - a.totalUs);
}

/** The keys of the groups a block going on is known to belong to (see groupsWithOngoing). */
export function ongoingKeys(groups: readonly BlockGroup[], blocked: readonly BlockedReport[]): Set<string> {
  return new Set(blocked.filter((b) => b.state === 'ongoing' && isKnownOngoing(groups, b)).map((b) => groupKey(b.stack)));
}

function isKnownOngoing(groups: readonly BlockGroup[], b: BlockedReport): boolean {
  if (b.stackSource !== 'samples') return false;
  const key = groupKey(b.stack);
  return groups.some((g) => g.key === key);
}
