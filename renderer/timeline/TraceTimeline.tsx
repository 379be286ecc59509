// trace mode's timeline: loop turns and the callbacks they ran, on a canvas. Wheel zooms
// around the pointer, drag pans, "Follow live" (in replay, "Follow playback") keeps the latest
// seconds in view; hovering a callback says what it was (its type, and the function it called
// where the probe could tell), clicking it selects its resource for the causality tree. How
// much the trace keeps is shown, and can be set.

import { memo, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { TimelineSlice, TimelineView, UiApi } from '../../main/ui/ui-api';
import { useWidth } from '../charts/use-width';
import { drawTimeline } from './draw-timeline';
import { CANVAS_H, followWindow, hitSlice, panBy, spanOf, timeAt, wheelFactor, zoomAround, type TimeWindow } from './timeline-math';
import { formatDuration, formatTime, legendOf, sliceLabel, typeColor } from './trace-format';
import { useTimeline } from './use-timeline';

const DEFAULT_SPAN_S = 2;
/** A press that moves less than this is a click, not a drag. */
const DRAG_PX = 4;
/** Types named in the legend. */
const LEGEND_TYPES = 8;
/** The zoom buttons and the + and - keys: one step. */
const ZOOM_STEP = 1.5;
/** Lengths the trace can be set to keep, s. */
const KEEP_CHOICES = [5, 10, 30, 60, 120, 300];

interface Props {
  readonly api: UiApi;
  readonly sessionId: string;
  /** A replay's position; null live. */
  readonly replayS: number | null;
  /** Frames the probe dropped in the session. */
  readonly dropped: number;
  readonly selected: number | undefined;
  readonly onSelect: (asyncId: number) => void;
  /** The first async id traced, as the answers say (for the causality tree). */
  readonly onTracedFrom: (asyncId: number | null) => void;
}

interface Hover {
  readonly slice: TimelineSlice;
  readonly x: number;
  readonly y: number;
}

export const TraceTimeline = memo(function TraceTimeline({ api, sessionId, replayS, dropped, selected, onSelect, onTracedFrom }: Props) {
  const [boxRef, width] = useWidth<HTMLDivElement>();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [follow, setFollow] = useState(true);
  const [win, setWin] = useState<TimeWindow>({ fromS: 0, toS: DEFAULT_SPAN_S });
  const [hover, setHover] = useState<Hover | undefined>(undefined);
  const [drawn, setDrawn] = useState({ turns: 0, slices: 0 });
  const drag = useRef<{ x: number; from: TimeWindow; moved: boolean } | undefined>(undefined);
  const { view, error, kept } = useTimeline(api, sessionId, win, follow, replayS);
  // Following, the window ends where the latest answer ends; its span is still the user's.
  const shown: TimeWindow = follow && view ? followWindow(view.toS, spanOf(win), 0) : win;
  const tracedFrom = view?.tracedFromAsyncId ?? null;
  useEffect(() => {
    onTracedFrom(tracedFrom);
  }, [tracedFrom, onTracedFrom]);
  const latest = useRef({ shown, follow, width });
  latest.current = { shown, follow, width };

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(CANVAS_H * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const counts = drawTimeline(ctx, { view, win: shown, width, selected, hover: hover?.slice });
    setDrawn((d) => (d.turns === counts.turns && d.slices === counts.slices ? d : counts));
  }, [view, shown.fromS, shown.toS, width, selected, hover]);

  // React's wheel listener is passive: this one must stop the page from scrolling.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return undefined;
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault();
      const { shown: w, follow: following, width: px } = latest.current;
      // Following, the right edge stays the newest time.
      setWin(zoomAround(w, following ? w.toS : timeAt(w, px, e.offsetX), wheelFactor(e.deltaY)));
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, []);

  const toggleFollow = (): void => {
    // Stopping keeps the window where it was on screen.
    if (follow) setWin(shown);
    setFollow(!follow);
  };
  const zoom = (factor: number): void => setWin(zoomAround(shown, follow ? shown.toS : (shown.fromS + shown.toS) / 2, factor));
  const pan = (dx: number): void => {
    setFollow(false);
    setWin(panBy(shown, width, dx));
  };
  const sliceAt = (x: number, y: number): TimelineSlice | undefined => {
    const i = view ? hitSlice(view.slices, shown, width, x, y) : -1;
    return i >= 0 ? view?.slices[i] : undefined;
  };

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>): void => {
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { x: e.nativeEvent.offsetX, from: shown, moved: false };
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>): void => {
    const { offsetX: x, offsetY: y } = e.nativeEvent;
    const d = drag.current;
    if (d && (d.moved || Math.abs(x - d.x) >= DRAG_PX)) {
      d.moved = true;
      setFollow(false);
      setWin(panBy(d.from, width, x - d.x));
      setHover(undefined);
      return;
    }
    const slice = sliceAt(x, y);
    setHover(slice ? { slice, x, y } : undefined);
  };
  const onPointerUp = (e: PointerEvent<HTMLCanvasElement>): void => {
    const d = drag.current;
    drag.current = undefined;
    if (!d || d.moved) return;
    const slice = sliceAt(e.nativeEvent.offsetX, e.nativeEvent.offsetY);
    if (slice) onSelect(slice.asyncId);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>): void => {
    const step = width / 10;
    if (e.key === 'ArrowLeft') pan(step);
    else if (e.key === 'ArrowRight') pan(-step);
    else if (e.key === '+' || e.key === '=') zoom(1 / ZOOM_STEP);
    else if (e.key === '-') zoom(ZOOM_STEP);
    else return;
    e.preventDefault();
  };

  const setKeep = (seconds: number): void => void api.setTraceLength(sessionId, seconds).catch(() => undefined);

  return (
    <section className="trace-timeline" data-testid="trace-timeline" data-turns={drawn.turns} data-slices={drawn.slices}
      data-hidden={view?.hiddenSlices ?? 0} data-from={shown.fromS} data-to={shown.toS} data-follow={follow} data-selected={selected ?? ''}>
      <div className="trace-bar">
        <h3>Loop turns and callbacks</h3>
        <button aria-pressed={follow} onClick={toggleFollow} title={replayS === null ? 'Keep the latest seconds in view' : 'Keep the seconds up to the replay\'s position in view'}>
          {replayS === null ? 'Follow live' : 'Follow playback'}
        </button>
        <button onClick={() => zoom(1 / ZOOM_STEP)} aria-label="zoom in">+</button>
        <button onClick={() => zoom(ZOOM_STEP)} aria-label="zoom out">−</button>
        <span className="muted">{formatTime(shown.fromS)} – {formatTime(shown.toS)} ({formatDuration(spanOf(shown) * 1000)} across)</span>
        {view && (
          <label className="trace-keep" data-testid="trace-keep" data-keep-s={view.keepS} data-held-s={view.extent ? view.extent.toS - view.extent.fromS : 0}>
            keeps the last{' '}
            <select aria-label="trace length" value={view.keepS} onChange={(e) => setKeep(Number(e.target.value))}>
              {[...new Set([...KEEP_CHOICES, view.keepS])].sort((a, b) => a - b).map((s) => <option key={s} value={s}>{s} s</option>)}
            </select>
            <span className="muted">
              {' '}· holds {view.extent ? formatDuration((view.extent.toS - view.extent.fromS) * 1000) : 'nothing yet'}
              {view.full ? ' (its bound of callbacks was reached first)' : ''}
            </span>
          </label>
        )}
      </div>
      <div className="trace-canvas" ref={boxRef}>
        <canvas ref={canvasRef} style={{ width: '100%', height: CANVAS_H }} tabIndex={0} aria-label="timeline of loop turns and callbacks"
          onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerLeave={() => setHover(undefined)} onKeyDown={onKeyDown} />
        {hover && (
          <div className="trace-tip" data-testid="trace-tip" data-type={hover.slice.type} data-name={hover.slice.name ?? ''} data-async-id={hover.slice.asyncId} data-duration-ms={hover.slice.durationMs} style={{ left: hover.x + 12, top: hover.y + 12 }}>
            <strong>{sliceLabel(hover.slice)}</strong> #{hover.slice.asyncId} · {formatDuration(hover.slice.durationMs)} at {formatTime(hover.slice.startS)}
            {hover.slice.depth > 0 && ` · nested ${hover.slice.depth} deep`}
          </div>
        )}
      </div>
      {view && view.slices.length > 0 && (
        <ul className="trace-legend" aria-label="callback types in this window, most time first">
          {legendOf(view.slices, LEGEND_TYPES).map((t) => (
            <li key={t.type}><span className="chip" style={{ background: typeColor(t.type) }} />{t.type} <span className="muted">{t.count} · {formatDuration(t.ms)}</span></li>
          ))}
        </ul>
      )}
      <TimelineNote view={view} error={error} drawnSlices={drawn.slices} follow={follow} dropped={dropped} kept={kept} replay={replayS !== null} />
    </section>
  );
});

