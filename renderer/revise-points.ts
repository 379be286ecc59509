// Points sent again with the GC time that arrived for them later (see SessionUpdate.revised).

import type { SeriesPoint } from '../main/ui/ui-api';

/** `points` with those of `revised` that it holds (same `t`) replaced; a new array if any were. */
export function revise(points: readonly SeriesPoint[], revised: readonly SeriesPoint[]): readonly SeriesPoint[] {
  if (revised.length === 0 || points.length === 0) return points;
  const out = points.slice();
  // Revised points are recent: search back from the end.
  let i = out.length - 1;
  for (let r = revised.length - 1; r >= 0; r--) {
    const p = revised[r]!;
    while (i >= 0 && out[i]!.t > p.t) i--;
    if (i < 0) break;
    if (out[i]!.t === p.t) out[i] = p;
  }
  return out;
}
