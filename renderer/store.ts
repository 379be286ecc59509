// The UI's copy of the sessions: events are applied as they come, and React hears about them
// at most once per animation frame, however many batches arrived in between.

import type { SeriesPoint, SessionView, UiEvent } from '../main/ui-api';

/** Points kept per session (ten minutes at the default 100 ms interval). */
const MAX_POINTS = 6000;

export interface SessionData {
  readonly view: SessionView;
  readonly points: readonly SeriesPoint[];
}

export interface Snapshot {
  readonly sessions: ReadonlyMap<string, SessionData>;
}

export class SessionStore {
  private sessions = new Map<string, SessionData>();
  private snapshot: Snapshot = { sessions: new Map() };
  private readonly listeners = new Set<() => void>();
  private frame: number | undefined;

  apply(events: readonly UiEvent[]): void {
    for (const e of events) {
      const before = e.reset ? [] : this.sessions.get(e.view.id)?.points ?? [];
      let points = e.points.length > 0 ? before.concat(e.points) : before;
      if (points.length > MAX_POINTS) points = points.slice(points.length - MAX_POINTS);
      this.sessions.set(e.view.id, { view: e.view, points });
    }
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.snapshot = { sessions: new Map(this.sessions) };
      for (const l of this.listeners) l();
    });
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): Snapshot => this.snapshot;
}
