// Charts get at most one point per pixel column: more cannot be seen, and drawing them is what
// makes a flood of data slow. Each column keeps the largest value of each series in it, so a
// one-sample spike (a blocked loop) survives however much it is squeezed. Pure.

export function downsampleMax<P extends { readonly t: number }, K extends keyof P>(
  points: readonly P[],
  width: number,
  keys: readonly K[],
): P[] {
  const columns = Math.max(1, Math.floor(width));
  if (points.length <= columns) return [...points];
  const out: P[] = [];
  const per = points.length / columns;
  for (let c = 0; c < columns; c++) {
    const from = Math.floor(c * per);
    const to = Math.min(points.length, Math.floor((c + 1) * per));
    if (to <= from) continue;
    const merged: Record<PropertyKey, unknown> = { ...points[from]! };
    for (const k of keys) {
      let max = -Infinity;
      for (let i = from; i < to; i++) {
        const v = points[i]![k];
        if (typeof v === 'number' && v > max) max = v;
      }
      merged[k as PropertyKey] = max;
    }
    out.push(merged as P);
  }
  return out;
}
