// The preload: runs sandboxed beside the page and gives it one narrow object, window.loopscope,
// with exactly the UI's API (main/ui-api.ts, HostApi) and nothing of Electron or Node.

import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { HostApi, PickedFile, ProbeConfig, ReplayCommand, UiEvent, UiMethod } from '../ui/ui-api';
import { IPC } from './ipc-channels';

const call = <T>(method: UiMethod, ...params: unknown[]): Promise<T> => ipcRenderer.invoke(IPC.call, method, params) as Promise<T>;
const listeners = new Set<(events: readonly UiEvent[]) => void>();
ipcRenderer.on(IPC.events, (_event, events: readonly UiEvent[]) => {
  for (const l of listeners) l(events);
});

const api: HostApi = {
  listProcesses: () => call('listProcesses'),
  attach: (pid: number, config?: Partial<ProbeConfig>) => call('attach', pid, config),
  launch: (command: readonly string[], config?: Partial<ProbeConfig>) => call('launch', command, config),
  launchDemo: (config?: Partial<ProbeConfig>) => call('launchDemo', config),
  configure: (id: string, config: Partial<ProbeConfig>) => call('configure', id, config),
  stop: (id: string) => call('stop', id),
  openRecording: (path: string) => call('openRecording', path),
  recentRecordings: () => call('recentRecordings'),
  replay: (id: string, command: ReplayCommand) => call('replay', id, command),
  startRecording: (id: string) => call('startRecording', id),
  stopRecording: (id: string) => call('stopRecording', id),
  close: (id: string) => call('close', id),
  openInEditor: (url: string, line: number, column: number) => call('openInEditor', url, line, column),
  timeline: (id: string, fromS: number, toS: number) => call('timeline', id, fromS, toS),
  causality: (id: string, asyncId: number) => call('causality', id, asyncId),
  // The file is on this machine: the backend opens it where it is, nothing is copied.
  openRecordingFile: (file: PickedFile) => call('openRecording', webUtils.getPathForFile(file as File)),
  subscribe(listener) {
    listeners.add(listener);
    // The first subscriber asks for the stream; the backend starts with every session's state.
    if (listeners.size === 1) ipcRenderer.send(IPC.subscribe);
    return () => listeners.delete(listener);
  },
};

contextBridge.exposeInMainWorld('loopscope', api);
