// SessionState → what the UI draws (main/ui-api.ts). Pure, so the web host, the Electron
// window and the tests all see the same numbers.

import type { ProbeConfig } from '../../probe/wire';
import { DEFAULT_CONFIG } from '../../probe/constants';
import { countOf, percentileUs } from '../../probe/log-histogram';
import type { BlockedView, BlockGroupView, ExitView, Finding, ProcessLoops, ProfilerView, RecordingView, ReplayView, SeriesPoint, SessionSummary, SessionView, TaskRow } from './ui-api';
import { groupKey, groupsWithOngoing, ongoingKeys } from '../session/blocked-groups';
import { loopName } from '../session/loop-identity';
import { summarizeTasks } from '../reports/summary';
import { taskFindings } from '../reports/task-findings';
import type { RecentSamples } from '../session/sample-ring';
import type { SessionData } from '../session/session-feed';
import { commandOf, type SessionState } from '../session/session-state';
import { promiseNote, promisesCostly } from '../common/promise-note';
import { noticeWarnings, readTooSlowly, unrecordedGcPauses } from '../common/notice-text';
import { risingHeapFloor } from '../session/heap-floor';

const ms = (us: number): number => Math.round(us) / 1000;
const mb = (bytes: number): number => Math.round(bytes / 10_485.76) / 100;

/**
 * Sample `i` of `recent` as a point. `originUs`: the session's first sample start, on the
 * target's clock. `gcUs`: the GC time that began in this sample's interval (see gcByStart),
 * which is not the time of the pauses it carries: traced pauses reach loopscope about a
 * second after they happen.
 */
