// Two screens: Start (pick or launch a process) and Session (one loop of a process). A lost
// connection to loopscope replaces both with what to do about it.

import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { HostApi } from '../main/ui/ui-api';
import { SessionScreen } from './screens/SessionScreen';
import { StartScreen } from './screens/StartScreen';
import type { SessionStore } from './store';

export interface AppProps {
  readonly api: HostApi;
  readonly store: SessionStore;
  readonly onLost: (listener: (why: string) => void) => void;
}

export function App({ api, store, onLost }: AppProps) {
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [current, setCurrent] = useState<string | undefined>(undefined);
  const [lost, setLost] = useState<string | undefined>(undefined);
  useEffect(() => onLost(setLost), [onLost]);
  const back = useCallback(() => setCurrent(undefined), []);
  // The host sends whole only what the window shows.
  useEffect(() => api.show(current ?? null), [api, current]);

  const session = current === undefined ? undefined : snapshot.sessions.get(current);
  // A session shown once and then gone was closed (here or in another window): back to Start.
  // One still listed is on its way (shown again after the window showed another).
  const listed = current !== undefined && snapshot.summaries.has(current);
  const [shown, setShown] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (session) setShown(current);
    else if (current !== undefined && shown === current && !listed) setCurrent(undefined);
  }, [session, current, shown, listed]);

  if (lost) return <main className="state error" role="alert">{lost}</main>;
  if (current !== undefined && !session) return <main className="state">Opening the session…</main>;
  // A worker's or a child process's loop: the group's first session lists every loop.
  const loops = session ? (snapshot.sessions.get(session.view.group)?.view.loops ?? session.view.loops) : [];
  if (session) return <SessionScreen key={current} api={api} data={session} loops={loops} onBack={back} onOpen={setCurrent} />;
  return <StartScreen api={api} sessions={[...snapshot.summaries.values()]} onOpen={setCurrent} />;
}
