// Where the built-in demo target is: beside the package (main/demo/, shipped in `files`),
// whether this code runs from the sources or from a bundle in dist/.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export function demoPath(): string {
  const candidates = [
    resolve(__dirname, 'demo-app.js'), // from the sources
    resolve(__dirname, '../main/demo/demo-app.js'), // from dist/
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error('the demo app (main/demo/demo-app.js) is missing from this loopscope');
  return found;
}
