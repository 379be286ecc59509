// Drawing helpers for the terminal views. Pure.

const SPARKS = '▁▂▃▄▅▆▇█';

/** A one-line chart of values, scaled to their own maximum. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(...values, 0);
  if (max <= 0) return SPARKS[0]!.repeat(values.length);
  return values.map((v) => SPARKS[Math.min(SPARKS.length - 1, Math.floor((v / max) * (SPARKS.length - 1) + 0.5))]).join('');
}

/** Cuts a line to the terminal width (in code points; good enough for our ASCII-ish lines). */
export function fit(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}
