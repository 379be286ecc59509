// SessionState → what the UI draws (main/ui-api.ts). Pure, so the web host, the Electron
// window and the tests all see the same numbers.

import type { MetricsSample, ProbeConfig } from '../../probe/wire';
import { DEFAULT_CONFIG } from '../../probe/constants';
import { percentileUs } from '../../probe/log-histogram';
import type { BlockedView, RecordingView, ReplayView, SeriesPoint, SessionView, TaskRow } from '../ui-api';
import type { SessionState } from './session-state';

const ms = (us: number): number => Math.round(us) / 1000;
const mb = (bytes: number): number => Math.round(bytes / 10_485.76) / 100;

/** `originUs`: the session's first sample start, on the target's clock. */
export function seriesPoint(s: MetricsSample, originUs: number): SeriesPoint {
  let gcUs = 0;
  for (const g of s.gc) gcUs += g.durationUs;
  return {
    t: (s.timeUs - originUs) / 1e6,
    p50Ms: ms(s.lag.p50Us),
    p99Ms: ms(s.lag.p99Us),
    // The stall measured by the heartbeat is exact for a block; the histogram's max is not.
    maxMs: ms(Math.max(s.lag.maxUs, s.lag.stallMaxUs)),
    utilization: s.utilization,
    cpu: s.intervalUs > 0 ? (s.cpuUserUs + s.cpuSystemUs) / s.intervalUs : 0,
    heapUsedMb: mb(s.heapUsedBytes),
    heapTotalMb: mb(s.heapTotalBytes),
    gcMs: ms(gcUs),
  };
}

export function originOf(state: SessionState): number {
  return state.totals.firstSampleUs ?? 0;
}

/** The last `count` samples received, as points (count is capped by what the state keeps). */
export function newPoints(state: SessionState, count: number): SeriesPoint[] {
  const origin = originOf(state);
  const from = Math.max(0, state.recent.length - count);
  return state.recent.slice(from).map((s) => seriesPoint(s, origin));
}

function tasksRows(state: SessionState): TaskRow[] | null {
  if (state.tasks.samples === 0) return null;
  return Object.values(state.tasks.byType).map((t) => ({
    type: t.type,
    created: t.created,
    destroyed: t.destroyed,
    alive: t.alive,
    callbacks: t.callbacks,
    callbackP50Ms: ms(Math.min(t.callbackMaxUs, percentileUs(t.callbackUs, 50))),
    callbackP99Ms: ms(Math.min(t.callbackMaxUs, percentileUs(t.callbackUs, 99))),
    callbackMaxMs: ms(t.callbackMaxUs),
  }));
}

/** Samples the probe's cost is averaged over (a second at the default interval). */
const COST_SAMPLES = 10;

export function probeCost(state: SessionState): SessionView['probeCost'] {
  let main = 0;
  let worker = 0;
  let interval = 0;
  for (const s of state.recent.slice(-COST_SAMPLES)) {
    main += s.probeMainUs;
    worker += s.probeWorkerUs;
    interval += s.intervalUs;
  }
  if (interval <= 0 || main + worker === 0) return null;
  const percent = (us: number): number => Math.round((us / interval) * 1000) / 10;
  return { mainPercent: percent(main), workerPercent: percent(worker) };
}

export interface ViewContext {
  readonly id: string;
  readonly how: SessionView['how'];
  /** What loopscope last asked the probe for (the probe does not echo a configure). */
  readonly config: ProbeConfig;
  readonly ended: boolean;
  readonly error: string | undefined;
  readonly recording: RecordingView | null;
  readonly replay: ReplayView | null;
}

/**
 * A recording keeps the probe's first settings (a configure is not a frame); the mode the
 * data shows is the richest one seen so far.
 */
export function replayConfig(state: SessionState): ProbeConfig {
  const first = state.hello?.config ?? DEFAULT_CONFIG;
  const mode = state.traceEvents > 0 ? 'trace' : state.tasks.samples > 0 && first.mode === 'metrics' ? 'tasks' : first.mode;
  return { ...first, mode };
}

export function sessionView(state: SessionState, c: ViewContext): SessionView {
  const hello = state.hello;
  const origin = originOf(state);
  const timeOriginMs = hello?.timeOriginMs ?? 0;
  const blocked: BlockedView[] = state.blocked.map((b) => ({
    id: b.id,
    durationMs: ms(b.durationUs),
    t: (b.startUs - origin) / 1e6,
    at: new Date(timeOriginMs + b.startUs / 1000).toISOString(),
    ongoing: b.state === 'ongoing',
    stack: b.stack,
    stackError: b.stackError ?? null,
  }));
  const latest = state.recent[state.recent.length - 1];
  return {
    id: c.id,
    pid: hello?.pid ?? 0,
    nodeVersion: hello?.nodeVersion ?? '',
    command: hello ? [hello.argv[0] ?? 'node', ...hello.execArgv, ...hello.argv.slice(1)] : [],
    how: c.how,
    config: c.config,
    status: c.replay ? 'replay' : c.ended ? 'ended' : 'live',
    error: c.error ?? null,
    dropped: { frames: Object.values(state.drops.frames).reduce((a, b) => a + b, 0), bytes: state.drops.bytes },
    blockedCount: state.totals.blockedCount,
    blocked,
    resources: latest ? [...latest.resources].sort((a, b) => b.count - a.count) : [],
    tasks: tasksRows(state),
    probeCost: probeCost(state),
    recording: c.recording,
    replay: c.replay,
  };
}
