// The loop overview's pure parts: what a loop's and a process's status say, the order of a
// process's loops (the worst first when there are many), and a sparkline's points. Pure.

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

/**
 * An SVG polyline's points for `values` in a box of `width` × `height`, 0 at the bottom and
 * `scaleMax` (or more, clipped) at the top; the latest value at the right edge, with
 * `slots` values filling the whole width (fewer at a session's start start further right).
 */
export function sparkPoints(values: readonly number[], slots: number, width: number, height: number, scaleMax: number): string {
  if (values.length === 0 || slots < 2 || scaleMax <= 0) return '';
  const step = width / (slots - 1);
  const first = slots - Math.min(values.length, slots);
  const shown = values.slice(-slots);
  const y = (v: number): number => height - (Math.min(Math.max(v, 0), scaleMax) / scaleMax) * height;
  return shown.map((v, i) => `${round1((first + i) * step)},${round1(y(v))}`).join(' ');
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The sparklines' shared scale: the highest recent lag of any loop, and at least `floorMs`, so idle loops stay flat. */
export function sparkScale(processes: readonly ProcessLoops[], floorMs: number): number {
  let max = floorMs;
  for (const p of processes) for (const l of p.loops) max = Math.max(max, recentPeakMs(l));
  return max;
}

/** How many loops the processes hold. */
export const loopCount = (processes: readonly ProcessLoops[]): number => processes.reduce((n, p) => n + p.loops.length, 0);
