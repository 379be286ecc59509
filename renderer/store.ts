// The UI's copy of the sessions: events are applied as they come, and React hears about them
// at most once per animation frame, however many batches arrived in between. The sessions the
// window shows come whole (view and points); every session comes as its summary.

import type { SeriesPoint, SessionSummary, SessionView, UiEvent } from '../main/ui/ui-api';
import { keepEqual } from './keep-equal';
import { keepRecent } from './keep-recent';
import { revise } from './revise-points';

/**
 * Seconds of points kept per session: the charts' window (SessionScreen's WINDOW_S). Nothing
 * older is drawn, and keeping ten minutes of them grew the page for a session's first ten.
 */
const KEPT_S = 120;
/** And at most this many points, whatever the interval (a minute at 10 ms). */
const MAX_POINTS = 6000;

export interface SessionData {
  readonly view: SessionView;
  readonly points: readonly SeriesPoint[];
}

export interface Snapshot {
  /** The sessions the host sends whole (what the window shows). */
  readonly sessions: ReadonlyMap<string, SessionData>;
  /** Every session, once the window has said what it shows (HostApi.show). */
  readonly summaries: ReadonlyMap<string, SessionSummary>;
}

export class SessionStore {
  private sessions = new Map<string, SessionData>();
  private summaries = new Map<string, SessionSummary>();
  private snapshot: Snapshot = { sessions: new Map(), summaries: new Map() };
  private readonly listeners = new Set<() => void>();
  private frame: number | undefined;

  apply(events: readonly UiEvent[]): void {
    let changed = false;
    for (const e of events) {
      if (e.kind === 'closed') {
        changed = this.summaries.delete(e.id) || changed;
        changed = this.sessions.delete(e.id) || changed;
        continue;
      }
      if (e.kind === 'summary') {
        this.summaries.set(e.summary.id, e.summary);
        // Shown no more: its next view comes whole, with all its points.
        if (!e.shown) this.sessions.delete(e.summary.id);
        changed = true;
        continue;
      }
      const old = this.sessions.get(e.view.id);
      // Most updates under a flood change nothing that is shown: those wake no one.
      const view = keepEqual(old?.view, e.view);
      const { revised } = e;
      if (old && view === old.view && e.points.length === 0 && revised.length === 0 && !e.reset) continue;
      const before = e.reset ? [] : revise(old?.points ?? [], revised);
      const points = e.points.length > 0 ? keepRecent(before.concat(e.points), KEPT_S, MAX_POINTS) : before;
      this.sessions.set(e.view.id, { view, points });
      changed = true;
    }
    if (!changed) return;
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.snapshot = { sessions: new Map(this.sessions), summaries: new Map(this.summaries) };
      for (const l of this.listeners) l();
    });
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): Snapshot => this.snapshot;
}
