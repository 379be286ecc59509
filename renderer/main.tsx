// The UI's entry: takes the API from whichever host loaded it (Electron's preload puts it on
// window.loopscope; otherwise the page came from the web host, and talks over its WebSocket).

import { createRoot } from 'react-dom/client';
import type { HostApi } from '../main/ui/ui-api';
import { App } from './App';
import { PartBoundary } from './common/PartBoundary';
import { SessionStore } from './store';
import { connectSocketApi } from './ws-api';

declare global {
  interface Window {
    readonly loopscope?: HostApi;
  }
}

function hostApi(): { api: HostApi; onLost(l: (why: string) => void): void } {
  if (window.loopscope) return { api: window.loopscope, onLost: () => undefined };
  const url = new URL('ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return connectSocketApi(url.href);
}

const { api, onLost } = hostApi();
const store = new SessionStore();
api.subscribe((events) => store.apply(events));
const root = document.getElementById('root');
if (root) createRoot(root).render(<PartBoundary what="The window"><App api={api} store={store} onLost={onLost} /></PartBoundary>);
