// How a launched program ended, in words. Pure.

import type { ExitView } from '../../main/ui/ui-api';

export function exitText(exit: ExitView): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? '?'}`;
}
