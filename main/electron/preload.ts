// The preload: runs sandboxed beside the page and gives it one narrow object, window.loopscope,
// with exactly the UI's API (main/ui-api.ts) and nothing of Electron or Node.

import { contextBridge, ipcRenderer } from 'electron';
import type { ProbeConfig, UiApi, UiEvent, UiMethod } from '../ui-api';
import { IPC } from './ipc-channels';

const call = <T>(method: UiMethod, ...params: unknown[]): Promise<T> => ipcRenderer.invoke(IPC.call, method, params) as Promise<T>;
const listeners = new Set<(events: readonly UiEvent[]) => void>();
ipcRenderer.on(IPC.events, (_event, events: readonly UiEvent[]) => {
  for (const l of listeners) l(events);
});

const api: UiApi = {
  listProcesses: () => call('listProcesses'),
  attach: (pid: number, config?: Partial<ProbeConfig>) => call('attach', pid, config),
  launch: (command: readonly string[], config?: Partial<ProbeConfig>) => call('launch', command, config),
  launchDemo: (config?: Partial<ProbeConfig>) => call('launchDemo', config),
  configure: (id: string, config: Partial<ProbeConfig>) => call('configure', id, config),
  stop: (id: string) => call('stop', id),
  subscribe(listener) {
    listeners.add(listener);
    // The first subscriber asks for the stream; the backend starts with every session's state.
    if (listeners.size === 1) ipcRenderer.send(IPC.subscribe);
    return () => listeners.delete(listener);
  },
};

contextBridge.exposeInMainWorld('loopscope', api);
