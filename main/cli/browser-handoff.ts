// Hands the web host's URL, token and all, to a browser without putting it on a command line
// or in an environment, where other local users can read it (/proc/<pid>/cmdline): a page only
// this user can read (0600, in a 0700 directory of ours) that sends the browser on to the URL,
// as Jupyter's redirect file does. The browser is given the page's path, which tells nothing.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateDir } from '../server/private-dir';

export interface HandoffPage {
  readonly path: string;
  /** Removes the page (and its directory); safe to call twice. */
  remove(): void;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page: a refresh to `url` at once, and a link to it. Pure. */
export function handoffHtml(url: string): string {
  const href = escapeHtml(url);
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=${href}"><title>loopscope</title></head>
<body><p>Opening loopscope… if nothing happens, <a href="${href}">open it here</a>.</p></body></html>
`;
}

export function writeHandoffPage(url: string): HandoffPage {
  const dir = createPrivateDir();
  const path = join(dir.path, 'open.html');
  try {
    writeFileSync(path, handoffHtml(url), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    dir.remove();
    throw err;
  }
  return { path, remove: () => dir.remove() };
}
