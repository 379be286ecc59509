// Where the built probe is. It must be a plain file on disk (never inside an asar archive):
// the target is a plain Node process that loads it by absolute path.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function probePath(): string {
  const candidates = [
    process.env['LOOPSCOPE_PROBE_PATH'],
    // The packaged desktop app ships it beside its asar archive (electron-builder's extraResources).
    process.resourcesPath === undefined ? undefined : join(process.resourcesPath, 'probe.js'),
    join(__dirname, 'probe.js'), // beside the bundled CLI, in dist/
    resolve(__dirname, '../../dist/probe.js'), // from the sources, as the tests run them
  ];
  for (const c of candidates) if (c && existsSync(c)) return resolve(c);
  throw new Error('the probe is not built: run `npm run build` in the loopscope folder');
}
