// Fetches the timeline for the window in view, at most FETCH_MS apart however fast the user
// zooms and pans, one request at a time. When following, the window ends at the newest turn
// the last answer reported, so it moves on with the program.

import { useEffect, useRef, useState } from 'react';
import type { TimelineView, UiApi } from '../../main/ui/ui-api';
import { followWindow, spanOf, type TimeWindow } from './timeline-math';

const FETCH_MS = 250;
/** A window that stays put is fetched again this often: a live trace still fills it in. */
const REFRESH_MS = 1000;

export interface TimelineState {
  readonly view: TimelineView | undefined;
  readonly error: string | undefined;
}

export function useTimeline(api: UiApi, sessionId: string, win: TimeWindow, follow: boolean): TimelineState {
  const [state, setState] = useState<TimelineState>({ view: undefined, error: undefined });
  const wanted = useRef({ win, follow });
  wanted.current = { win, follow };

  useEffect(() => {
    let stopped = false;
    let busy = false;
    let lastKey = '';
    let lastAt = 0;
    let latestS = 0;
    const tick = (): void => {
      if (busy) return;
      const { win: w, follow: following } = wanted.current;
      const want = following ? followWindow(latestS, spanOf(w)) : w;
      const key = `${want.fromS}:${want.toS}`;
      if (!following && key === lastKey && performance.now() - lastAt < REFRESH_MS) return;
      busy = true;
      lastKey = key;
      lastAt = performance.now();
      api.timeline(sessionId, want.fromS, want.toS).then(
        (view) => {
          if (stopped) return;
          if (view.extent) latestS = view.extent.toS;
          setState({ view, error: undefined });
        },
        (err: Error) => {
          if (!stopped) setState((s) => ({ view: s.view, error: err.message }));
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
