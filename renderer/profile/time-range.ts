// A stretch of a session's time, in seconds on the charts' clock (SeriesPoint.t): what the
// profile shows, chosen by selecting a block or dragging over a chart.

export interface TimeRange {
  readonly fromS: number;
  readonly toS: number;
}

/** A block's range, with a little of either side so that its edges show. */
export function blockRange(startS: number, durationMs: number): TimeRange {
  const margin = Math.min(0.05, durationMs / 4000);
  return { fromS: startS - margin, toS: startS + durationMs / 1000 + margin };
}

/**
 * A replay's latest `spanS` seconds: those ending at its position (the file holds samples past
 * it, which have not happened yet there), never before the session's start.
 */
export function latestRange(endS: number, spanS: number): TimeRange {
  const toS = Math.max(0, endS);
  return { fromS: Math.max(0, toS - spanS), toS };
}
