// A value that follows its input at most once per `ms`, the latest input winning. Charts are
// the expensive part of a frame: they redraw a few times a second while the rest of the
// screen follows every frame.

import { useEffect, useRef, useState } from 'react';

export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  const latest = useRef(value);
  latest.current = value;
  useEffect(() => {
    const show = (): void => {
      last.current = performance.now();
      setShown(latest.current);
    };
    const wait = last.current + ms - performance.now();
    if (wait <= 0) {
      show();
      return undefined;
    }
    const timer = setTimeout(show, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return shown;
}
