// Whether a process is gone: used wherever loopscope waits on, or cleans up after, another
// process (attach, the late inspector closer, stale private folders).

import { readFileSync } from 'node:fs';

/** Gone, or a zombie waiting for its parent. */
export function hasExited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (process.platform !== 'linux') return false;
  try {
    // The state follows the command name, which is in parentheses and may hold anything.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}
