// Space plays and pauses the replay wherever focus is in the window, but where Space already
// means something (space-key.ts), which keeps its own meaning.

import { useEffect, useRef } from 'react';
import { spaceIsTaken, type KeyTarget } from './space-key';

function keyTargetOf(target: EventTarget | null): KeyTarget | undefined {
  if (!(target instanceof HTMLElement)) return undefined;
  return {
    tagName: target.tagName,
    type: target instanceof HTMLInputElement ? target.type : undefined,
    role: target.getAttribute('role'),
    hasHref: target.hasAttribute('href'),
    editable: target.isContentEditable,
  };
}

/** Calls `toggle` on Space pressed anywhere in the window, while the caller is mounted. */
export function useSpaceKey(toggle: () => void): void {
  // The listener stays for the caller's life; it calls the toggle of the latest render.
  const latest = useRef(toggle);
  useEffect(() => {
    latest.current = toggle;
  });
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent): void => {
      // Held down, Space would toggle at the keyboard's repeat rate.
      if (e.key !== ' ' || e.repeat || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      const target = keyTargetOf(e.target);
      if (target && spaceIsTaken(target)) return;
      // Else it scrolls the page.
      e.preventDefault();
      latest.current();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
