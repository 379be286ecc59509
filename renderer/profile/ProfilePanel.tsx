// The CPU profile of a session: for the selected range (a block, or a stretch dragged over the
// range picker), or the latest seconds while nothing is selected; a flame graph and a
// bottom-up table. Fetches its own data, again every second (samples reach loopscope about a
// second after they are taken). Self-contained: it is told the selected range and says when
// the user picks another.

import { memo, useCallback, useRef, useState } from 'react';
import type { ProfileView, UiApi } from '../../main/ui/ui-api';
import { usePolled } from '../timeline/use-polled';
import { BottomUpTable } from './BottomUpTable';
import { FlameGraph } from './FlameGraph';
import { KIND_COLORS, KIND_NAMES, samplesMs, unsampledOf } from './profile-format';
import { unsampledText } from '../../main/common/unsampled-text';
import { RangePicker } from './RangePicker';
import { latestRange, type TimeRange } from './time-range';

interface Props {
  readonly api: UiApi;
  readonly sessionId: string;
  /** null: follow the latest seconds. */
  readonly range: TimeRange | null;
  readonly onRange: (range: TimeRange | null) => void;
  /** In a replay, its position: the latest seconds end there. Undefined live. */
  readonly replayS?: number | undefined;
}

/** While following, the profile covers this many of the latest seconds. */
const LATEST_S = 10;
const REFRESH_MS = 1000;

export const ProfilePanel = memo(function ProfilePanel({ api, sessionId, range, onRange, replayS }: Props) {
  const latestS = useRef<number | undefined>(undefined);
  // Read at each load, not a dependency: a playing replay moves it many times a second.
  const replayAt = useRef(replayS);
  replayAt.current = replayS;
  const [note, setNote] = useState<{ text: string; bad: boolean } | undefined>(undefined);
  const load = useCallback((): Promise<ProfileView> => {
    // Following: the newest seconds the session holds (live, the first answer says where they
    // end), or those up to a replay's position (the file holds samples past it).
    const at = replayAt.current;
    const to = latestS.current;
    const want = range ?? (at !== undefined ? latestRange(at, LATEST_S) : to === undefined ? { fromS: 0, toS: 1 } : { fromS: to - LATEST_S, toS: to });
    return api.profile(sessionId, want.fromS, Math.max(want.toS, want.fromS + 0.001)).then((v) => {
      if (v.extent) latestS.current = v.extent.toS;
      return v;
    });
  }, [api, sessionId, range]);
  const { value: view, error } = usePolled(load, `${sessionId}:${range?.fromS}:${range?.toS}`, REFRESH_MS);
  const open = (url: string, line: number, column: number): void => {
    api.openInEditor(url, line, column).then(
      () => setNote({ text: `opened ${url}:${line} in the editor`, bad: false }),
      (err: Error) => setNote({ text: err.message, bad: true }),
    );
  };
  const sampler = view?.profiler;

  return (
    <section className="profile-panel" data-testid="profile-panel">
      <h3>CPU profile</h3>
      {sampler && sampler.state !== 'on' && <p className="muted" role="status">The CPU sampler is {sampler.state}{sampler.reason ? `: ${sampler.reason}` : ''}.</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {note && <p className={note.bad ? 'error' : 'muted'} role="status">{note.text}</p>}
      {!view
        ? <p className="muted">Loading the profile…</p>
        : (
          <>
            <RangePicker view={view} following={range === null} onPick={onRange} onFollow={() => onRange(null)} />
            <p className="profile-kinds" data-testid="profile-kinds">
              {view.samples} samples every {view.sampleIntervalMs} ms:{' '}
              {(['code', 'idle', 'gc', 'program', 'probe'] as const).filter((k) => view.kinds[k] > 0).map((k) => (
                <span key={k} className="kind"><span className="chip" style={{ background: KIND_COLORS[k === 'code' ? 'own' : k] }} />{k === 'code' ? 'code' : KIND_NAMES[k]} {samplesMs(view, view.kinds[k])}</span>
              ))}
            </p>
            {view.unsampled && <p className="muted" data-testid="profile-unsampled">{unsampledText(unsampledOf(view, view.unsampled))}</p>}
            <FlameGraph view={view} onOpen={open} />
            <BottomUpTable view={view} onOpen={open} />
          </>
        )}
    </section>
  );
});
