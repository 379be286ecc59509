// The preload: runs sandboxed beside the page and gives it one narrow object, window.loopscope,
// with exactly the UI's API (main/ui-api.ts, HostApi) and nothing of Electron or Node.

import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { HostApi, PickedFile, UiApi, UiEvent, UiMethod } from '../ui/ui-api';
import { UI_METHOD_NAMES } from '../ui/ui-calls';
import { IPC } from './ipc-channels';

const call = (method: UiMethod, params: unknown[]): Promise<unknown> => ipcRenderer.invoke(IPC.call, method, params);
const listeners = new Set<(events: readonly UiEvent[]) => void>();
/** What the page shows (HostApi.show); undefined until it says. */
let shown: string | null | undefined;
ipcRenderer.on(IPC.events, (_event, events: readonly UiEvent[]) => {
  for (const l of listeners) l(events);
});

// Every method of the UI's table is a call over IPC, checked again on the other side.
const calls = Object.fromEntries(UI_METHOD_NAMES.map((m) => [m, (...params: unknown[]) => call(m, params)])) as unknown as Omit<UiApi, 'subscribe'>;

const api: HostApi = {
  ...calls,
  // The file is on this machine: the backend opens it where it is, nothing is copied.
  openRecordingFile: (file: PickedFile) => calls.openRecording(webUtils.getPathForFile(file as File)),
  subscribe(listener) {
    listeners.add(listener);
    // The first subscriber asks for the stream; the backend starts with every session's state.
    if (listeners.size === 1) ipcRenderer.send(IPC.subscribe, ...(shown === undefined ? [] : [shown]));
    return () => listeners.delete(listener);
  },
  // The backend subscribes the page again, with what it shows.
  show(sessionId) {
    shown = sessionId;
    ipcRenderer.send(IPC.subscribe, sessionId);
  },
};

contextBridge.exposeInMainWorld('loopscope', api);
