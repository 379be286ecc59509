// The replay bar: play and pause, step, the previous and next blocked loop, speed, and the
// scrubber, with the blocked loops and longer GC pauses marked on its track; a progress bar
// while those marks are still being found. On the scrubber the arrow keys move a second
// (Shift: ten), Page Up and Down ten seconds, Home and End to either end; Space plays and
// pauses anywhere in the window (but where Space means something else).

import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { HostApi, ReplayCommand, ReplayMark, ReplayView } from '../../main/ui/ui-api';
import { useWidth } from '../charts/use-width';
import { latestOnly } from './latest-only';
import { ARROW_STEP_S, blockStep, formatReplayTime, markColumns } from './scrubber';
import { useSpaceKey } from './use-space-key';

/** A key's target counts as the base for the next key this long at most, ms. */
const KEY_BASE_MS = 1000;

interface Props {
  readonly api: HostApi;
  readonly sessionId: string;
  readonly replay: ReplayView;
  readonly onError: (message: string) => void;
  /** The blocked loop "◀ block" or "block ▶" goes to. */
  readonly onBlock?: (mark: ReplayMark) => void;
}

export function ReplayBar({ api, sessionId, replay, onError, onBlock }: Props) {
  const [ref, width] = useWidth<HTMLDivElement>();
  // While the user drags, the thumb follows the hand, not the backend's last answer.
  const [dragging, setDragging] = useState<number | undefined>(undefined);
  const send = (c: ReplayCommand): void => void api.replay(sessionId, c).catch((err: Error) => onError(err.message));
  const playOrPause = (): void => send(replay.playing ? { kind: 'pause', t: replay.positionS } : { kind: 'play' });
  useSpaceKey(playOrPause);
  const seek = useMemo(() => latestOnly((t: number) => api.replay(sessionId, { kind: 'seek', t }), (err) => onError(err.message)), [api, sessionId, onError]);
  const columns = useMemo(() => markColumns(replay.marks, replay.startS, replay.endS, width / 2), [replay.marks, replay.startS, replay.endS, width]);
  const position = dragging ?? replay.positionS;
  const blocked = replay.marks.filter((m) => m.kind === 'blocked').length;
  const previous = blockStep(replay.marks, position, -1);
  const next = blockStep(replay.marks, position, 1);
  const seekTo = (t: number): void => {
    const clamped = Math.min(replay.endS, Math.max(replay.startS, t));
    setDragging(clamped);
    seek(clamped);
  };
  const toBlock = (step: { readonly mark: ReplayMark; readonly t: number } | undefined): void => {
    if (!step) return;
    onBlock?.(step.mark);
    seekTo(step.t);
  };
  // A key's seek takes a round trip: keys pressed before it comes back count from where the
  // last one went, not from where the replay was.
  const keyed = useRef<{ t: number; at: number } | undefined>(undefined);
  // The browser's own keys on a range move it by a hundredth of its length or less (0.01 s
  // steps with step="any"): these move it by what a reader of a recording wants.
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>): void => {
    const last = keyed.current;
    const base = last && performance.now() - last.at < KEY_BASE_MS && Math.abs(replay.positionS - last.t) > 0.05 ? last.t : position;
    const by = (s: number): void => {
      const t = Math.min(replay.endS, Math.max(replay.startS, base + s));
      keyed.current = { t, at: performance.now() };
      seekTo(t);
    };
    if (e.key === 'ArrowRight' || e.key === 'ArrowUp') by(ARROW_STEP_S * (e.shiftKey ? 10 : 1));
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowDown') by(-ARROW_STEP_S * (e.shiftKey ? 10 : 1));
    else if (e.key === 'PageUp') by(10 * ARROW_STEP_S);
    else if (e.key === 'PageDown') by(-10 * ARROW_STEP_S);
    else if (e.key === 'Home') seekTo(replay.startS);
    else if (e.key === 'End') seekTo(replay.endS);
    else return;
    e.preventDefault();
  };

  return (
    <section className="replay-bar" data-testid="replay-bar" aria-label="replay">
      <div className="replay-controls">
        <button onClick={playOrPause}>{replay.playing ? 'Pause' : 'Play'}</button>
        <button onClick={() => send({ kind: 'step' })} title="Pause, and go to the next sample or report">Step</button>
        <button disabled={previous === undefined} onClick={() => toBlock(previous)} title="Go to the previous blocked loop">◀ block</button>
        <button disabled={next === undefined} onClick={() => toBlock(next)} title="Go to the next blocked loop">block ▶</button>
        <label>
          speed{' '}
          <select aria-label="speed" value={replay.speed} onChange={(e) => send({ kind: 'speed', speed: Number(e.target.value) })}>
            {replay.speeds.map((s) => <option key={s} value={s}>{s}×</option>)}
          </select>
        </label>
        <span className="replay-time" data-testid="replay-position" data-position-s={replay.positionS}>
          {formatReplayTime(position)} / {formatReplayTime(replay.endS)}
        </span>
        <span className="muted">{blocked} blocked loop{blocked === 1 ? '' : 's'} marked{replay.complete ? '' : ' · the file is still being written: following it'}</span>
      </div>
      <div className="scrubber" ref={ref}>
        <div className="scrubber-track" aria-hidden="true" />
        <div className="scrubber-marks" aria-hidden="true" data-testid="scrubber-marks">
          {columns.map((c) => (
            <span
              key={c.at}
              className={`mark ${c.kind}`}
              style={{ left: `${c.at * 100}%` }}
              title={`${c.kind === 'blocked' ? 'blocked loop' : 'GC pause'} of ${c.longest.durationMs.toFixed(1)} ms at ${formatReplayTime(c.longest.t)}${c.count > 1 ? ` (${c.count} here)` : ''}`}
            />
          ))}
        </div>
        <input
          type="range"
          aria-label="replay position"
          min={replay.startS}
          max={Math.max(replay.endS, replay.startS + 0.001)}
          step="any"
          value={position}
          onChange={(e) => {
            const t = Number(e.target.value);
            setDragging(t);
            seek(t);
          }}
          onPointerUp={() => setDragging(undefined)}
          onKeyDown={onKeyDown}
          onKeyUp={() => setDragging(undefined)}
          onBlur={() => setDragging(undefined)}
        />
      </div>
      {replay.scanned < 1 && (
        <div className="replay-scan" role="status">
          <progress value={replay.scanned} max={1} aria-label="finding blocked loops and GC pauses" />{' '}
          <span className="muted">Finding blocked loops and GC pauses in the recording: {Math.floor(replay.scanned * 100)}%</span>
        </div>
      )}
      {replay.warnings.length > 0 && (
        <details className="replay-warnings" data-testid="replay-warnings">
          <summary>{replay.warnings.length} problem{replay.warnings.length === 1 ? '' : 's'} in this file: some data is missing</summary>
          <ul>{replay.warnings.map((w) => <li key={w}>{w}</li>)}</ul>
        </details>
      )}
    </section>
  );
}
