// The replay bar: play and pause, step, speed, and the scrubber, with the blocked loops and
// longer GC pauses marked on it; a progress bar while those marks are still being found.

import { useMemo, useState } from 'react';
import type { HostApi, ReplayCommand, ReplayView } from '../../main/ui/ui-api';
import { useWidth } from '../charts/use-width';
import { latestOnly } from './latest-only';
import { formatReplayTime, markColumns } from './scrubber';

interface Props {
  readonly api: HostApi;
  readonly sessionId: string;
  readonly replay: ReplayView;
  readonly onError: (message: string) => void;
}

export function ReplayBar({ api, sessionId, replay, onError }: Props) {
  const [ref, width] = useWidth<HTMLDivElement>();
  // While the user drags, the thumb follows the hand, not the backend's last answer.
  const [dragging, setDragging] = useState<number | undefined>(undefined);
  const send = (c: ReplayCommand): void => void api.replay(sessionId, c).catch((err: Error) => onError(err.message));
  const seek = useMemo(() => latestOnly((t: number) => api.replay(sessionId, { kind: 'seek', t }), (err) => onError(err.message)), [api, sessionId, onError]);
  const columns = useMemo(() => markColumns(replay.marks, replay.startS, replay.endS, width / 2), [replay.marks, replay.startS, replay.endS, width]);
  const position = dragging ?? replay.positionS;
  const blocked = replay.marks.filter((m) => m.kind === 'blocked').length;

  return (
    <section className="replay-bar" data-testid="replay-bar" aria-label="replay">
      <div className="replay-controls">
        <button onClick={() => send({ kind: replay.playing ? 'pause' : 'play' })}>{replay.playing ? 'Pause' : 'Play'}</button>
        <button onClick={() => send({ kind: 'step' })} title="Pause, and go to the next sample or report">Step</button>
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
        <div className="scrubber-marks" aria-hidden="true">
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
