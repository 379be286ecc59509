// The loop overview's sparklines' time axis: one for every loop, the latest seconds of the
// session, ending at its latest sample from any loop (now, when live; the replay's position,
// replayed, as the loops are read up to it). A loop's seconds sit where they happened: a
// young session's few in their share at the right, an ended loop's last ones where it ended,
// so the same lag looks the same whatever the session's age. Pure.

import type { ProcessLoops } from '../../main/ui/ui-api';

/** Wall clock, ms since the Unix epoch. */
export interface SparkDomain {
  readonly fromMs: number;
  readonly toMs: number;
}

/** `seconds` long, ending at the latest second of any loop; undefined before any loop has one. */
export function sparkDomain(processes: readonly ProcessLoops[], seconds: number): SparkDomain | undefined {
  let toMs = -Infinity;
  for (const p of processes) for (const l of p.loops) if (l.recentLagEndMs !== null) toMs = Math.max(toMs, l.recentLagEndMs);
  return Number.isFinite(toMs) ? { fromMs: toMs - seconds * 1000, toMs } : undefined;
}

/**
 * An SVG polyline's points for a loop's seconds (`values`, the latest last, ending at `endMs`)
 * in a box of `width` × `height` over `domain`: each second at the place of its end, those
 * ending before the domain left out; 0 at the bottom, `scaleMax` (or more, clipped) at the top.
 */
export function sparkPoints(values: readonly number[], endMs: number, domain: SparkDomain, width: number, height: number, scaleMax: number): string {
  const span = domain.toMs - domain.fromMs;
  if (!(span > 0) || scaleMax <= 0) return '';
  const y = (v: number): number => height - (Math.min(Math.max(v, 0), scaleMax) / scaleMax) * height;
  const points: string[] = [];
  values.forEach((v, i) => {
    const x = ((endMs - (values.length - 1 - i) * 1000 - domain.fromMs) / span) * width;
    if (x >= 0) points.push(`${round1(Math.min(x, width))},${round1(y(v))}`);
  });
  return points.join(' ');
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
