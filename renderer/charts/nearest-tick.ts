// The charts share a crosshair by time: a chart shows the sample nearest in time to the one
// hovered in another. A label that is no time (the pointer left, or is off the plot) shows none:
// taken as the first sample, it left every other chart's tip stuck there.

/** Index of the value nearest `label` (a time, as recharts passes it), or -1 for none. */
export function nearestTickIndex(values: readonly number[], label: unknown): number {
  const t = typeof label === 'number' ? label : typeof label === 'string' && label.trim() !== '' ? Number(label) : NaN;
  if (!Number.isFinite(t)) return -1;
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) continue;
    if (best < 0 || Math.abs(values[i]! - t) < Math.abs(values[best]! - t)) best = i;
  }
  return best;
}
