// What loopscope knows about one probed process, built from the probe's messages by a pure
// reducer. Live and replay feed the same reducer (through session-feed.ts), so they cannot
// disagree. The recent samples the views draw are kept beside the state (sample-ring.ts).

import type { BlockedReport, DropCounters, GcSourceState, Goodbye, Hello, MetricsSample, Notice, ProbeMessage, ProbePause, ProfilerState } from '../../probe/wire';
import { addBlock, type BlockGroup } from './blocked-groups';
import { addInterval, emptyLagHistogram, type LagHistogram } from './lag-histogram';
import { applyTasks, initialTasksState, type TasksState } from './tasks-state';
import { addHeapSample, initialHeapFloor, type HeapFloor } from './heap-floor';

/** Blocked-loop reports kept: the longest ones, plus a few still ongoing. */
export const KEPT_BLOCKED = 200;
/** A probe's one main thread has one block ongoing at a time: more is a damaged or crafted stream. */
const KEPT_ONGOING = 16;
/** The probe's own pauses kept: its start, the profiler's, and the rare long harvest. */
export const KEPT_PROBE_PAUSES = 64;
/** Notices kept, the first ones: a probe sends 32 at most (probe/notice-budget.ts); more is a crafted stream. */
export const KEPT_NOTICES = 64;

export interface Totals {
  readonly samples: number;
  readonly firstSampleUs: number | undefined;
  readonly lastSampleUs: number | undefined;
  readonly lag: LagHistogram;
  readonly lagMaxUs: number;
  readonly utilizationWeighted: number;
  readonly utilizationTimeUs: number;
  readonly utilizationMax: number;
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly rssMaxBytes: number;
  readonly heapUsedMaxBytes: number;
  readonly heapFloor: HeapFloor;
  readonly gcCount: number;
  readonly gcTotalUs: number;
  readonly gcMaxUs: number;
  readonly blockedCount: number;
}

export interface SessionState {
  readonly hello: Hello | undefined;
  readonly totals: Totals;
  /** Ended and ongoing blocked reports, longest first. */
  readonly blocked: readonly BlockedReport[];
  readonly drops: DropCounters;
  readonly goodbye: Goodbye | undefined;
  /** tasks and trace modes. */
  readonly tasks: TasksState;
  /** trace mode: lifecycle events received (the causality model lives in trace-model.ts). */
  readonly traceEvents: number;
  /** Ended blocks grouped by stack (blocked-groups.ts), in order of first appearance. */
  readonly blockGroups: readonly BlockGroup[];
  /** Ended blocks of groups past the bound. */
  readonly ungroupedBlocks: number;
  /** Pauses of the target's main thread that were the probe's own work, the first ones. */
  readonly probePauses: readonly ProbePause[];
  /** The CPU sampler, as the probe last said (undefined: the probe has none, or said nothing). */
  readonly profiler: ProfilerState | undefined;
  /** What the probe could not do that the user should know of (worker threads it could not follow), the first ones. */
  readonly notices: readonly Notice[];
  /** Where the loop's GC pauses come from, as the probe last said (undefined: it has not said yet). */
  readonly gcSource: GcSourceState | undefined;
}

export const initialTotals: Totals = {
  samples: 0,
  firstSampleUs: undefined,
  lastSampleUs: undefined,
  lag: emptyLagHistogram(),
  lagMaxUs: 0,
  utilizationWeighted: 0,
  utilizationTimeUs: 0,
  utilizationMax: 0,
  cpuUserUs: 0,
  cpuSystemUs: 0,
  rssMaxBytes: 0,
  heapUsedMaxBytes: 0,
  heapFloor: initialHeapFloor,
  gcCount: 0,
  gcTotalUs: 0,
  gcMaxUs: 0,
  blockedCount: 0,
};

export const initialSessionState: SessionState = {
  hello: undefined,
  totals: initialTotals,
  blocked: [],
  drops: { frames: {}, bytes: 0 },
  goodbye: undefined,
  tasks: initialTasksState,
  traceEvents: 0,
  blockGroups: [],
  ungroupedBlocks: 0,
  probePauses: [],
  profiler: undefined,
  notices: [],
  gcSource: undefined,
};

