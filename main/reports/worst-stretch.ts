// The worst stretch of a recording: the window (10 s by default) in which the loop ran late
// for the longest in all, i.e. the largest sum of lag over the delay samples taken. Pure and
// incremental: samples go in one at a time, and only one window of them is kept.

import type { GcPause, MetricsSample } from '../../probe/wire';
import { addInterval, emptyLagHistogram, percentileOf } from '../session/lag-histogram';

export const STRETCH_US = 10_000_000;
/**
 * How much later than its start a GC pause may arrive, µs: traced pauses come in batches once a
 * second (probe/gc-trace.ts). A window's pauses are those that began in it, whenever they came.
 */
const GC_LATE_US = 3_000_000;
/**
 * At most this many samples in a window (10 s at the shortest interval, 10 ms, is 1000) and
 * pauses waiting for one: a file whose times stand still must not grow them without bound.
 */
const MAX_WINDOW_SAMPLES = 10_000;
const MAX_RECENT_GC = 100_000;

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

interface Best {
  readonly score: number;
  readonly samples: readonly MetricsSample[];
  readonly startUs: number;
  readonly endUs: number;
  /** The pauses that began in the window, as they arrive. */
  readonly gc: GcPause[];
}

export class WorstStretchFinder {
  private window: MetricsSample[] = [];
  private sum = 0;
  /** Pauses that may still belong to a window ending now: recent starts only. */
  private recentGc: GcPause[] = [];
  private best: Best | undefined;

  constructor(private readonly lengthUs = STRETCH_US) {}

  add(s: MetricsSample): void {
    this.window.push(s);
    this.sum += score(s);
    while (this.window.length > MAX_WINDOW_SAMPLES || (this.window.length > 1 && s.timeUs - (this.window[0]!.timeUs - this.window[0]!.intervalUs) > this.lengthUs)) {
      this.sum -= score(this.window.shift()!);
    }
    this.recentGc.push(...s.gc);
    // Pauses arrive about in order of their starts: dropping from the front is enough.
    let old = 0;
    while (old < this.recentGc.length && (this.recentGc.length - old > MAX_RECENT_GC || this.recentGc[old]!.startUs < s.timeUs - this.lengthUs - GC_LATE_US)) old++;
    if (old > 0) this.recentGc.splice(0, old);
    const best = this.best;
    if (this.sum > (best?.score ?? 0)) {
      const first = this.window[0]!;
      const startUs = first.timeUs - first.intervalUs;
      this.best = { score: this.sum, samples: [...this.window], startUs, endUs: s.timeUs, gc: this.recentGc.filter((g) => g.startUs >= startUs && g.startUs < s.timeUs) };
    } else if (best && s.timeUs - best.endUs <= GC_LATE_US) {
      for (const g of s.gc) if (g.startUs >= best.startUs && g.startUs < best.endUs && best.gc.length < MAX_RECENT_GC) best.gc.push(g);
    }
  }

  /** Undefined when the loop never ran late at all. */
  result(): WorstStretch | undefined {
    const b = this.best;
    if (!b) return undefined;
    const time = b.samples.reduce((t, s) => t + s.intervalUs, 0);
    const lag = b.samples.reduce((h, s) => addInterval(h, s.lag.percentiles, s.lag.count), emptyLagHistogram());
    const lagMaxUs = Math.max(...b.samples.map((s) => s.lag.maxUs));
    return {
      startUs: b.startUs,
      endUs: b.endUs,
      lateUs: b.score,
      lagP99Us: percentileOf(lag, 99, lagMaxUs),
      lagMaxUs,
      utilization: time > 0 ? b.samples.reduce((t, s) => t + s.utilization * s.intervalUs, 0) / time : 0,
      gcCount: b.gc.length,
      gcUs: b.gc.reduce((t, g) => t + g.durationUs, 0),
    };
  }
}

const score = (s: MetricsSample): number => s.lag.meanUs * s.lag.count;