interface NoteProps {
  readonly view: TimelineView | undefined;
  readonly error: string | undefined;
  readonly drawnSlices: number;
  readonly follow: boolean;
  readonly dropped: number;
  readonly kept: boolean;
  readonly replay: boolean;
}

/** What the canvas cannot say: loading, errors, emptiness, and what was left out. */
function TimelineNote({ view, error, drawnSlices, follow, dropped, kept, replay }: NoteProps) {
  if (error) return <p className="state error" role="alert">Could not load the timeline: {error}</p>;
  if (!view) return <p className="muted">Loading the timeline…</p>;
  if (!view.extent) {
    return dropped > 0
      ? <p className="error" data-testid="trace-empty">No loop turns have reached loopscope: the probe dropped what it traced (above). The timeline fills in once loopscope keeps up.</p>
      : <p className="muted" data-testid="trace-empty">No loop turns traced yet. Trace mode records callbacks from the moment it is switched on; they appear here as the program runs.</p>;
  }
  const held = `The trace holds ${formatTime(view.extent.fromS)} – ${formatTime(view.extent.toS)} (it keeps the latest loop turns).`;
  if (drawnSlices === 0) {
    return (
      <p className="muted" data-testid="trace-empty">
        {follow ? 'No callbacks in this window: the loop is idle. ' : `No callbacks in this window: drag or zoom out towards the traced stretch, or turn on ${replay ? 'Follow playback' : 'Follow live'}. `}
        {held}
      </p>
    );
  }
  if (kept) {
    return <p className="muted" data-testid="trace-paused-kept">The trace no longer holds all of this window (it keeps its latest turns): what it held when this window was shown stays in view. {held}</p>;
  }
  return (
    <p className="muted">
      {view.hiddenSlices > 0 && `Showing the ${view.slices.length} longest callbacks here; ${view.hiddenSlices} shorter ones are hidden: zoom in to see them. `}
      {held}
    </p>
  );
}
