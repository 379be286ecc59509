// The one window: sandboxed, context-isolated, no Node in the page; it loads the built UI from
// disk (dist/renderer/index.html, whose CSP allows only its own script) and nothing else.

import { BrowserWindow } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface AppWindow {
  readonly window: BrowserWindow;
  /** The page's URL: IPC from anything else is refused. */
  readonly pageUrl: string;
}

export function createWindow(rendererDir: string, preloadFile: string): AppWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 900,
    title: 'loopscope',
    backgroundColor: '#161b22',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const index = join(rendererDir, 'index.html');
  void window.loadFile(index);
  return { window, pageUrl: pathToFileURL(index).href };
}
