// Statistics for the benchmarks' rounds: plain functions of arrays of numbers, with no I/O, so
// that test/bench-stats.test.ts can check them.

export const sum = (xs) => xs.reduce((a, b) => a + b, 0);
export const mean = (xs) => (xs.length ? sum(xs) / xs.length : NaN);
export function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/**
 * A distribution-free interval for the median of `xs`: the order statistics x(k) and x(n+1-k)
 * for the largest k whose coverage, 1 - 2 P(X < k) with X ~ Binomial(n, 1/2), is at least
 * `confidence`. Undefined when even the whole range covers less (n < 6 at 95%).
 */
export function medianInterval(xs, confidence = 0.95) {
  const n = xs.length;
  const s = [...xs].sort((a, b) => a - b);
  let k = 0;
  let below = 0; // P(X <= j)
  let choose = 1; // C(n, j)
  for (let j = 0; j < n; j++) {
    below += choose / 2 ** n;
    choose = (choose * (n - j)) / (j + 1);
    if (1 - 2 * below < confidence) break;
    k = j + 1;
  }
  return k === 0 ? undefined : [s[k - 1], s[n - k]];
}
export const min = (xs) => Math.min(...xs);
export const max = (xs) => Math.max(...xs);
export const maxAbs = (xs) => Math.max(...xs.map(Math.abs));
export function stdev(xs) {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(sum(xs.map((x) => (x - m) ** 2)) / (xs.length - 1));
}
