// The IPC between the window's preload and the backend. Every message's sender is checked:
// it must be our window's main frame, showing our page. Calls are checked like any other
// untrusted input (main/ui-calls.ts); events are pushed as the backend batches them.

import { ipcMain, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import type { UiApi } from '../ui/ui-api';
import { dispatchCall, isUiMethod, parseShown } from '../ui/ui-calls';
import { IPC } from './ipc-channels';
import type { AppWindow } from './window';

function fromOurPage(event: IpcMainEvent | IpcMainInvokeEvent, w: AppWindow): boolean {
  const frame = event.senderFrame;
  return !w.window.isDestroyed() && event.sender.id === w.window.webContents.id && frame !== null && frame.parent === null && frame.url === w.pageUrl;
}

export function serveIpc(api: UiApi, w: AppWindow): void {
  ipcMain.handle(IPC.call, (event, method: unknown, params: unknown) => {
    if (!fromOurPage(event, w)) throw new Error('refused: not loopscope\'s page');
    if (!isUiMethod(method) || !Array.isArray(params)) throw new Error('refused: not a call');
    return dispatchCall(api, method, params);
  });
  let unsubscribe: (() => void) | undefined;
  // Without `shown`, every session in full; with it (HostApi.show), what the page shows.
  ipcMain.on(IPC.subscribe, (event, shown: unknown) => {
    if (!fromOurPage(event, w)) return;
    let focus: string | null | undefined;
    try {
      focus = shown === undefined ? undefined : parseShown(shown);
    } catch {
      return;
    }
    unsubscribe?.();
    // A reload subscribes again; the old subscription goes with the old page.
    unsubscribe = api.subscribe((events) => {
      if (!event.sender.isDestroyed()) event.sender.send(IPC.events, events);
    }, focus);
  });
  w.window.on('closed', () => unsubscribe?.());
}
