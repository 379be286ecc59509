// The charts' time axis: seconds since the session began, or the wall clock, with ticks at
// round times and labels with no more decimals than the step needs. Pure.

import { decimalsFor, niceStep, ticksOf } from './nice-ticks';

export interface TimeAxisMode {
  /** Wall clock at t = 0, ms since the epoch; null when not known (then always seconds). */
  readonly startedAtMs: number | null;
  readonly clock: boolean;
}

/** Clock steps a reader expects: seconds and minutes that divide a minute or an hour. */
const CLOCK_STEPS_S = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];

const wallOffsetS = (mode: TimeAxisMode): number | undefined => (mode.clock && mode.startedAtMs !== null ? mode.startedAtMs / 1000 : undefined);

/** Ticks (in t) for [fromS, toS] about `minPx` apart or more over `width` pixels, and their step. */
export function timeTicks(fromS: number, toS: number, width: number, mode: TimeAxisMode, minPx = 80): { ticks: number[]; step: number } {
  const maxTicks = Math.max(1, width / minPx);
  const offset = wallOffsetS(mode);
  if (offset === undefined) {
    const step = niceStep(toS - fromS, maxTicks);
    return { ticks: ticksOf(fromS, toS, step), step };
  }
  const rough = (toS - fromS) / maxTicks;
  const step = CLOCK_STEPS_S.find((s) => s >= rough) ?? CLOCK_STEPS_S[CLOCK_STEPS_S.length - 1]!;
  return { ticks: ticksOf(fromS + offset, toS + offset, step).map((w) => w - offset), step };
}

const two = (n: number): string => String(n).padStart(2, '0');

/** A time on the axis (or in a tooltip, with `step` 0.1): "12.5 s", or "14:03:07.5" on the clock. */
export function formatAxisTime(t: number, step: number, mode: TimeAxisMode): string {
  const offset = wallOffsetS(mode);
  const decimals = decimalsFor(step);
  if (offset === undefined) return `${t.toFixed(decimals)} s`;
  const wall = new Date(Math.round((offset + t) * 1000));
  const seconds = wall.getSeconds() + wall.getMilliseconds() / 1000;
  return `${two(wall.getHours())}:${two(wall.getMinutes())}:${decimals > 0 ? seconds.toFixed(decimals).padStart(3 + decimals, '0') : two(Math.floor(seconds))}`;
}