export function seriesPoint(recent: RecentSamples, i: number, originUs: number, gcUs: number): SeriesPoint {
  const s = recent.at(i);
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

const MAX_LATE_US = 5_000_000;

/** The index of the sample whose interval holds `us` (the last interval ending at or after it). */
function sampleAt(recent: RecentSamples, us: number): number {
  let lo = 0;
  let hi = recent.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (recent.at(mid).timeUs < us) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * GC time per sample from `from` on, by when each pause began, from the pauses carried by the
 * samples from `from` on. Pure.
 */
export function gcByStart(recent: RecentSamples, from: number): Float64Array {
  const out = new Float64Array(Math.max(0, recent.length - from));
  if (out.length === 0) return out;
  const first = recent.at(from);
  const startUs = first.timeUs - first.intervalUs;
  for (let j = from; j < recent.length; j++) {
    for (const g of recent.at(j).gc) {
      if (g.startUs < startUs) continue;
      const k = Math.min(j, sampleAt(recent, g.startUs)) - from;
      out[k] = out[k]! + g.durationUs;
    }
  }
  return out;
}

/** The last `count` samples received, as points (count is capped by what the state keeps). */
export function newPoints({ state, recent }: SessionData, count: number): SeriesPoint[] {
  const origin = originOf(state);
  const from = Math.max(0, recent.length - count);
  const gc = gcByStart(recent, from);
  const out: SeriesPoint[] = [];
  for (let i = from; i < recent.length; i++) out.push(seriesPoint(recent, i, origin, gc[i - from]!));
  return out;
}

/**
 * The points before the last `count` whose GC time the last `count` samples changed: they
 * carry pauses that began in those points' intervals. Sent again, so a chart shows each pause
 * where it happened.
 */
export function revisedPoints({ state, recent }: SessionData, count: number): SeriesPoint[] {
  const firstNew = Math.max(0, recent.length - count);
  if (firstNew === 0 || firstNew >= recent.length) return [];
  // Pauses come at most about a second late; anything older is not worth resending for.
  const oldestUs = recent.at(firstNew).timeUs - MAX_LATE_US;
  let earliest = firstNew;
  for (let j = firstNew; j < recent.length; j++) {
    for (const g of recent.at(j).gc) {
      if (g.startUs >= oldestUs) earliest = Math.min(earliest, sampleAt(recent, g.startUs));
    }
  }
  if (earliest === firstNew) return [];
  const origin = originOf(state);
  const gc = gcByStart(recent, earliest);
  const out: SeriesPoint[] = [];
  for (let i = earliest; i < firstNew; i++) out.push(seriesPoint(recent, i, origin, gc[i - earliest]!));
  return out;
}

/** The window's task table: null before the first tasks sample. */
export function tasksRows(tasks: SessionState['tasks']): TaskRow[] | null {
  const { samples, latest, byType } = tasks;
  if (samples === 0) return null;
  const latestByType = new Map(latest?.types.map((t) => [t.type, t]));
  const perS = (n: number | undefined): number => (latest && latest.intervalUs > 0 && n ? Math.round((n * 1e6) / latest.intervalUs) : 0);
  return Object.values(byType).map((t) => {
    const timed = countOf(t.callbackUs);
    // No callback timed: durations unknown, not 0.
    const timing = (us: () => number): number | null => (timed > 0 ? ms(us()) : null);
    return {
      type: t.type,
      created: t.created,
      destroyed: t.destroyed,
      alive: t.alive,
      callbacks: t.callbacks,
      callbacksTimed: timed,
      createdPerS: perS(latestByType.get(t.type)?.created),
      callbacksPerS: perS(latestByType.get(t.type)?.callbacks),
      callbackP50Ms: timing(() => percentileUs(t.callbackUs, 50, t.callbackMaxUs)),
      callbackP99Ms: timing(() => percentileUs(t.callbackUs, 99, t.callbackMaxUs)),
      callbackMaxMs: timing(() => t.callbackMaxUs),
    };
  });
}

/** Groups of blocks sent to the UI, the most blocked time first. */
const GROUPS_SHOWN = 100;

/** Samples the probe's cost is averaged over (a second at the default interval). */
const COST_SAMPLES = 10;

export function probeCost(recent: RecentSamples): SessionView['probeCost'] {
  let main = 0;
  let worker = 0;
  let interval = 0;
  for (const s of recent.slice(-COST_SAMPLES)) {
    main += s.probeMainUs;
    worker += s.probeWorkerUs;
    interval += s.intervalUs;
  }
  if (interval <= 0 || main + worker === 0) return null;
  const percent = (us: number): number => Math.round((us / interval) * 1000) / 10;
  return { mainPercent: percent(main), workerPercent: percent(worker) };
}

/**
 * The span the task totals cover: the tasks samples so far, each one metrics interval long.
 * Not since a time: tasks mode may have been off in between.
 */
function tasksWindow(state: SessionState): SessionView['tasksWindow'] {
  const { samples, latest } = state.tasks;
  if (samples === 0 || !latest) return null;
  const intervalS = latest.intervalUs / 1e6;
  return { spanS: Math.round(samples * intervalS * 10) / 10, intervalS };
}

/** The findings of each tasks state, computed once per tasks sample (views go out ~30 times a second). */
const findingsOf = new WeakMap<object, readonly Finding[]>();

function tasksFindings({ state, trace }: SessionData): readonly Finding[] {
  if (state.tasks.samples === 0) return [];
  let found = findingsOf.get(state.tasks);
  if (!found) {
    found = taskFindings(summarizeTasks(state.tasks, trace));
    findingsOf.set(state.tasks, found);
  }
  return found;
}

export interface ViewContext {
  readonly id: string;
  /** The id of the group's first loop (its own id for that one). */
  readonly group: string;
  /** The group's loops by process: for the group's first session; empty for the others. */
  readonly loops: readonly ProcessLoops[];
  readonly how: SessionView['how'];
  /** What loopscope last asked the probe for (the probe does not echo a configure). */
  readonly config: ProbeConfig;
  readonly ended: boolean;
  readonly error: string | undefined;
  readonly warnings: readonly string[];
  readonly recording: RecordingView | null;
  readonly replay: ReplayView | null;
  readonly output: SessionView['output'];
  readonly exit: ExitView | null;
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

export function sessionView(data: SessionData, c: ViewContext): SessionView {
  const { state, recent } = data;
  const hello = state.hello;
  const origin = originOf(state);
  const timeOriginMs = hello?.timeOriginMs ?? 0;
  const toS = (us: number): number => (us - origin) / 1e6;
  const notices = noticeWarnings([data]);
  const blocked: BlockedView[] = state.blocked.map((b) => ({
    id: b.id,
    durationMs: ms(b.durationUs),
    t: toS(b.startUs),
    at: new Date(timeOriginMs + b.startUs / 1000).toISOString(),
    ongoing: b.state === 'ongoing',
    stack: b.stack,
    stackError: b.stackError ?? null,
    stackSource: b.stackSource ?? null,
    samples: b.samples ?? null,
    sampled: b.sampled ?? null,
    sampleKinds: b.sampleKinds ?? null,
    lineSource: b.lineSource ?? null,
    unsampled: b.unsampled ?? null,
    otherStacks: b.otherStacks ?? [],
    group: groupKey(b.stack),
  }));
  const ongoing = ongoingKeys(state.blockGroups, state.blocked);
  const blockGroups: BlockGroupView[] = groupsWithOngoing(state.blockGroups, state.blocked, 'known').slice(0, GROUPS_SHOWN).map((g) => ({
    key: g.key, count: g.count, totalMs: ms(g.totalUs), maxMs: ms(g.maxUs), stack: g.stack, stackSource: g.stackSource, sources: g.sources,
    longestT: toS(g.longestStartUs), longestMs: ms(g.maxUs), lastT: toS(g.lastStartUs), ongoing: ongoing.has(g.key),
  }));
  const profiler: ProfilerView | null = state.profiler ? { state: state.profiler.state, intervalMs: state.profiler.intervalMs, reason: state.profiler.reason ?? null } : null;
  const latest = recent.last();
  return {
    id: c.id,
    group: c.group,
    threadId: hello?.threadId ?? 0,
    loopName: hello ? loopName(hello) : 'main',
    loops: c.loops,
    pid: hello?.pid ?? 0,
    nodeVersion: hello?.nodeVersion ?? '',
    command: hello ? commandOf(hello) : [],
    cwd: hello?.cwd ?? '',
    how: c.how,
    config: c.config,
    status: c.replay ? 'replay' : c.ended ? 'ended' : 'live',
    error: c.error ?? null,
    // The loop's notices (a process's main loop tells of the workers it could not follow).
    warnings: notices.length === 0 ? c.warnings : [...c.warnings, ...notices],
    // What loopscope read too slowly: the notices the probe held back are in the warnings.
    dropped: { frames: readTooSlowly(state.drops.frames).reduce((a, [, n]) => a + n, 0), bytes: state.drops.bytes },
    gcUnrecorded: unrecordedGcPauses(state.drops.frames),
    risingHeapFloor: risingHeapFloor(state.totals.heapFloor) ?? null,
    blockedCount: state.totals.blockedCount,
    blocked,
    blockGroups,
    profiler,
    probePauses: state.probePauses.map((p) => ({ what: p.what, t: toS(p.startUs), durationMs: ms(p.durationUs) })),
    resources: latest ? [...latest.resources].sort((a, b) => b.count - a.count) : [],
    tasks: tasksRows(state.tasks),
    promises: state.tasks.samples === 0 ? null : {
      note: promiseNote(state.tasks.promisesTracked, state.tasks.promiseSkipping),
      costly: promisesCostly(state.tasks.promisesTracked, state.tasks.promiseSkipping),
    },
    tasksWindow: tasksWindow(state),
    findings: tasksFindings(data),
    startedAtMs: hello && state.totals.firstSampleUs !== undefined ? Math.round(timeOriginMs + origin / 1000) : null,
    output: c.output,
    exit: c.exit,
    probeCost: probeCost(recent),
    recording: c.recording,
    replay: c.replay,
  };
}

/** What a window lists of a session it does not show: the caller's part, and the process's from its hello. */
export function sessionSummary({ state }: SessionData, c: Omit<SessionSummary, 'pid' | 'command'>): SessionSummary {
  const { hello } = state;
  return { ...c, pid: hello?.pid ?? 0, command: hello ? commandOf(hello) : [] };
}
