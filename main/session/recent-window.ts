// A loop "now": its latest second of samples, and its lag per second before that. Pure; the
// terminal's live view and the window's loop overview both read loops through these.

import type { MetricsSample } from '../../probe/wire';
import { addInterval, emptyLagHistogram, percentileOf } from './lag-histogram';
import type { RecentSamples } from './sample-ring';

/** How much recent history the "now" figures cover. */
export const WINDOW_US = 1_000_000;

/** The samples of the last WINDOW_US, oldest first. */
export function lastWindow(recent: RecentSamples): MetricsSample[] {
  const last = recent.last();
  if (!last) return [];
  const out: MetricsSample[] = [];
  for (let i = recent.length - 1; i >= 0; i--) {
    const s = recent.at(i);
    if (last.timeUs - s.timeUs >= WINDOW_US) break;
    out.push(s);
  }
  return out.reverse();
}

/** Max lag per second-long bucket, the latest last, `points` of them (µs). */
export function lagPerSecond(recent: RecentSamples, points: number): number[] {
  const last = recent.last();
  if (!last) return [];
  const buckets = new Array<number>(points).fill(0);
  for (let i = recent.length - 1; i >= 0; i--) {
    const s = recent.at(i);
    const age = Math.floor((last.timeUs - s.timeUs) / WINDOW_US);
    if (age >= points) break;
    buckets[points - 1 - age] = Math.max(buckets[points - 1 - age]!, s.lag.maxUs);
  }
  return buckets;
}

export interface LoopNow {
  readonly lagP99Us: number;
  readonly lagMaxUs: number;
  /** 0..1, weighted by interval. */
  readonly utilization: number;
}

/** Lag p99 and max and utilization over the last second. */
export function loopNow(recent: RecentSamples): LoopNow {
  const window = lastWindow(recent);
  const lag = window.reduce((h, s) => addInterval(h, s.lag.percentiles, s.lag.count), emptyLagHistogram());
  const lagMaxUs = window.length > 0 ? Math.max(...window.map((s) => s.lag.maxUs)) : 0;
  const time = window.reduce((t, s) => t + s.intervalUs, 0);
  const utilization = time > 0 ? window.reduce((t, s) => t + s.utilization * s.intervalUs, 0) / time : 0;
  return { lagP99Us: percentileOf(lag, 99, lagMaxUs), lagMaxUs, utilization };
}
