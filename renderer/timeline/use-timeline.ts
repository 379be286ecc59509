// Fetches the timeline for the window in view, at most FETCH_MS apart however fast the user
// zooms and pans, one request at a time. When following, the window ends at the newest turn
// the last answer reported (in replay: at the replay's position), so it moves on with the
// program; when paused, it keeps what it showed (paused-view.ts).

import { useEffect, useRef, useState } from 'react';
import type { TimelineView, UiApi } from '../../main/ui/ui-api';
import { keepPaused } from './paused-view';
import { followWindow, spanOf, type TimeWindow } from './timeline-math';

const FETCH_MS = 250;
/** A window that stays put is fetched again this often: a live trace still fills it in. */
const REFRESH_MS = 1000;

export interface TimelineState {
  readonly view: TimelineView | undefined;
  readonly error: string | undefined;
  /** The view is an earlier answer, kept: the trace has since let go of some of it. */
  readonly kept: boolean;
}

/** `replayS`: a replay's position (null live), which a followed window ends at. */
export function useTimeline(api: UiApi, sessionId: string, win: TimeWindow, follow: boolean, replayS: number | null): TimelineState {
  const [state, setState] = useState<TimelineState>({ view: undefined, error: undefined, kept: false });
  const wanted = useRef({ win, follow, replayS });
  wanted.current = { win, follow, replayS };

  useEffect(() => {
    let stopped = false;
    let busy = false;
    let lastKey = '';
    let lastAt = 0;
    let latestS = 0;
    const tick = (): void => {
      if (busy) return;
      const { win: w, follow: following, replayS: position } = wanted.current;
      const want = following ? followWindow(position ?? latestS, spanOf(w), 0) : w;
      const key = `${want.fromS}:${want.toS}`;
      if (!following && key === lastKey && performance.now() - lastAt < REFRESH_MS) return;
      busy = true;
      lastKey = key;
      lastAt = performance.now();
      api.timeline(sessionId, want.fromS, want.toS).then(
        (view) => {
          if (stopped) return;
          if (view.extent) latestS = view.extent.toS;
          setState((s) => ({ ...(following ? { view, kept: false } : keepPaused(s.view, view)), error: undefined }));
        },
        (err: Error) => {
          if (!stopped) setState((s) => ({ ...s, error: err.message }));
        },
      ).finally(() => (busy = false));
    };
    tick();
    const timer = setInterval(tick, FETCH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, sessionId]);

  return state;
}
