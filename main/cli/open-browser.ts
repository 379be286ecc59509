// Opens a URL in the system browser. Where there is none (a headless machine, a container),
// it says so and the caller carries on: the URL has been printed for the user to open.

import { spawn } from 'node:child_process';

function opener(url: string): [string, string[]] {
  if (process.platform === 'darwin') return ['open', [url]];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  return ['xdg-open', [url]];
}

/** Resolves with an error message when the browser could not be opened, undefined otherwise. */
export function openBrowser(url: string): Promise<string | undefined> {
  const [file, args] = opener(url);
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.once('error', (err) => resolve(`cannot open a browser (${file}: ${err.message})`));
    child.once('exit', (code) => resolve(code === 0 ? undefined : `cannot open a browser (${file} exited with code ${code})`));
    child.unref();
  });
}
