// A log-bucketed histogram of loop lag across a whole session, built by merging the
// per-interval percentile distributions the probe sends. Pure data and functions.

/** Bucket i holds values in [GROWTH^(i-1), GROWTH^i) µs; bucket 0 holds values below 1 µs. */
const GROWTH = 1.02;
export const LAG_BUCKETS = 1200; // up to ~20,000 s: far beyond any lag worth measuring

export interface LagHistogram {
  readonly counts: readonly number[];
  readonly total: number;
}

export const emptyLagHistogram = (): LagHistogram => ({ counts: new Array<number>(LAG_BUCKETS).fill(0), total: 0 });

function bucketOf(us: number): number {
  if (!(us >= 1)) return 0;
  return Math.min(LAG_BUCKETS - 1, 1 + Math.floor(Math.log(us) / Math.log(GROWTH)));
}

/** A representative value for a bucket, µs: its geometric midpoint. */
export function lagBucketValueUs(bucket: number): number {
  if (bucket === 0) return 0;
  return Math.pow(GROWTH, bucket - 0.5);
}

/**
 * Adds one interval: `percentiles` are [percentile, lag µs] pairs in rising order, as
 * HdrHistogram iterates them, and `count` the number of samples they describe.
 */
export function addInterval(h: LagHistogram, percentiles: readonly (readonly [number, number])[], count: number): LagHistogram {
  if (count <= 0 || percentiles.length === 0) return h;
  const counts = h.counts.slice();
  return { counts, total: h.total + addIntervalInto(counts, percentiles, count) };
}

/** addInterval into `counts` itself (for a pass over many intervals); returns the mass added. */
export function addIntervalInto(counts: number[], percentiles: readonly (readonly [number, number])[], count: number): number {
  if (count <= 0) return 0;
  let previous = 0;
  let added = 0;
  for (const [p, value] of percentiles) {
    const mass = ((Math.min(100, p) - previous) / 100) * count;
    if (mass > 0) {
      counts[bucketOf(value)]! += mass;
      added += mass;
    }
    previous = Math.max(previous, Math.min(100, p));
  }
  return added;
}

/**
 * The value at percentile p (0..100), in µs; 0 for an empty histogram. A bucket's value may
 * be above the largest lag that went into it: `maxUs`, the largest known, caps it.
 */
export function percentileOf(h: LagHistogram, p: number, maxUs = Infinity): number {
  if (h.total <= 0) return 0;
  const rank = (p / 100) * h.total;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!;
    if (seen >= rank && h.counts[i]! > 0) return Math.min(lagBucketValueUs(i), maxUs);
  }
  return Math.min(lagBucketValueUs(h.counts.length - 1), maxUs);
}
