// Tasks mode's percentiles are read from log buckets (probe/log-histogram.ts): the upper
// bound of a bucket about 9% wide, capped by the largest value seen. They are estimates, and
// are shown as such wherever they appear (the summary, the live view, the window), so that a
// "524 ms" that is a bucket's edge is not read as a measurement. Pure.

import { formatMs } from './format';

export const ESTIMATE_MARK = '≈';

/** What the mark means, for a legend. */
export const ESTIMATE_NOTE = `${ESTIMATE_MARK}: estimated from buckets about 9% wide (never under the real figure, at most 9% over it)`;

export const estimateMs = (ms: number): string => `${ESTIMATE_MARK}${formatMs(ms)}`;

export const estimateCount = (n: number): string => `${ESTIMATE_MARK}${n}`;
