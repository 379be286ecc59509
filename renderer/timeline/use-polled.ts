// A value loaded now and again every `everyMs`, until `key` changes (then loaded afresh) or the
// component goes. One load at a time; an answer that comes after a change of key is dropped.

import { useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  readonly value: T | undefined;
  readonly error: string | undefined;
}

export function usePolled<T>(load: () => Promise<T>, key: string, everyMs: number): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ value: undefined, error: undefined });
  const latest = useRef(load);
  latest.current = load;

  useEffect(() => {
    let stopped = false;
    let busy = false;
    setState({ value: undefined, error: undefined });
    const tick = (): void => {
      if (busy) return;
      busy = true;
      latest.current().then(
        (value) => !stopped && setState({ value, error: undefined }),
        (err: Error) => !stopped && setState((s) => ({ value: s.value, error: err.message })),
      ).finally(() => (busy = false));
    };
    tick();
    const timer = setInterval(tick, everyMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [key, everyMs]);

  return state;
}
