// The scrubber's arithmetic: where a mark goes, and which marks share a pixel column. Pure.

import type { BlockedView, ReplayMark } from '../../main/ui/ui-api';

export interface MarkColumn {
  /** 0..1 across the scrubber. */
  readonly at: number;
  readonly kind: ReplayMark['kind'];
  /** The marks of its kind in it: its blocked loops, when it has any (the bar counts those). */
  readonly count: number;
  /** The longest mark in the column, for its tooltip and where a click on it goes. */
  readonly longest: ReplayMark;
}

/**
 * The marks, one per column of `columns` (the scrubber's width in pixels, or less): a
 * thousand blocked loops in one pixel are one mark, and blocked loops win over GC pauses.
 * A mark before the start (a block at the program's start, before the first sample the
 * scrubber starts at, or one going on when the recording began) goes in the first column.
 */
export function markColumns(marks: readonly ReplayMark[], startS: number, endS: number, columns: number): MarkColumn[] {
  const span = endS - startS;
  const n = Math.max(1, Math.floor(columns));
  if (!(span > 0)) return [];
  const byColumn = new Map<number, { kind: ReplayMark['kind']; count: number; longest: ReplayMark }>();
  for (const m of marks) {
    if (m.t > endS) continue;
    const c = Math.min(n - 1, Math.floor((Math.max(0, m.t - startS) / span) * n));
    const cell = byColumn.get(c);
    if (!cell) byColumn.set(c, { kind: m.kind, count: 1, longest: m });
    else {
      if (m.kind === 'blocked' && cell.kind === 'gc') Object.assign(cell, { kind: 'blocked', count: 1, longest: m });
      else if (m.kind === cell.kind) {
        cell.count++;
        if (m.durationMs > cell.longest.durationMs) cell.longest = m;
      }
    }
  }
  return [...byColumn].sort((a, b) => a[0] - b[0]).map(([c, cell]) => ({ at: (c + 0.5) / n, ...cell }));
}

/** "1:02.5" for seconds; negative times (before the first sample) as "-0:00.1". */
export function formatReplayTime(s: number): string {
  const sign = s < 0 ? '-' : '';
  const abs = Math.abs(s);
  const minutes = Math.floor(abs / 60);
  const seconds = abs - minutes * 60;
  return `${sign}${minutes}:${seconds.toFixed(1).padStart(4, '0')}`;
}

/** After a seek to a block, where the replay stands: just past its end, with its report in and its lag spike drawn. */
export const PAST_BLOCK_S = 0.25;

/** Past the time a report is in the file: the replay clock's position comes back rounded. */
const REPORTED_SLACK_S = 0.002;

/**
 * The next (`direction` 1) or previous (-1) blocked loop from `positionS`, and where it is to
 * be seen: just past its end, once its first report is in (a block the watchdog missed is
 * reported a second or so later). Undefined when there is none that way.
 */
export function blockStep(marks: readonly ReplayMark[], positionS: number, direction: 1 | -1): { readonly mark: ReplayMark; readonly t: number } | undefined {
  const seenAt = (m: ReplayMark): number => Math.max(m.t + m.durationMs / 1000 + PAST_BLOCK_S, m.reportedT === undefined ? -Infinity : m.reportedT + REPORTED_SLACK_S);
  const at = marks.filter((m) => m.kind === 'blocked').map((mark) => ({ mark, t: seenAt(mark) })).sort((a, b) => a.t - b.t);
  // A hair of slack: the replay clock reports the position it was sent back rounded.
  const slack = 0.01;
  return direction === 1 ? at.find((s) => s.t > positionS + slack) : at.reverse().find((s) => s.t < positionS - slack);
}

/** Seconds an arrow key moves the scrubber (with Shift: ten times as far). */
export const ARROW_STEP_S = 1;

/** The report a blocked mark is of: by its id, or (a mark without one) the one starting there. */
export function markedReport(blocked: readonly BlockedView[], mark: ReplayMark): BlockedView | undefined {
  return mark.id === undefined ? blocked.find((b) => Math.abs(b.t - mark.t) < 0.001) : blocked.find((b) => b.id === mark.id);
}
