// A paused timeline keeps what it shows. The trace keeps only its latest turns, so the window
// a user stopped on is let go of, bit by bit, while the program runs on; a fresh answer for
// it then holds less than the last one did, and the last one stays. Pure.

import type { TimelineView } from '../../main/ui/ui-api';

const sameWindow = (a: TimelineView, b: TimelineView): boolean => a.fromS === b.fromS && a.toS === b.toS;

/** Whether the trace no longer holds all of `v`'s window. */
const windowLetGo = (v: TimelineView): boolean => v.extent === null || v.extent.fromS > v.fromS;

/** The answer to show, and whether it is the last one kept (the trace has let go of what it showed). */
export function keepPaused(prev: TimelineView | undefined, next: TimelineView): { readonly view: TimelineView; readonly kept: boolean } {
  if (!prev || !sameWindow(prev, next) || !windowLetGo(next)) return { view: next, kept: false };
  const had = prev.turns.length + prev.hiddenTurns;
  const has = next.turns.length + next.hiddenTurns;
  // What the trace holds now (its extent, its settings) is news; the turns are not.
  return had > has ? { view: { ...prev, extent: next.extent, keepS: next.keepS, full: next.full }, kept: true } : { view: next, kept: false };
}
