// The desktop app's entry (Electron's main process): lock down, start the backend, open the
// window, serve its IPC. Everything it calls is plain Node, tested without Electron.

import { app } from 'electron';
import { join } from 'node:path';
import { UiBackend } from '../ui/ui-backend';
import { rendererPath } from '../web-host/renderer-path';
import { serveIpc } from './ipc';
import { lockDown } from './security';
import { createWindow } from './window';

lockDown();

app.whenReady().then(async () => {
  const backend = await UiBackend.start();
  const w = createWindow(rendererPath(), join(__dirname, 'preload.js'));
  serveIpc(backend, w);
  app.on('window-all-closed', () => {
    void backend.shutdown().finally(() => app.quit());
  });
}, (err: unknown) => {
  process.stderr.write(`loopscope: the desktop app could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  app.exit(70);
});
