// The worst stretch of a recording: the window (10 s by default) in which the loop ran late
// for the longest in all, i.e. the largest sum of lag over the delay samples taken. Pure and
// incremental: samples go in one at a time, and only one window of them is kept.

import type { MetricsSample } from '../../probe/wire';
import { addInterval, emptyLagHistogram, percentileOf } from '../session/lag-histogram';

export const STRETCH_US = 10_000_000;

export interface WorstStretch {
  /** µs since the target's time origin: the start of the first interval and the end of the last. */
  readonly startUs: number;
  readonly endUs: number;
  /** Sum of lag over the window's delay samples, µs: how late the loop ran in all. */
  readonly lateUs: number;
  readonly lagP99Us: number;
  readonly lagMaxUs: number;
  readonly utilization: number;
  readonly gcCount: number;
  readonly gcUs: number;
}

export class WorstStretchFinder {
  private window: MetricsSample[] = [];
  private sum = 0;
  private best: { score: number; samples: MetricsSample[] } | undefined;

  constructor(private readonly lengthUs = STRETCH_US) {}

  add(s: MetricsSample): void {
    this.window.push(s);
    this.sum += score(s);
    while (this.window.length > 1 && s.timeUs - (this.window[0]!.timeUs - this.window[0]!.intervalUs) > this.lengthUs) {
      this.sum -= score(this.window.shift()!);
    }
    if (this.sum > (this.best?.score ?? 0)) this.best = { score: this.sum, samples: [...this.window] };
  }

  /** Undefined when the loop never ran late at all. */
  result(): WorstStretch | undefined {
    const b = this.best;
    if (!b) return undefined;
    const first = b.samples[0]!;
    const time = b.samples.reduce((t, s) => t + s.intervalUs, 0);
    const lag = b.samples.reduce((h, s) => addInterval(h, s.lag.percentiles, s.lag.count), emptyLagHistogram());
    return {
      startUs: first.timeUs - first.intervalUs,
      endUs: b.samples[b.samples.length - 1]!.timeUs,
      lateUs: b.score,
      lagP99Us: percentileOf(lag, 99),
      lagMaxUs: Math.max(...b.samples.map((s) => s.lag.maxUs)),
      utilization: time > 0 ? b.samples.reduce((t, s) => t + s.utilization * s.intervalUs, 0) / time : 0,
      gcCount: b.samples.reduce((n, s) => n + s.gc.length, 0),
      gcUs: b.samples.reduce((n, s) => n + s.gc.reduce((t, g) => t + g.durationUs, 0), 0),
    };
  }
}

const score = (s: MetricsSample): number => s.lag.meanUs * s.lag.count;
