// Explicit-bucket histograms, as OTLP and Prometheus carry them: a few fixed bounds in
// seconds, cumulative over a loop's session. Filled from single values (GC pauses, blocks),
// or converted from the finer histograms loopscope already holds (the whole session's lag,
// the thread pool's waits). Pure.

import { bucketUpperUs, type SparseHistogram } from '../../probe/log-histogram';
import { lagBucketValueUs, type LagHistogram } from '../session/lag-histogram';

export interface Buckets {
  /** Upper bounds in seconds, rising; the last bucket has no bound (+Inf). */
  readonly bounds: readonly number[];
  /** bounds.length + 1 counts. */
  readonly counts: readonly number[];
  readonly count: number;
  /** Sum of the values, seconds. */
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

export const LAG_BOUNDS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const GC_BOUNDS_S = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
export const BLOCKED_BOUNDS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export const POOL_WAIT_BOUNDS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/** A histogram that single values are recorded into. */
export class BucketRecorder {
  private readonly counts: number[];
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  record(seconds: number): void {
    this.counts[bucketIndex(this.bounds, seconds)]!++;
    this.count++;
    this.sum += seconds;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
  }

  get snapshot(): Buckets {
    return { bounds: this.bounds, counts: this.counts.slice(), count: this.count, sum: this.sum, min: this.count > 0 ? this.min : 0, max: this.count > 0 ? this.max : 0 };
  }
}

function bucketIndex(bounds: readonly number[], value: number): number {
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  return i;
}

/**
 * Whole counts from fractional masses (a merged lag histogram holds shares of intervals):
 * the cumulative masses are rounded, so the counts add up to the rounded total.
 */
function wholeCounts(masses: readonly number[]): number[] {
  const out: number[] = [];
  let cumulative = 0;
  let previous = 0;
  for (const m of masses) {
    cumulative += m;
    const rounded = Math.round(cumulative);
    out.push(rounded - previous);
    previous = rounded;
  }
  return out;
}

/**
 * The session's lag histogram at the export bounds. Each fine bucket (2% wide) goes whole to
 * the bucket its midpoint falls in, and counts its midpoint toward the sum: both within 1%.
 */
export function lagBuckets(h: LagHistogram, maxUs: number): Buckets {
  const masses = new Array<number>(LAG_BOUNDS_S.length + 1).fill(0);
  let sum = 0;
  let min = Infinity;
  for (let i = 0; i < h.counts.length; i++) {
    const mass = h.counts[i]!;
    if (!(mass > 0)) continue;
    const seconds = Math.min(lagBucketValueUs(i), maxUs) / 1e6;
    masses[bucketIndex(LAG_BOUNDS_S, seconds)]! += mass;
    sum += mass * seconds;
    if (seconds < min) min = seconds;
  }
  const counts = wholeCounts(masses);
  const count = counts.reduce((a, b) => a + b, 0);
  return { bounds: LAG_BOUNDS_S, counts, count, sum, min: count > 0 ? min : 0, max: count > 0 ? maxUs / 1e6 : 0 };
}

/** A log histogram of µs (the probe's) at `bounds`; each bucket counted at its upper bound. */
export function sparseBuckets(h: SparseHistogram, bounds: readonly number[], maxUs: number): Buckets {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let count = 0;
  let sum = 0;
  let min = Infinity;
  for (const [bucket, n] of h) {
    const seconds = Math.min(bucketUpperUs(bucket), maxUs) / 1e6;
    counts[bucketIndex(bounds, seconds)]! += n;
    count += n;
    sum += n * seconds;
    if (seconds < min) min = seconds;
  }
  return { bounds, counts, count, sum, min: count > 0 ? min : 0, max: count > 0 ? maxUs / 1e6 : 0 };
}
