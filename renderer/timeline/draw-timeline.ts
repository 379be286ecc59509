// Paints the trace timeline on a 2D canvas: the time axis, a band of loop turns, and the
// callbacks in rows by depth, coloured by type. Geometry comes from timeline-math.ts.

import type { TimelineSlice, TimelineView } from '../../main/ui/ui-api';
import { AXIS_H, CANVAS_H, sliceBox, spanOf, tickLabel, ticks, turnBox, xOf, type Box, type TimeWindow } from './timeline-math';
import { sliceLabel, typeColor } from './trace-format';

const BACKGROUND = '#1f2630';
const GRID = '#2a2f3a';
const LABEL = '#8a93a6';
const TURN = '#4b5566';
const SELECTED = '#ffffff';
const NAME = '#0d1117';
/** A callback this wide or wider is labelled with its type and function. */
const LABEL_MIN_PX = 48;

export interface DrawInput {
  readonly view: TimelineView | undefined;
  readonly win: TimeWindow;
  /** CSS pixels. */
  readonly width: number;
  readonly selected: number | undefined;
  /** The slice under the pointer (matched by id and start: answers are replaced 4 times a second). */
  readonly hover: TimelineSlice | undefined;
}

const visible = (b: Box, width: number): boolean => b.x + b.w >= 0 && b.x <= width;

/** Draws the frame; returns how many turns and callbacks are in sight. */
export function drawTimeline(ctx: CanvasRenderingContext2D, d: DrawInput): { turns: number; slices: number } {
  const { view, win: w, width } = d;
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, CANVAS_H);

  const marks = ticks(w, width);
  const step = marks.length > 1 ? marks[1]! - marks[0]! : spanOf(w);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  for (const t of marks) {
    const x = Math.round(xOf(w, width, t)) + 0.5;
    ctx.fillStyle = GRID;
    ctx.fillRect(x, AXIS_H - 4, 1, CANVAS_H - AXIS_H + 4);
    ctx.fillStyle = LABEL;
    ctx.fillText(tickLabel(t, step), x + 3, 2);
  }
  if (!view) return { turns: 0, slices: 0 };

  let turns = 0;
  ctx.fillStyle = TURN;
  for (const t of view.turns) {
    const b = turnBox(w, width, t);
    if (!visible(b, width)) continue;
    turns++;
    ctx.fillRect(b.x, b.y, b.w, b.h);
  }

  let slices = 0;
  const outlined: Box[] = [];
  const labelled: { box: Box; text: string }[] = [];
  const { hover } = d;
  for (const s of view.slices) {
    const b = sliceBox(w, width, s);
    if (!visible(b, width)) continue;
    slices++;
    ctx.fillStyle = typeColor(s.type);
    ctx.fillRect(b.x, b.y, b.w, b.h);
    if (b.w >= LABEL_MIN_PX) labelled.push({ box: b, text: sliceLabel(s) });
    if (s.asyncId === d.selected || (hover && s.asyncId === hover.asyncId && s.startS === hover.startS)) outlined.push(b);
  }
  // Labels after the boxes, each clipped to its own box.
  ctx.fillStyle = NAME;
  ctx.textBaseline = 'middle';
  for (const { box, text } of labelled) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y, box.w, box.h);
    ctx.clip();
    ctx.fillText(text, Math.max(box.x, 0) + 3, box.y + box.h / 2);
    ctx.restore();
  }
  // Outlines last, so neighbours do not paint over them.
  ctx.strokeStyle = SELECTED;
  ctx.lineWidth = 1.5;
  for (const b of outlined) ctx.strokeRect(b.x - 1, b.y - 1, b.w + 2, b.h + 2);
  return { turns, slices };
}
