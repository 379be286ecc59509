// How a launched program ended, in words. Pure.

import type { ExitView } from '../../main/ui/ui-api';

/** "exited with code 3", "was killed by SIGKILL", "was stopped (SIGTERM)". */
export function exitText(exit: ExitView): string {
  if (exit.stopped) return `was stopped (${exit.signal ?? `code ${exit.code ?? '?'}`})`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? '?'}`;
}

/** Whether an ending is news: loopscope did not ask for it, and it was not a clean exit. */
export const exitIsBad = (exit: ExitView): boolean => !exit.stopped && exit.code !== 0;