function addSample(t: Totals, s: MetricsSample): Totals {
  let gcTotalUs = t.gcTotalUs;
  let gcMaxUs = t.gcMaxUs;
  for (const g of s.gc) {
    gcTotalUs += g.durationUs;
    gcMaxUs = Math.max(gcMaxUs, g.durationUs);
  }
  return {
    samples: t.samples + 1,
    firstSampleUs: t.firstSampleUs ?? s.timeUs - s.intervalUs,
    lastSampleUs: s.timeUs,
    lag: addInterval(t.lag, s.lag.percentiles, s.lag.count),
    lagMaxUs: Math.max(t.lagMaxUs, s.lag.maxUs),
    utilizationWeighted: t.utilizationWeighted + s.utilization * s.intervalUs,
    utilizationTimeUs: t.utilizationTimeUs + s.intervalUs,
    utilizationMax: Math.max(t.utilizationMax, s.utilization),
    cpuUserUs: t.cpuUserUs + s.cpuUserUs,
    cpuSystemUs: t.cpuSystemUs + s.cpuSystemUs,
    rssMaxBytes: Math.max(t.rssMaxBytes, s.rssBytes),
    heapUsedMaxBytes: Math.max(t.heapUsedMaxBytes, s.heapUsedBytes),
    heapFloor: addHeapSample(t.heapFloor, s.timeUs, s.heapUsedBytes),
    gcCount: t.gcCount + s.gc.length,
    gcTotalUs,
    gcMaxUs,
    blockedCount: t.blockedCount,
  };
}

function addBlocked(state: SessionState, report: BlockedReport): SessionState {
  const previous = state.blocked.find((b) => b.id === report.id);
  if (report.state === 'cancelled') {
    if (!previous) return state;
    return {
      ...state,
      blocked: state.blocked.filter((b) => b.id !== report.id),
      totals: { ...state.totals, blockedCount: state.totals.blockedCount - 1 },
    };
  }
  // A later report about the same block keeps a stack that an earlier one already had.
  const merged: BlockedReport = previous && report.stack.length === 0 && previous.stack.length > 0
    ? { ...report, stack: previous.stack, ...(previous.stackError === undefined ? {} : { stackError: previous.stackError }) }
    : report;
  const others = state.blocked.filter((b) => b.id !== report.id);
  const blocked = [...others, merged].sort((a, b) => b.durationUs - a.durationUs);
  let ongoing = 0;
  const kept = blocked.length > KEPT_BLOCKED ? blocked.filter((b, i) => i < KEPT_BLOCKED || (b.state === 'ongoing' && ++ongoing <= KEPT_ONGOING)) : blocked;
  const isNew = previous === undefined;
  const grouped = report.state === 'ended' ? addBlock(state.blockGroups, state.ungroupedBlocks, merged) : undefined;
  return {
    ...state,
    blocked: kept,
    totals: isNew ? { ...state.totals, blockedCount: state.totals.blockedCount + 1 } : state.totals,
    ...(grouped ? { blockGroups: grouped.groups, ungroupedBlocks: grouped.overflow } : {}),
  };
}

/** The command line the probed process was started with, its Node options included. */
export function commandOf(hello: Hello): string[] {
  return [hello.argv[0] ?? 'node', ...hello.execArgv, ...hello.argv.slice(1)];
}

export function applyMessage(state: SessionState, message: ProbeMessage): SessionState {
  switch (message.type) {
    case 'hello':
      return { ...state, hello: message.hello };
    case 'metrics':
      return { ...state, totals: addSample(state.totals, message.sample) };
    case 'blocked':
      return addBlocked(state, message.report);
    case 'drops':
      return { ...state, drops: message.drops };
    case 'goodbye':
      return { ...state, goodbye: message.goodbye };
    case 'tasks':
      return { ...state, tasks: applyTasks(state.tasks, message.sample) };
    case 'taskEvents':
      return { ...state, traceEvents: state.traceEvents + message.batch.count };
    case 'probePause':
      return state.probePauses.length < KEPT_PROBE_PAUSES ? { ...state, probePauses: [...state.probePauses, message.pause] } : state;
    case 'profilerState':
      return { ...state, profiler: message.profiler };
    case 'notice':
      return state.notices.length < KEPT_NOTICES ? { ...state, notices: [...state.notices, message.notice] } : state;
    case 'gcSource':
      return { ...state, gcSource: message.gc };
    // The samples and their dictionary feed the profile model (session-feed.ts), not the state.
    case 'dictionary':
    case 'profileDictionary':
    case 'profileSamples':
      return state;
  }
}
