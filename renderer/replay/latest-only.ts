// Dragging the scrubber asks for a seek per pixel; each takes a round trip and may cost the
// backend a keyframe load. One runs at a time, and while it does only the latest value waits.

export function latestOnly<T>(run: (value: T) => Promise<unknown>, onError: (err: Error) => void): (value: T) => void {
  let running = false;
  let waiting: { value: T } | undefined;
  const next = (value: T): void => {
    running = true;
    run(value).catch(onError).finally(() => {
      running = false;
      const w = waiting;
      waiting = undefined;
      if (w) next(w.value);
    });
  };
  return (value) => {
    if (running) waiting = { value };
    else next(value);
  };
}
