// What a rising heap floor (session/heap-floor.ts) means, in a sentence: the summary and the
// window's key findings say the same. Pure, with no Node API.

import { formatBytes } from './format';

export interface RisingFloor {
  readonly firstBytes: number;
  readonly lastBytes: number;
}

export function risingFloorText(r: RisingFloor): string {
  return `the heap's floor (its lowest, after GC) rose from ${formatBytes(r.firstBytes)} in the session's first quarter to ${formatBytes(r.lastBytes)} in its last: memory the program keeps (a leak, or a cache filling); a heap snapshot (node --heapsnapshot-signal, or DevTools) shows what holds it`;
}
