// The profile's flame graph (an icicle, callers on top) on a canvas: hovering a frame says
// what it was and what it cost; clicking one zooms into it (its callers stay above), clicking
// the top row or "All" zooms out; the selected frame's file opens in the editor.

import { useLayoutEffect, useMemo, useRef, useState, type PointerEvent } from 'react';
import type { FlameNode, ProfileView } from '../../main/ui/ui-api';
import { useWidth } from '../charts/use-width';
import { drawFlame } from './draw-flame';
import { hidpiContext } from './hidpi-canvas';
import { boxAt, flameHeight, layoutFlame, ROW_H } from './flame-layout';
import { frameWhere, KIND_NAMES, opensInEditor, samplesMs, share } from './profile-format';

interface Props {
  readonly view: ProfileView;
  readonly onOpen: (url: string, line: number, column: number) => void;
}

/** The graph's height at least, so that a short profile does not make the page jump. */
const MIN_HEIGHT = 8 * ROW_H;

export function FlameGraph({ view, onOpen }: Props) {
  const [boxRef, width] = useWidth<HTMLDivElement>();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [focus, setFocus] = useState<number | undefined>(undefined);
  const [hover, setHover] = useState<{ node: FlameNode; x: number; y: number } | undefined>(undefined);
  // A focused node that is no longer in the profile (another range) zooms out.
  const focused = focus !== undefined && view.flame.some((n) => n.id === focus) ? focus : undefined;
  const boxes = useMemo(() => layoutFlame(view.flame, focused), [view.flame, focused]);
  const height = Math.max(MIN_HEIGHT, flameHeight(boxes));

  useLayoutEffect(() => {
    const ctx = hidpiContext(canvasRef.current, width, height);
    if (ctx) drawFlame(ctx, view, boxes, width, height, hover?.node.id);
  }, [view, boxes, width, height, hover]);

  const onMove = (e: PointerEvent<HTMLCanvasElement>): void => {
    const { offsetX: x, offsetY: y } = e.nativeEvent;
    const box = boxAt(boxes, width, x, y);
    setHover(box ? { node: box.node, x, y } : undefined);
  };
  const onClick = (e: PointerEvent<HTMLCanvasElement>): void => {
    const box = boxAt(boxes, width, e.nativeEvent.offsetX, e.nativeEvent.offsetY);
    if (box) setFocus(box.node.id === focused ? box.node.parent || undefined : box.node.id);
  };
  const selected = focused === undefined ? undefined : view.flame.find((n) => n.id === focused);
  const selectedFrame = selected ? view.frames[selected.frame] : undefined;
  const tip = hover ? view.frames[hover.node.frame] : undefined;

  return (
    <div className="flame" data-testid="flame-graph">
      <div className="flame-bar">
        <button onClick={() => setFocus(undefined)} disabled={focused === undefined}>All</button>
        {selected && selectedFrame
          ? (
            <span data-testid="flame-selected">
              <code>{selectedFrame.functionName}</code> <span className="muted">{frameWhere(selectedFrame)}</span>{' '}
              {samplesMs(view, selected.total)} ({share(view, selected.total)}) in all, {samplesMs(view, selected.self)} itself{' '}
              {opensInEditor(selectedFrame) && <button className="open-frame" onClick={() => onOpen(selectedFrame.url, selectedFrame.lineNumber, selectedFrame.columnNumber)} aria-label={`open ${frameWhere(selectedFrame)} in the editor`}>↗</button>}
            </span>
          )
          : <span className="muted">Click a frame to zoom into it; its callers stay above.</span>}
      </div>
      <div ref={boxRef} className="flame-canvas">
        <canvas
          ref={canvasRef}
          style={{ width: `${width}px`, height: `${height}px` }}
          onPointerMove={onMove}
          onPointerLeave={() => setHover(undefined)}
          onClick={onClick}
        />
        {hover && tip && (
          <div className="trace-tip" style={{ left: Math.min(hover.x + 12, Math.max(0, width - 320)), top: hover.y + 14 }}>
            <strong>{tip.functionName}</strong> <span className="muted">{frameWhere(tip)} · {KIND_NAMES[tip.kind]}</span>
            <div>{samplesMs(view, hover.node.total)} ({share(view, hover.node.total)}) in all · {samplesMs(view, hover.node.self)} itself</div>
          </div>
        )}
      </div>
      {view.flame.length === 0 && <p className="muted">No samples of code in this range.</p>}
      {view.hiddenNodes > 0 && <p className="muted">{view.hiddenNodes} of the smallest frames are left out.</p>}
    </div>
  );
}
