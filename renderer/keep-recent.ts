// The end of a series: what the charts can show of it, and no more, so that memory stays flat
// however long a session runs. Pure.

/** The points within `keptS` of the newest, at most `max` of them; `points` sorted by time. */
export function keepRecent<P extends { readonly t: number }>(points: readonly P[], keptS: number, max: number): readonly P[] {
  const cutoff = (points[points.length - 1]?.t ?? 0) - keptS;
  let from = Math.max(0, points.length - max);
  while (from < points.length && points[from]!.t < cutoff) from++;
  return from === 0 ? points : points.slice(from);
}
