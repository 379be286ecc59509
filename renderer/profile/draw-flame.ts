// Paints the flame graph (an icicle) on a 2D canvas, from flame-layout.ts' boxes.

import type { ProfileView } from '../../main/ui/ui-api';
import { ROW_H, type FlameBox } from './flame-layout';
import { KIND_COLORS } from './profile-format';

const BACKGROUND = '#1f2630';
const TEXT = '#0d1117';
const SELECTED = '#ffffff';
/** Boxes narrower than this are drawn but not labelled. */
const LABEL_MIN_PX = 30;

export function drawFlame(ctx: CanvasRenderingContext2D, view: ProfileView, boxes: readonly FlameBox[], width: number, height: number, hover: number | undefined): void {
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  for (const b of boxes) {
    const x = b.x * width;
    const w = b.w * width;
    if (w < 0.5) continue;
    const y = b.depth * ROW_H;
    const frame = view.frames[b.node.frame]!;
    ctx.fillStyle = KIND_COLORS[frame.kind];
    ctx.fillRect(x, y, Math.max(0.5, w - 1), ROW_H - 1);
    if (b.node.id === hover) {
      ctx.strokeStyle = SELECTED;
      ctx.strokeRect(x + 0.5, y + 0.5, Math.max(0.5, w - 2), ROW_H - 2);
    }
    if (w >= LABEL_MIN_PX) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x, y, w - 2, ROW_H);
      ctx.clip();
      ctx.fillStyle = TEXT;
      ctx.fillText(frame.functionName, x + 3, y + ROW_H / 2);
      ctx.restore();
    }
  }
}
