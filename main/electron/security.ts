// Electron's security checklist, the parts that are app-wide: no navigation, no new windows,
// no permissions but writing text to the clipboard, no webviews. Whatever a page tries, it stays the one page we loaded.

import { app, session } from 'electron';

export function lockDown(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (e) => e.preventDefault());
    contents.on('will-redirect', (e) => e.preventDefault());
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  app.whenReady().then(() => {
    // Copying a stack frame's location is the one thing the page may do outside itself.
    const allowed = (permission: string): boolean => permission === 'clipboard-sanitized-write';
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(allowed(permission)));
    session.defaultSession.setPermissionCheckHandler((_contents, permission) => allowed(permission));
  }, () => undefined);
}
