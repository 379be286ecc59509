// The folder a recording goes into, made with its missing parents (0700). Not mkdirSync's
// `recursive`: Node's loops for ever on a path whose folder cannot be made but whose parent
// exists and reports it missing again (`--record-dir /proc/sys/x` hung loopscope at 100% CPU).

import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Makes `dir` and its missing parents; throws the file system's error for the first that cannot be made. */
export function makeRecordingDir(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    try {
      if (statSync(at).isDirectory()) break;
      throw Object.assign(new Error(`${at} is not a folder`), { code: 'ENOTDIR' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw err;
    }
    missing.push(at);
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      // Made meanwhile by someone else: as good.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw err;
    }
  }
}
