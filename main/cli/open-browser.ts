// Opens a page in the system browser: a URL, or a file by its path. Where there is none (a
// headless machine, a container), it says so and the caller carries on: the URL has been
// printed for the user to open. What is opened is on the opener's command line, which every
// local user can read: never a secret (see browser-handoff.ts).

import { spawn } from 'node:child_process';

function opener(page: string): [string, string[]] {
  if (process.platform === 'darwin') return ['open', [page]];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', page]];
  return ['xdg-open', [page]];
}

/** Resolves with an error message when the browser could not be opened, undefined otherwise. */
export function openBrowser(page: string): Promise<string | undefined> {
  const [file, args] = opener(page);
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.once('error', (err) => resolve(`cannot open a browser (${file}: ${err.message})`));
    child.once('exit', (code) => resolve(code === 0 ? undefined : `cannot open a browser (${file} exited with code ${code})`));
    child.unref();
  });
}
