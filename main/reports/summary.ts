// The JSON summary of a session: what `--json` prints, and later what `summary` computes from
// a recording. Pure.

import type { BlockedReport, BlockSampleKinds, CreationSite, GcSourceState, LineSource, ProbeMode, ProbePause, PromiseSkipping, StackFrame, StackSource, UnfollowedCause } from '../../probe/wire';
import { groupsWithOngoing } from '../session/blocked-groups';
import { noStackList } from '../session/no-stack-reasons';
import type { StackSourceCounts } from '../common/stack-sources';
import { summarizeProfile, type ProfileSummary } from './profile-summary';
import { countOf, countPercentile, percentileUs, type SparseHistogram } from '../../probe/log-histogram';
import { poolWaitMaxUs, queuesForCallback } from '../../probe/task-types';
import { percentileOf } from '../session/lag-histogram';
import type { SessionData } from '../session/session-feed';
import { commandOf } from '../session/session-state';
import { leakHints, type TasksState } from '../session/tasks-state';
import { causalChain, type TraceModel } from '../session/trace-model';
import { loopIdentity, wasTerminated } from '../session/loop-identity';
import type { SessionState, Totals } from '../session/session-state';
import { poolSaturated, UNKNOWN_TYPE_REASON } from './task-findings';
import { noticeWarnings, probeDrops, unrecordedGcPauses } from '../common/notice-text';
import { risingHeapFloor, type HeapFloor, type HeapTrend } from '../session/heap-floor';

export interface BlockedSummary {
  /** ms since the target's time origin (its process start). */
  readonly startMs: number;
  /** Wall-clock time of the start, ISO 8601. */
  readonly at: string;
  readonly durationMs: number;
  readonly ongoing: boolean;
  /** The block's stack: from the CPU samples taken inside it where there are any (see stackSource). */
  readonly stack: readonly StackFrame[];
  readonly stackError?: string;
  /**
   * samples: the heaviest stack of the samples inside the block; interrupt: the watchdog's
   * stack, taken inside it; late-interrupt: taken after the block ended (it shows what ran next).
   */
  readonly stackSource?: StackSource;
  /** With samples: how many of the block's samples `stack` holds, of `sampled`. */
  readonly samples?: number;
  readonly sampled?: number;
  /** What the samples ran besides JavaScript (with `samples` 0, the stack is the interrupt's: none ran any). */
  readonly sampleKinds?: BlockSampleKinds;
  /** How the line of the first user frame was found. */
  readonly lineSource?: LineSource;
  /** Other things the block did, with their samples. */
  readonly otherStacks?: readonly { readonly stack: readonly StackFrame[]; readonly samples: number }[];
  /** No CPU samples: why, where the probe could tell (the sampler had not started yet, was off, …). */
  readonly unsampled?: string;
}

