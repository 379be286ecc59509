// The Session screen: one process's loop, live or replayed. Header (process, Node, mode
// switch, drops, record), the replay bar, the charts, active resources, blocked-loop
// reports, and in tasks mode the task table.

import { useCallback, useMemo, useState } from 'react';
import type { HostApi, ProbeMode } from '../../main/ui/ui-api';
import { HeapChart, LagChart, LoadChart } from '../charts/Charts';
import { useThrottled } from '../charts/use-throttled';
import type { SessionData } from '../store';
import { ReplayBar } from '../replay/ReplayBar';
import { BlockedList } from './BlockedList';
import { RecordButton } from './RecordButton';
import { TaskTable } from './TaskTable';
import { TracePanel } from '../timeline/TracePanel';
import { BlockGroups } from '../blocks/BlockGroups';
import { ProfilePanel } from '../profile/ProfilePanel';
import type { TimeRange } from '../profile/time-range';

/** The charts show the most recent stretch of the session. */
const WINDOW_S = 120;
const MODES: readonly ProbeMode[] = ['metrics', 'tasks', 'trace'];
/** Charts redraw at most this often; the rest of the screen every frame. */
const CHART_REFRESH_MS = 250;

interface Props {
  readonly api: HostApi;
  readonly data: SessionData;
  readonly onBack: () => void;
  /** Shows another session (a recording just made, opened for replay). */
  readonly onOpen: (sessionId: string) => void;
}

export function SessionScreen({ api, data, onBack, onOpen }: Props) {
  const { view, points } = data;
  const [error, setError] = useState<string | undefined>(undefined);
  const shown = useThrottled(points, CHART_REFRESH_MS);
  const recent = useMemo(() => {
    const lastT = shown[shown.length - 1]?.t ?? 0;
    return shown.filter((p) => p.t >= lastT - WINDOW_S);
  }, [shown]);
  const act = (action: Promise<void>): void => {
    setError(undefined);
    action.catch((err: Error) => setError(err.message));
  };
  const live = view.status === 'live';
  const replay = view.replay;
  const onError = useCallback((message: string) => setError(message), []);
  // The profile's range: a group's longest block, a stretch dragged over, or the latest (null).
  const [range, setRange] = useState<{ range: TimeRange; group?: string } | null>(null);
  const selectGroup = useCallback((group: string, r: TimeRange) => setRange({ range: r, group }), []);
  const pickRange = useCallback((r: TimeRange | null) => setRange(r && { range: r }), []);

  return (
    <main className="session">
      <header className="session-header">
        <button onClick={onBack}>← Start</button>
        <div className="who">
          <strong>pid {view.pid}</strong> <span className="muted">{view.command.join(' ')}</span>
          <div className="muted">Node {view.nodeVersion} · {replay ? <>replay of <code title={replay.file}>{replay.file.split(/[\\/]/).pop()}</code></> : view.how === 'attach' ? 'attached' : 'launched'} · <span data-testid="status">{view.status}</span></div>
        </div>
        <div className="modes" role="group" aria-label="mode">
          {MODES.map((m) => (
            <button key={m} aria-pressed={view.config.mode === m} disabled={!live} onClick={() => act(api.configure(view.id, { mode: m }))}>{m}</button>
          ))}
        </div>
        {view.probeCost && (
          <div className="cost" data-testid="probe-cost" title="The probe's own time, as % of one core over the last second: its callbacks on the main thread (in tasks and trace modes, not its async hooks) and its worker thread">
            probe: {view.probeCost.mainPercent.toFixed(1)}% main thread + {view.probeCost.workerPercent.toFixed(1)}% worker
          </div>
        )}
        <div className="drops" data-testid="drops" title="Frames the probe dropped because loopscope read too slowly">
          dropped: {view.dropped.frames} frames, {view.dropped.bytes} bytes
        </div>
        {!replay && <RecordButton api={api} view={view} onOpen={onOpen} onError={onError} />}
        {live && <button onClick={() => act(api.stop(view.id))}>{view.how === 'attach' ? 'Detach' : 'Stop'}</button>}
        {/* Back to Start once the store drops the session (App), not when the call returns: the
            store applies its 'closed' event a frame later, and Start would list it until then. */}
        {replay && <button onClick={() => act(api.close(view.id))}>Close</button>}
      </header>
      {replay && <ReplayBar api={api} sessionId={view.id} replay={replay} onError={onError} />}
      {view.status === 'ended' && <p className="state" role="status">The probe is gone{view.error ? `: ${view.error}` : ' (the process ended, or loopscope detached)'}. The data below is what was collected; go back to Start to watch another process.</p>}
      {view.warnings.map((w) => <p key={w} className="state error" role="alert" data-testid="session-warning">{w}</p>)}
      {error && <p className="state error" role="alert">{error}</p>}
      {points.length === 0
        ? <p className="state">{replay ? 'No samples before this point of the recording: press Play, or move the scrubber to the right.' : `Waiting for the first samples from process ${view.pid}…`}</p>
        : (
          <div className="charts">
            <LagChart points={recent} thresholdMs={view.config.blockThresholdMs} />
            <LoadChart points={recent} />
            <HeapChart points={recent} />
            <section className="resources" data-testid="resources">
              <h3>Active resources</h3>
              {view.resources.length === 0
                ? <p className="muted">None: nothing keeps this loop alive but the probe.</p>
                : <ul>{view.resources.map((r) => <li key={r.type}><span>{r.type}</span> <strong>{r.count}</strong></li>)}</ul>}
            </section>
          </div>
        )}
      <BlockedList api={api} blocked={view.blocked} count={view.blockedCount} thresholdMs={view.config.blockThresholdMs} />
      {view.config.mode !== 'metrics' && <TaskTable rows={view.tasks} />}
      {view.config.mode === 'trace' && <TracePanel key={view.id} api={api} sessionId={view.id} />}
      <BlockGroups api={api} groups={view.blockGroups} ongoing={view.blocked.find((b) => b.ongoing)} count={view.blockedCount} thresholdMs={view.config.blockThresholdMs} selected={range?.group} onSelect={selectGroup} />
      <ProfilePanel key={`profile:${view.id}`} api={api} sessionId={view.id} range={range?.range ?? null} onRange={pickRange} />
    </main>
  );
}
