// The benches' statistics (bench/stats.mjs): BENCHMARKS.md quotes the 95% interval of a median
// beside each throughput figure, so its ranks are checked here against the binomial tables.

import { describe, expect, it } from 'vitest';
import { median, medianInterval } from '../bench/stats.mjs';

const ranks = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** A seeded generator (mulberry32), so that a failure can be run again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('medianInterval', () => {
  it('takes the order statistics of the binomial tables at 95%', () => {
    // Lower rank k for n rounds: the largest k with 1 - 2 P(Binomial(n, 1/2) < k) >= 0.95.
    const expected: Array<[number, number]> = [[6, 1], [7, 1], [8, 1], [9, 2], [10, 2], [12, 3], [16, 4], [20, 6]];
    for (const [n, k] of expected) expect(medianInterval(ranks(n)), `${n} rounds`).toEqual([k, n + 1 - k]);
  });

  it('has no interval when even the whole range covers less than asked', () => {
    expect(medianInterval(ranks(5))).toBeUndefined();
    expect(medianInterval([])).toBeUndefined();
    expect(medianInterval(ranks(5), 0.9)).toEqual([1, 5]);
  });

  it('sorts what it is given and leaves it as it was', () => {
    const rounds = [0.97, 0.99, 0.95, 1.01, 0.98, 0.96, 1.0, 0.94];
    const copy = [...rounds];
    expect(medianInterval(rounds)).toEqual([0.94, 1.01]);
    expect(rounds).toEqual(copy);
  });

  it('covers the true median at least as often as it says, whatever the distribution', () => {
    const next = random(15);
    const draws = { uniform: () => next(), skewed: () => -Math.log(1 - next()) };
    const truth = { uniform: 0.5, skewed: Math.LN2 };
    for (const name of ['uniform', 'skewed'] as const) {
      for (const n of [6, 12, 16]) {
        let covered = 0;
        const trials = 4000;
        for (let t = 0; t < trials; t++) {
          const [lo, hi] = medianInterval(Array.from({ length: n }, draws[name])) ?? [NaN, NaN];
          if (lo <= truth[name] && truth[name] <= hi) covered++;
        }
        // Exact coverage is 0.969 (6), 0.961 (12), 0.979 (16); 0.95 leaves ~4 standard errors.
        expect(covered / trials, `${name}, ${n} rounds`).toBeGreaterThan(0.95);
      }
    }
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
