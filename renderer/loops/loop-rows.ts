// The loop overview's pure parts: what a loop's and a process's status say, the order of a
// process's loops (the worst first when there are many), and the sparklines' scale (their
// time axis is spark-axis.ts). Pure.

import type { LoopView, ProcessLoops } from '../../main/ui/ui-api';

/** From this many loops in one process on, its loops are listed worst first. */
export const WORST_FIRST_FROM = 4;

/** "live", "ended, exit code 3", "terminated", "ended", "replay". */
export function loopStatusText(loop: LoopView): string {
  if (loop.status !== 'ended') return loop.status;
  if (loop.terminated) return 'terminated';
  return loop.exitCode === null ? 'ended' : `ended, exit code ${loop.exitCode}`;
}

/** A process is ended once its main thread's loop is; it says so with its exit code. Null while it runs. */
export function processEndText(p: ProcessLoops): string | null {
  const main = p.loops.find((l) => l.threadId === 0) ?? p.loops[0];
  if (!main || main.status !== 'ended') return null;
  return main.exitCode === null ? 'ended' : `ended, exit code ${main.exitCode}`;
}

/** The highest lag of the loop's recent seconds (its sparkline's peak). */
export const recentPeakMs = (loop: LoopView): number => loop.recentLagMs.reduce((a, b) => Math.max(a, b), loop.lagMaxMs);

/**
 * A process's loops in the order shown: as they come (main thread first, then workers by
 * thread id) for a few; from WORST_FIRST_FROM on, the most blocked first, then the highest
 * recent lag, so the loop to look at is on top.
 */
export function orderLoops(loops: readonly LoopView[]): readonly LoopView[] {
  if (loops.length < WORST_FIRST_FROM) return loops;
  return [...loops].sort((a, b) => b.blockedCount - a.blockedCount || recentPeakMs(b) - recentPeakMs(a) || a.threadId - b.threadId);
}

/** The sparklines' shared scale: the highest recent lag of any loop, and at least `floorMs`, so idle loops stay flat. */
export function sparkScale(processes: readonly ProcessLoops[], floorMs: number): number {
  let max = floorMs;
  for (const p of processes) for (const l of p.loops) max = Math.max(max, recentPeakMs(l));
  return max;
}

/** How many loops the processes hold. */
export const loopCount = (processes: readonly ProcessLoops[]): number => processes.reduce((n, p) => n + p.loops.length, 0);
