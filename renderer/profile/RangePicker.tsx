// The profile's range picker: the latest samples over time (code above, idle below) on a
// small canvas; dragging over it selects a range, "Latest" goes back to following the newest
// seconds.

import { useLayoutEffect, useRef, useState, type PointerEvent } from 'react';
import type { ProfileView } from '../../main/ui/ui-api';
import { useWidth } from '../charts/use-width';
import { hidpiContext } from './hidpi-canvas';
import { KIND_COLORS } from './profile-format';
import type { TimeRange } from './time-range';

interface Props {
  readonly view: ProfileView;
  readonly following: boolean;
  readonly onPick: (range: TimeRange) => void;
  readonly onFollow: () => void;
}

const HEIGHT = 44;
const BACKGROUND = '#1f2630';
const SELECTION = '#6cb6ff33';
const EDGE = '#6cb6ff';

export function RangePicker({ view, following, onPick, onFollow }: Props) {
  const [boxRef, width] = useWidth<HTMLDivElement>();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [drag, setDrag] = useState<{ from: number; to: number } | undefined>(undefined);
  const { activity } = view;
  const steps = activity.code.length;
  const spanS = Math.max(activity.stepS, steps * activity.stepS);
  const timeAt = (x: number): number => activity.fromS + (Math.max(0, Math.min(width, x)) / Math.max(1, width)) * spanS;
  const xAt = (t: number): number => ((t - activity.fromS) / spanS) * width;

  useLayoutEffect(() => {
    const ctx = hidpiContext(canvasRef.current, width, HEIGHT);
    if (!ctx) return;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, width, HEIGHT);
    const max = Math.max(1, ...activity.code.map((c, i) => c + activity.idle[i]!));
    const w = width / Math.max(1, steps);
    for (let i = 0; i < steps; i++) {
      const code = (activity.code[i]! / max) * (HEIGHT - 2);
      const idle = (activity.idle[i]! / max) * (HEIGHT - 2);
      ctx.fillStyle = KIND_COLORS.own;
      ctx.fillRect(i * w, HEIGHT - code, Math.max(1, w - 0.5), code);
      ctx.fillStyle = KIND_COLORS.idle;
      ctx.fillRect(i * w, HEIGHT - code - idle, Math.max(1, w - 0.5), idle);
    }
    const sel = drag ? { fromS: timeAt(Math.min(drag.from, drag.to)), toS: timeAt(Math.max(drag.from, drag.to)) } : view;
    const x0 = xAt(sel.fromS);
    const x1 = xAt(sel.toS);
    ctx.fillStyle = SELECTION;
    ctx.fillRect(x0, 0, Math.max(1, x1 - x0), HEIGHT);
    ctx.fillStyle = EDGE;
    ctx.fillRect(x0, 0, 1, HEIGHT);
    ctx.fillRect(Math.max(x0, x1 - 1), 0, 1, HEIGHT);
  }, [view, width, drag]);

  const onDown = (e: PointerEvent<HTMLCanvasElement>): void => {
    e.currentTarget.setPointerCapture(e.pointerId);
    setDrag({ from: e.nativeEvent.offsetX, to: e.nativeEvent.offsetX });
  };
  const onMove = (e: PointerEvent<HTMLCanvasElement>): void => {
    if (drag) setDrag({ ...drag, to: e.nativeEvent.offsetX });
  };
  const onUp = (e: PointerEvent<HTMLCanvasElement>): void => {
    if (!drag) return;
    const a = timeAt(Math.min(drag.from, e.nativeEvent.offsetX));
    const b = timeAt(Math.max(drag.from, e.nativeEvent.offsetX));
    setDrag(undefined);
    // A click (no drag) selects one step around it.
    onPick(b - a >= activity.stepS ? { fromS: a, toS: b } : { fromS: a - activity.stepS, toS: a + activity.stepS });
  };

  return (
    <div className="range-picker" data-testid="profile-range">
      <div ref={boxRef} className="range-canvas">
        <canvas ref={canvasRef} style={{ width: `${width}px`, height: `${HEIGHT}px` }} onPointerDown={onDown} onPointerMove={onMove} onPointerUp={onUp} aria-label="CPU samples over time: drag to select a range" />
      </div>
      <div className="range-bar">
        <span data-testid="profile-range-text">{view.fromS.toFixed(1)} s – {view.toS.toFixed(1)} s{following ? ' (the latest)' : ''}</span>
        <button onClick={onFollow} aria-pressed={following}>Latest</button>
      </div>
    </div>
  );
}
