// The Session screen: one loop (a process's main thread or a worker thread), live or replayed.
// A layout of fixed places: the header, the replay bar, one status line, the overview (charts
// and key findings) and one panel of tabs (blocks, CPU profile, tasks, trace, console, and
// every loop of the session once it has more than one), which scrolls inside. Nothing
// that arrives moves the rest of the screen. Selecting a block (in its pane, or a spike on
// the lag chart) selects its time for the CPU profile; dragging over the profile's range
// picker selects another.

import { memo, useCallback, useEffect, useMemo, useState } from 'react';
import type { BlockedView, BlockGroupView, HostApi, ProcessLoops, ReplayMark } from '../../main/ui/ui-api';
import { BlockGroups } from '../blocks/BlockGroups';
import { reportAt, type BlockSelection } from '../blocks/block-selection';
import { useThrottled } from '../charts/use-throttled';
import { PartBoundary } from '../common/PartBoundary';
import { Tabs, type Tab } from '../common/Tabs';
import { ConsolePane } from '../console/ConsolePane';
import { LoopOverview } from '../loops/LoopOverview';
import { loopCount } from '../loops/loop-rows';
import { exitIsBad, exitText } from '../console/exit-text';
import { ProfilePanel } from '../profile/ProfilePanel';
import { blockRange, type TimeRange } from '../profile/time-range';
import { ReplayBar } from '../replay/ReplayBar';
import { markedReport } from '../replay/scrubber';
import type { SessionData } from '../store';
import { TasksPane } from '../tasks/TasksPane';
import { TracePanel } from '../timeline/TracePanel';
import { keyFindings, type KeyFinding, type PaneId } from './key-findings';
import { Overview } from './Overview';
import { SessionHeader } from './SessionHeader';

/** The charts show the most recent stretch of the session. */
const WINDOW_S = 120;
/** Charts redraw at most this often; the rest of the screen every frame. */
const CHART_REFRESH_MS = 250;
/** A click this close to a block's end (as a share of the charts' span, or 0.5 s) picks it. */
const PICK_SHARE = 0.02;

interface Props {
  readonly api: HostApi;
  readonly data: SessionData;
  /** Every loop of the session (its group's first session has them), by process. */
  readonly loops: readonly ProcessLoops[];
  readonly onBack: () => void;
  /** Shows another session (a recording just made, opened for replay). */
  readonly onOpen: (sessionId: string) => void;
}

