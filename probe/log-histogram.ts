// Log-bucketed histograms of durations in microseconds: cheap to fill on the target's main
// thread (an array increment), exact to merge across intervals, and compact on the wire.
// Pure; shared by the probe (which fills them) and main (which merges and reads them).

/** Sub-buckets per power of two: ~9% between bucket bounds. */
const SUB = 8;
/** Bucket 0 holds values below 1 µs; the last one everything from 2^30 µs (~18 min) up. */
export const LOG_BUCKETS = 1 + 30 * SUB + 1;

export function bucketOf(us: number): number {
  if (!(us >= 1)) return 0;
  const b = 1 + Math.floor(Math.log2(us) * SUB);
  return b < LOG_BUCKETS ? b : LOG_BUCKETS - 1;
}

/** Buckets of the counts below this, looked up (fan-out counts are small integers, and come per callback). */
const SMALL_COUNTS = 1024;
const COUNT_BUCKETS = Uint16Array.from({ length: SMALL_COUNTS }, (_, n) => bucketOf(n));

/** bucketOf() of a count (an integer ≥ 0), without a logarithm for small ones. */
export function bucketOfCount(n: number): number {
  return n < SMALL_COUNTS ? COUNT_BUCKETS[n]! : bucketOf(n);
}

/** Upper bound of a bucket, µs: a percentile read from buckets never understates. */
export function bucketUpperUs(bucket: number): number {
  if (bucket <= 0) return 1;
  return Math.pow(2, bucket / SUB);
}

/** Sparse form for the wire: [bucket, count] pairs of the non-empty buckets. */
export type SparseHistogram = readonly (readonly [number, number])[];

export function toSparse(counts: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) out.push([i, counts[i]!]);
  return out;
}

export function mergeSparse(a: SparseHistogram, b: SparseHistogram): [number, number][] {
  const m = new Map<number, number>(a.map(([k, v]) => [k, v]));
  for (const [k, v] of b) m.set(k, (m.get(k) ?? 0) + v);
  return [...m].sort((x, y) => x[0] - y[0]);
}

export function countOf(h: SparseHistogram): number {
  return h.reduce((n, [, c]) => n + c, 0);
}

/** The bucket percentile p (0..100) falls in; -1 when empty. */
function bucketAt(h: SparseHistogram, p: number): number {
  const total = countOf(h);
  if (total === 0) return -1;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [bucket, count] of h) {
    seen += count;
    if (seen >= rank) return bucket;
  }
  return h[h.length - 1]![0];
}

/**
 * Percentile p (0..100) in µs, as the upper bound of the bucket it falls in; 0 when empty.
 * The bound may lie above every value that went into the bucket: `maxUs`, the largest value
 * known, caps it (a p99 of 9% more than the maximum would be read as a real figure). It never
 * lies under the smallest value: that is in the same bucket or a lower one.
 */
export function percentileUs(h: SparseHistogram, p: number, maxUs = Infinity): number {
  const bucket = bucketAt(h, p);
  return bucket < 0 ? 0 : Math.min(maxUs, bucketUpperUs(bucket));
}

/**
 * The largest whole number in a bucket of counts (bucketOfCount): the upper bound is not in
 * the bucket, and counts are whole, so bucket 48, below 64, holds 59 to 63; bucket 0 holds 0.
 */
export function bucketLargestCount(bucket: number): number {
  return bucket <= 0 ? 0 : Math.ceil(bucketUpperUs(bucket)) - 1;
}

/** percentileUs for a histogram of counts (bucketOfCount), capped by `max`, the largest count seen. */
export function countPercentile(h: SparseHistogram, p: number, max: number): number {
  const bucket = bucketAt(h, p);
  return bucket < 0 ? 0 : Math.min(max, bucketLargestCount(bucket));
}
