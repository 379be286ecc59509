// A value that follows its input on this component's turn at drawing (frame-turns.ts): charts
// take the new data one per animation frame. The first value is shown at once.

import { useEffect, useState } from 'react';
import { FrameTurns } from './frame-turns';

const turns = new FrameTurns((run) => requestAnimationFrame(run));

export function useFrameTurn<T>(value: T): T {
  const [owner] = useState(() => ({}));
  const [shown, setShown] = useState(value);
  useEffect(() => turns.request(owner, () => setShown(() => value)), [owner, value]);
  useEffect(() => () => turns.cancel(owner), [owner]);
  return shown;
}
