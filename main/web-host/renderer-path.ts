// Where the built UI is: dist/renderer/, beside the bundled CLI or, from the sources (tests),
// in the package's dist/.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function rendererPath(): string {
  const candidates = [join(__dirname, 'renderer'), resolve(__dirname, '../../dist/renderer')];
  const found = candidates.find((c) => existsSync(join(c, 'index.html')));
  if (!found) throw new Error('the UI is not built: run `npm run build` in the loopscope folder');
  return found;
}