/** Blocks by stack: the same code blocking fifty times matters more than one long block. */
export interface BlockedGroupSummary {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
  readonly stack: readonly StackFrame[];
  /** Where most of the group's blocks got their stacks. */
  readonly stackSource: StackSource | null;
  /** How many of its blocks got their stacks from each source. */
  readonly sources: StackSourceCounts;
  /** A group with no stack: why, as its blocks' probes said (`reason` null: none said), most blocks first. */
  readonly noStack?: readonly { readonly reason: string | null; readonly blocks: number }[];
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface TasksSummary {
  readonly promisesTracked: boolean;
  /** How promises were left out, when they were (see probe/promise-skipping.ts). */
  readonly promiseSkipping?: PromiseSkipping;
  readonly byType: Readonly<Record<string, {
    readonly created: number;
    readonly destroyed: number;
    readonly alive: number;
    readonly callbacks: number;
    /** Callbacks whose durations were taken: fewer than `callbacks` for a busy type (the probe times a sample). */
    readonly callbacksTimed: number;
    readonly callbackMs: Percentiles;
    /** Creation to first callback, for the types where that is a wait (queuesForCallback), once one was called back; else null. */
    readonly queueMs: Percentiles | null;
  }>>;
  readonly threadpool: {
    readonly size: number;
    readonly maxInFlight: number;
    readonly maxQueued: number;
    readonly completed: number;
    readonly queueMsP50: number;
    readonly queueMsP99: number;
    /** Work queued behind busy threads, and waited long enough to matter (poolSaturated). */
    readonly saturated: boolean;
    readonly saturatedIntervals: number;
  };
  readonly timers: { readonly fired: number; readonly lateMsP50: number; readonly lateMsP99: number; readonly lateMsMax: number };
  readonly fanOut: {
    readonly p99: number;
    readonly max: number;
    /** The type of the callback that created `max`; null when none created any, or its type is not known (`maxTypeReason` says why). */
    readonly maxType: string | null;
    readonly maxTypeReason?: string;
  };
  readonly slowCallbacks: readonly {
    readonly type: string;
    readonly durationMs: number;
    readonly startMs: number;
    readonly initStack: readonly StackFrame[];
    /** trace mode: the resources that led to this one, root first. */
    readonly chain?: readonly { readonly asyncId: number; readonly type: string }[];
  }[];
  readonly growing: readonly { readonly type: string; readonly aliveAtStart: number; readonly aliveAtEnd: number; readonly sites: readonly CreationSite[] }[];
  readonly untracked: number;
}

export interface Summary {
  readonly pid: number | null;
  readonly nodeVersion: string | null;
  readonly command: readonly string[];
  readonly mode: ProbeMode | null;
  readonly intervalMs: number | null;
  readonly blockThresholdMs: number | null;
  readonly durationMs: number;
  readonly samples: number;
  readonly lag: { readonly p50Ms: number; readonly p90Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly utilization: { readonly mean: number; readonly max: number };
  readonly cpu: { readonly userMs: number; readonly systemMs: number };
  readonly memory: {
    readonly rssMaxBytes: number;
    readonly heapUsedMaxBytes: number;
    /** The heap's floor (its lowest, after GC) in the session's first quarter and its last, when it rose enough to tell (heap-floor.ts). */
    readonly risingFloor?: HeapTrend;
  };
  readonly gc: GcSummary;
  readonly blockedCount: number;
  readonly blocked: readonly BlockedSummary[];
  /** The most blocked time first. */
  readonly blockedGroups: readonly BlockedGroupSummary[];
  /** Pauses of the main thread that were the probe's own work (its start, the profiler's first start). */
  readonly probePauses: readonly { readonly what: string; readonly startMs: number; readonly durationMs: number }[];
  /** The CPU samples of the whole session; null when the probe had no sampler. */
  readonly profile: ProfileSummary | null;
  /** The probe's drops by message type, as it counted them; `Notice`: notices it held back over its limit (the warnings say how many). */
  readonly dropped: { readonly frames: Readonly<Record<string, number>>; readonly bytes: number };
  readonly tasks: TasksSummary | null;
  /** trace mode: lifecycle events received. */
  readonly traceEvents: number;
  readonly exitCode: number | null;
  /** Problems the user should know about (no probe connected, connection lost, a worker thread not followed, ...). */
  readonly warnings: readonly string[];
  /** Worker threads the probe could not be brought into: missing from `loops` (the warnings say so in words). */
  readonly unfollowedWorkers: readonly UnfollowedWorkerSummary[];
  /** Every loop of the session (the top-level fields describe the first one), in the order they came. */
  readonly loops: readonly LoopSummary[];
}

export interface UnfollowedWorkerSummary {
  readonly pid: number | null;
  /** When the probe gave up on it: ms since its process's time origin. */
  readonly atMs: number;
  readonly threadId: number;
  /** The worker's `name` option, else its script; '' when it has neither. */
  readonly name: string;
  /** refused: the probe's start there failed; threw: loading it threw; inspector: the inspector refused the evaluation. */
  readonly cause: UnfollowedCause;
  readonly reason: string;
}

/**
 * The loop's GC pauses, and where they came from: V8's trace events ("trace"), or a
 * PerformanceObserver on the loop's thread ("observer", which costs allocation-heavy code more;
 * `sourceReason` says why); null when the probe did not say.
 */
export interface GcSummary {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
  readonly source: GcSourceState['source'] | null;
  readonly sourceReason?: string;
  /** Pauses V8's trace has only the begin or the end of, not in `count` or the times (probe/gc-trace.ts); when there were any. */
  readonly unrecorded?: number;
}

/** One loop of a session: a process's main thread, or a worker thread. */
export interface LoopSummary {
  readonly pid: number;
  readonly threadId: number;
  readonly name: string;
  readonly ppid: number;
  readonly lag: Summary['lag'];
  readonly utilization: Summary['utilization'];
  readonly gc: GcSummary;
  readonly blockedCount: number;
  readonly blocked: readonly BlockedSummary[];
  /** The loop's exit code once it ended with one (its process's, or its worker's); null while it runs, or when not known. */
  readonly exitCode: number | null;
  /** A worker thread stopped from outside (worker.terminate(), or its process ending): it has no exit code of its own. */
  readonly terminated: boolean;
}

/** A loop to summarize: its data, and its exit code when the caller knows it better than its goodbye. */
export interface LoopInput {
  readonly data: SessionData;
  readonly exitCode?: number | null;
}

const ms = (us: number): number => Math.round(us) / 1000;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
/** Groups listed: more is noise in a summary. */
const GROUPS_LISTED = 20;

function blockedSummary(b: BlockedReport, origin: number): BlockedSummary {
  return {
    startMs: ms(b.startUs),
    at: new Date(origin + b.startUs / 1000).toISOString(),
    durationMs: ms(b.durationUs),
    ongoing: b.state === 'ongoing',
    stack: b.stack,
    ...(b.stackError === undefined ? {} : { stackError: b.stackError }),
    ...(b.stackSource === undefined ? {} : { stackSource: b.stackSource }),
    ...(b.samples === undefined ? {} : { samples: b.samples, sampled: b.sampled ?? b.samples }),
    ...(b.sampleKinds === undefined ? {} : { sampleKinds: b.sampleKinds }),
    ...(b.lineSource === undefined ? {} : { lineSource: b.lineSource }),
    ...(b.otherStacks === undefined ? {} : { otherStacks: b.otherStacks }),
    ...(b.unsampled === undefined ? {} : { unsampled: b.unsampled }),
  };
}

const pauseSummary = (p: ProbePause) => ({ what: p.what, startMs: ms(p.startUs), durationMs: ms(p.durationUs) });

export interface SummaryContext {
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly warnings: readonly string[];
  /** Every loop of the session; just `data`'s by default. */
  readonly loops?: readonly LoopInput[];
}

function lagSummary(totals: Totals): Summary['lag'] {
  return {
    p50Ms: ms(percentileOf(totals.lag, 50, totals.lagMaxUs)),
    p90Ms: ms(percentileOf(totals.lag, 90, totals.lagMaxUs)),
    p99Ms: ms(percentileOf(totals.lag, 99, totals.lagMaxUs)),
    maxMs: ms(totals.lagMaxUs),
  };
}

function utilizationSummary(totals: Totals): Summary['utilization'] {
  return {
    mean: totals.utilizationTimeUs > 0 ? round3(totals.utilizationWeighted / totals.utilizationTimeUs) : 0,
    max: round3(totals.utilizationMax),
  };
}

function withRisingFloor(h: HeapFloor): { risingFloor?: HeapTrend } {
  const rising = risingHeapFloor(h);
  return rising ? { risingFloor: rising } : {};
}

function gcSummary(state: SessionState): GcSummary {
  const { totals, gcSource } = state;
  const unrecorded = unrecordedGcPauses(state.drops.frames);
  return {
    count: totals.gcCount,
    totalMs: ms(totals.gcTotalUs),
    maxMs: ms(totals.gcMaxUs),
    source: gcSource?.source ?? null,
    ...(gcSource?.reason === undefined ? {} : { sourceReason: gcSource.reason }),
    ...(unrecorded > 0 ? { unrecorded } : {}),
  };
}

function blockedSummaries(state: SessionState): BlockedSummary[] {
  const origin = state.hello?.timeOriginMs ?? 0;
  return state.blocked.map((b) => blockedSummary(b, origin));
}

/** The loops that said hello, each with its own lag, utilization and blocks. */
export function summarizeLoops(loops: readonly LoopInput[]): LoopSummary[] {
  const out: LoopSummary[] = [];
  for (const { data, exitCode } of loops) {
    const { hello, totals, goodbye } = data.state;
    if (!hello) continue;
    out.push({
      ...loopIdentity(hello),
      lag: lagSummary(totals),
      utilization: utilizationSummary(totals),
      gc: gcSummary(data.state),
      blockedCount: totals.blockedCount,
      blocked: blockedSummaries(data.state),
      exitCode: exitCode !== undefined ? exitCode : (goodbye?.exitCode ?? null),
      terminated: wasTerminated(goodbye),
    });
  }
  return out;
}

export function summarize(data: SessionData, context: SummaryContext): Summary {
  const { state } = data;
  const { hello, totals } = state;
  const loops = context.loops ?? [{ data, exitCode: context.exitCode }];
  const states = loops.map((l) => l.data);
  return {
    pid: hello?.pid ?? null,
    nodeVersion: hello?.nodeVersion ?? null,
    command: hello ? commandOf(hello) : [],
    mode: hello?.config.mode ?? null,
    intervalMs: hello?.config.intervalMs ?? null,
    blockThresholdMs: hello?.config.blockThresholdMs ?? null,
    durationMs: Math.round(context.durationMs),
    samples: totals.samples,
    lag: lagSummary(totals),
    utilization: utilizationSummary(totals),
    cpu: { userMs: ms(totals.cpuUserUs), systemMs: ms(totals.cpuSystemUs) },
    memory: { rssMaxBytes: totals.rssMaxBytes, heapUsedMaxBytes: totals.heapUsedMaxBytes, ...withRisingFloor(totals.heapFloor) },
    gc: gcSummary(state),
    blockedCount: totals.blockedCount,
    blocked: blockedSummaries(state),
    blockedGroups: groupsWithOngoing(state.blockGroups, state.blocked).slice(0, GROUPS_LISTED).map((g) => ({
      count: g.count, totalMs: ms(g.totalUs), maxMs: ms(g.maxUs), stack: g.stack, stackSource: g.stackSource, sources: g.sources,
      ...(g.stack.length === 0 ? { noStack: noStackList(g.noStack) } : {}),
    })),
    probePauses: state.probePauses.map(pauseSummary),
    profile: summarizeProfile(data.profile, state.profiler),
    // The GC pauses the trace has half of are in `gc.unrecorded`.
    dropped: { frames: Object.fromEntries(probeDrops(state.drops.frames)), bytes: state.drops.bytes },
    tasks: state.tasks.samples > 0 ? summarizeTasks(state.tasks, data.trace) : null,
    traceEvents: state.traceEvents,
    exitCode: context.exitCode,
    warnings: [...context.warnings, ...noticeWarnings(states)],
    unfollowedWorkers: states.flatMap((l) => l.state.notices.map((n) => ({ pid: l.state.hello?.pid ?? null, atMs: ms(n.timeUs), threadId: n.threadId, name: n.name, cause: n.cause, reason: n.reason }))),
    loops: summarizeLoops(loops),
  };
}

const pct = (h: SparseHistogram, max: number): Percentiles => ({
  p50: ms(percentileUs(h, 50, max)),
  p99: ms(percentileUs(h, 99, max)),
  max: ms(max),
});

/** The type of the largest fan-out's callback, or null and why: the probe sends none for a resource it did not see made. */
function fanOutType({ max, maxType }: TasksState['fanOut']): Pick<TasksSummary['fanOut'], 'maxType' | 'maxTypeReason'> {
  if (maxType !== '') return { maxType };
  return max > 0 ? { maxType: null, maxTypeReason: UNKNOWN_TYPE_REASON } : { maxType: null };
}

export function summarizeTasks(t: TasksState, trace: TraceModel): TasksSummary {
  const byType: Record<string, TasksSummary['byType'][string]> = {};
  for (const r of Object.values(t.byType).sort((a, b) => b.callbacks - a.callbacks || b.created - a.created)) {
    byType[r.type] = {
      created: r.created, destroyed: r.destroyed, alive: r.alive, callbacks: r.callbacks, callbacksTimed: countOf(r.callbackUs),
      callbackMs: pct(r.callbackUs, r.callbackMaxUs),
      queueMs: queuesForCallback(r.type) && r.callbacks > 0 && countOf(r.queueUs) > 0 ? pct(r.queueUs, r.queueMaxUs) : null,
    };
  }
  const pool = t.threadpool;
  const waitMaxUs = poolWaitMaxUs(Object.values(t.byType));
  const queueMsP99 = ms(percentileUs(pool.queueUs, 99, waitMaxUs));
  return {
    promisesTracked: t.promisesTracked,
    ...(t.promiseSkipping ? { promiseSkipping: t.promiseSkipping } : {}),
    byType,
    threadpool: {
      size: pool.size, maxInFlight: pool.maxInFlight, maxQueued: pool.maxQueued, completed: pool.completed,
      queueMsP50: ms(percentileUs(pool.queueUs, 50, waitMaxUs)), queueMsP99,
      saturated: poolSaturated(pool.maxQueued, queueMsP99), saturatedIntervals: pool.saturatedIntervals,
    },
    timers: {
      fired: t.timers.fired,
      lateMsP50: ms(percentileUs(t.timers.lateUs, 50, t.timers.lateMaxUs)),
      lateMsP99: ms(percentileUs(t.timers.lateUs, 99, t.timers.lateMaxUs)),
      lateMsMax: ms(t.timers.lateMaxUs),
    },
    fanOut: { p99: countPercentile(t.fanOut.perCallback, 99, t.fanOut.max), max: t.fanOut.max, ...fanOutType(t.fanOut) },
    slowCallbacks: t.slowCallbacks.map((c) => {
      const chain = causalChain(trace, c.asyncId).map((r) => ({ asyncId: r.asyncId, type: r.type }));
      return { type: c.type, durationMs: ms(c.durationUs), startMs: ms(c.startUs), initStack: c.initStack, ...(chain.length > 0 ? { chain } : {}) };
    }),
    growing: leakHints(t),
    untracked: t.untracked,
  };
}
