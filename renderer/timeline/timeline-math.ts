// The trace timeline's geometry, pure so it is tested without a canvas: time ↔ x, zoom and
// pan, where each turn and callback is drawn, what is under the pointer, and the time axis.

import type { TimelineSlice, TimelineTurn } from '../../main/ui/ui-api';
import { decimalsFor, niceTicks } from '../charts/nice-ticks';

/** A window of time, in seconds on the SeriesPoint.t clock. */
export interface TimeWindow {
  readonly fromS: number;
  readonly toS: number;
}

/** 100 µs across the canvas at the closest: below that, the probe's timestamps are noise. */
export const MIN_SPAN_S = 1e-4;
/** Ten minutes at the widest: the trace holds its latest 2000 turns, usually far less time. */
export const MAX_SPAN_S = 600;

export const AXIS_H = 18;
export const TURN_H = 8;
export const ROW_H = 16;
/** Callback depths shown as rows; deeper ones share the last row. */
export const ROWS = 6;
export const CANVAS_H = AXIS_H + TURN_H + 4 + ROWS * ROW_H;
/** A slice narrower than this is still hit from this far away (px). */
const HIT_SLOP_PX = 2;

export const spanOf = (w: TimeWindow): number => w.toS - w.fromS;

export function xOf(w: TimeWindow, width: number, t: number): number {
  return ((t - w.fromS) / spanOf(w)) * width;
}

export function timeAt(w: TimeWindow, width: number, x: number): number {
  return w.fromS + (x / width) * spanOf(w);
}

const clampSpan = (span: number): number => Math.min(MAX_SPAN_S, Math.max(MIN_SPAN_S, span));

/** Zooms by `factor` (<1 in, >1 out) keeping `anchorS` where it is on screen. */
export function zoomAround(w: TimeWindow, anchorS: number, factor: number): TimeWindow {
  const span = spanOf(w);
  const next = clampSpan(span * factor);
  const fraction = span > 0 ? (anchorS - w.fromS) / span : 0.5;
  const fromS = anchorS - fraction * next;
  return { fromS, toS: fromS + next };
}

/** A wheel notch (deltaY ≈ ±100) zooms by about 20%; trackpads send smaller deltas. */
export function wheelFactor(deltaY: number): number {
  return Math.exp(Math.max(-500, Math.min(500, deltaY)) * 0.002);
}

/** Dragging right by `dx` pixels shows earlier times. */
export function panBy(w: TimeWindow, width: number, dx: number): TimeWindow {
  const dt = width > 0 ? (dx / width) * spanOf(w) : 0;
  return { fromS: w.fromS - dt, toS: w.toS - dt };
}

/**
 * The latest `spanS` seconds, ending at `latestS`; starting at `startS` instead where they
 * would begin before it (the session's start: a time axis running into negative seconds
 * says nothing).
 */
export function followWindow(latestS: number, spanS: number, startS = -Infinity): TimeWindow {
  const span = clampSpan(spanS);
  const fromS = Math.max(startS, latestS - span);
  return { fromS, toS: fromS + span };
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** At least 1 px wide, so that every callback in view shows. */
function span(w: TimeWindow, width: number, startS: number, durationMs: number): { x: number; w: number } {
  const x = xOf(w, width, startS);
  return { x, w: Math.max(1, xOf(w, width, startS + durationMs / 1000) - x) };
}

export function turnBox(w: TimeWindow, width: number, t: TimelineTurn): Box {
  return { ...span(w, width, t.startS, t.durationMs), y: AXIS_H, h: TURN_H };
}

export function sliceBox(w: TimeWindow, width: number, s: TimelineSlice): Box {
  const row = Math.min(s.depth, ROWS - 1);
  return { ...span(w, width, s.startS, s.durationMs), y: AXIS_H + TURN_H + 4 + row * ROW_H, h: ROW_H - 2 };
}

/** The slice under (x, y): the nearest, and of those the longest; -1 for none. */
export function hitSlice(slices: readonly TimelineSlice[], w: TimeWindow, width: number, x: number, y: number): number {
  let best = -1;
  let bestDistance = Infinity;
  for (let i = 0; i < slices.length; i++) {
    const b = sliceBox(w, width, slices[i]!);
    if (y < b.y || y >= b.y + b.h) continue;
    const distance = x < b.x ? b.x - x : x > b.x + b.w ? x - (b.x + b.w) : 0;
    if (distance > HIT_SLOP_PX) continue;
    if (distance < bestDistance || (distance === bestDistance && slices[i]!.durationMs > slices[best]!.durationMs)) {
      best = i;
      bestDistance = distance;
    }
  }
  return best;
}

/** Tick times for the axis: steps of 1, 2 or 5 × 10ⁿ s, about `minPx` apart or more. */
export function ticks(w: TimeWindow, width: number, minPx = 90): number[] {
  if (!(spanOf(w) > 0) || width <= 0) return [];
  return niceTicks(w.fromS, w.toS, width / minPx).ticks;
}

/** An axis label with as many decimals as the step needs (a 0.5 ms step needs four). */
export function tickLabel(t: number, stepS: number): string {
  return `${t.toFixed(decimalsFor(stepS))} s`;
}
