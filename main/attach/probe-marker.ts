// Telling from outside that a loopscope probe runs inside a process: while it runs, the probe
// holds its own file open (probe/main-thread.ts), so it shows among the process's open files.

import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { probePath } from '../launch/probe-path';

const verdicts = new Map<string, boolean>();

function ownProbe(): string | undefined {
  try {
    return realpathSync(probePath());
  } catch {
    return undefined;
  }
}

/**
 * Whether an open file is a loopscope probe: this loopscope's, or one of another loopscope
 * install (a probe.js beside a package.json named loopscope, one folder up).
 */
export function isProbeFile(path: string): boolean {
  if (basename(path) !== 'probe.js') return false;
  const known = verdicts.get(path);
  if (known !== undefined) return known;
  let verdict = path === ownProbe();
  if (!verdict) {
    try {
      const pkg = JSON.parse(readFileSync(join(dirname(path), '..', 'package.json'), 'utf8')) as { name?: unknown };
      verdict = pkg.name === 'loopscope';
    } catch {
      verdict = false;
    }
  }
  verdicts.set(path, verdict);
  return verdict;
}