// Memoized: the store wakes the app when any session changes, and with many loops most
// changes are other loops' (each a session of its own).
export const SessionScreen = memo(function SessionScreen({ api, data, loops, onBack, onOpen }: Props) {
  const { view, points } = data;
  const [error, setError] = useState<string | undefined>(undefined);
  const [pane, setPane] = useState<PaneId>('blocks');
  const [selection, setSelection] = useState<BlockSelection>({});
  // The profile's range: a block's, a stretch dragged over, or the latest seconds (null).
  const [range, setRange] = useState<TimeRange | null>(null);
  const [clock, setClock] = useState(false);
  const shown = useThrottled(points, CHART_REFRESH_MS);
  const recent = useMemo(() => {
    const lastT = shown[shown.length - 1]?.t ?? 0;
    return shown.filter((p) => p.t >= lastT - WINDOW_S);
  }, [shown]);
  const act = useCallback((action: Promise<void>): void => {
    setError(undefined);
    action.catch((err: Error) => setError(err.message));
  }, []);
  const onError = useCallback((message: string) => setError(message), []);
  // From the parts they come from, not the whole view: a session's view changes with each of
  // its loops' figures, and new findings redraw the charts.
  const { blockGroups, warnings, dropped, gcUnrecorded, risingHeapFloor, exit, findings: taskFindings, cwd, pid, threadId } = view;
  const findings = useMemo(
    () => keyFindings({ blockGroups, warnings, dropped, gcUnrecorded, risingHeapFloor, exit, findings: taskFindings, loops, pid, threadId }, cwd),
    [blockGroups, warnings, dropped, gcUnrecorded, risingHeapFloor, exit, taskFindings, loops, pid, threadId, cwd],
  );
  const axis = useMemo(() => ({ startedAtMs: view.startedAtMs, clock }), [view.startedAtMs, clock]);

  // The block the replay bar went to, until its report is in the view (after the seek); a
  // block or group the user picks meanwhile wins.
  const [jumped, setJumped] = useState<ReplayMark | undefined>(undefined);
  const selectGroup = useCallback((g: BlockGroupView) => {
    setJumped(undefined);
    setSelection({ group: g.key });
    setRange(blockRange(g.longestT, g.longestMs));
  }, []);
  const selectReport = useCallback((r: BlockedView) => {
    setJumped(undefined);
    setSelection({ report: r.id });
    setRange(blockRange(r.t, r.durationMs));
  }, []);
  const showProfile = useCallback((r: BlockedView | undefined, g: BlockGroupView | undefined) => {
    if (r) setRange(blockRange(r.t, r.durationMs));
    else if (g) setRange(blockRange(g.longestT, g.longestMs));
    setPane('profile');
  }, []);
  const onFinding = useCallback((f: KeyFinding) => {
    if (f.session) return onOpen(f.session);
    if (f.pane) setPane(f.pane);
    if (f.group) selectGroup(f.group);
  }, [selectGroup, onOpen]);
  const blocked = view.blocked;
  useEffect(() => {
    const report = jumped && markedReport(blocked, jumped);
    if (report) selectReport(report);
  }, [jumped, blocked, selectReport]);
  const span = recent.length > 1 ? recent[recent.length - 1]!.t - recent[0]!.t : 0;
  const onPickTime = useCallback((t: number) => {
    const report = reportAt(blocked, t, Math.max(0.5, span * PICK_SHARE));
    if (!report) return;
    selectReport(report);
    setPane('blocks');
  }, [blocked, span, selectReport]);

  const replay = view.replay;
  const tabs: readonly Tab<PaneId>[] = [
    { id: 'blocks', name: 'Blocks', label: <>Blocks <span className="count">{view.blockedCount}</span></> },
    { id: 'profile', name: 'Profile', label: 'Profile' },
    { id: 'tasks', name: 'Tasks', label: 'Tasks' },
    { id: 'trace', name: 'Trace', label: 'Trace' },
    { id: 'console', name: 'Console', label: <>Console{view.exit && exitIsBad(view.exit) ? <span className="count bad">!</span> : null}</> },
    // Last, so that its coming (a worker started) moves no other tab.
    ...(loopCount(loops) > 1 ? [{ id: 'loops' as const, name: 'Loops', label: <>Loops <span className="count">{loopCount(loops)}</span></> }] : []),
  ];
  // One line, in a place of its own: an action's error first, then what went wrong around the
  // session (attach's warnings, also among the key findings), then how it ended.
  const alert = error ?? view.warnings[0];
  const status = alert ?? (view.status === 'ended'
    ? `The probe is gone${view.exit ? `: the program ${exitText(view.exit)}` : view.error ? `: ${view.error}` : ' (the process ended, or loopscope detached)'}. What was collected stays here until you close it.`
    : undefined);

  return (
    <main className="session">
      <SessionHeader api={api} view={view} onBack={onBack} onOpen={onOpen} onError={onError} act={act} />
      {replay && <PartBoundary what="The replay bar"><ReplayBar api={api} sessionId={view.id} replay={replay} onError={onError} onBlock={setJumped} /></PartBoundary>}
      <p className={alert ? 'status-line error' : 'status-line'} role={alert ? 'alert' : 'status'} title={status} data-testid={alert === error ? undefined : 'session-warning'}>{status}</p>
      <PartBoundary what="The charts">
        <Overview
          points={recent}
          axis={axis}
          onClock={setClock}
          thresholdMs={view.config.blockThresholdMs}
          waiting={replay ? 'No samples before this point of the recording: press Play, or move the scrubber to the right.' : `Waiting for the first samples from process ${view.pid}…`}
          findings={findings}
          onFinding={onFinding}
          onPickTime={onPickTime}
        />
      </PartBoundary>
      <Tabs tabs={tabs} current={pane} onSelect={setPane}>
        {pane === 'blocks' && (
          <BlockGroups
            api={api}
            groups={view.blockGroups}
            blocked={view.blocked}
            count={view.blockedCount}
            thresholdMs={view.config.blockThresholdMs}
            samplerIntervalMs={view.profiler?.intervalMs}
            cwd={view.cwd}
            selection={selection}
            onSelectGroup={selectGroup}
            onSelectReport={selectReport}
            onProfile={showProfile}
          />
        )}
        {pane === 'profile' && <ProfilePanel key={view.id} api={api} sessionId={view.id} range={range} onRange={setRange} replayS={replay?.positionS} />}
        {pane === 'tasks' && <TasksPane api={api} view={view} cwd={view.cwd} onMode={() => act(api.configure(view.id, { mode: 'tasks' }))} />}
        {pane === 'trace' && <TracePanel key={view.id} api={api} view={view} onMode={() => act(api.configure(view.id, { mode: 'trace' }))} />}
        {pane === 'console' && <ConsolePane api={api} view={view} />}
        {pane === 'loops' && <LoopOverview processes={loops} currentId={view.id} thresholdMs={view.config.blockThresholdMs} onOpen={onOpen} />}
      </Tabs>
    </main>
  );
});
