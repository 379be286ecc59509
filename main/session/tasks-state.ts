// Async-task aggregates across a session, from the probe's per-interval tasks samples, and
// what they mean for the user (pool saturation, late timers, growing resources). Pure.

import { mergeSparse, type SparseHistogram } from '../../probe/log-histogram';
import type { CreationSite, PromiseSkipping, SlowCallback, TaskTypeStats, TasksSample } from '../../probe/wire';

/** Alive counts kept per type, to tell a leak from a busy spell. */
const ALIVE_POINTS = 600;
const SLOW_KEPT = 20;
/**
 * Types aggregated: a real program has tens. A type first seen past this many is left out of
 * the totals (it is still in the latest interval's figures), so that a stream of new names
 * cannot grow them without bound.
 */
const MAX_TYPES = 1000;

/** A type's figures summed over the session (the probe's are per interval). */
export interface TypeTotals extends TaskTypeStats {
  /** Alive at each sample, oldest first, at most ALIVE_POINTS (thinned by halving). */
  readonly aliveSeries: readonly number[];
}

export interface TasksState {
  readonly samples: number;
  readonly promisesTracked: boolean;
  /** How the probe leaves promises out, when it does (unknown from probes that did not say). */
  readonly promiseSkipping: PromiseSkipping | undefined;
  readonly byType: Readonly<Record<string, TypeTotals>>;
  readonly threadpool: {
    readonly size: number;
    readonly maxInFlight: number;
    readonly maxQueued: number;
    readonly completed: number;
    readonly queueUs: SparseHistogram;
    /** Intervals in which more pool work was in flight than the pool has threads. */
    readonly saturatedIntervals: number;
  };
  readonly timers: { readonly fired: number; readonly lateUs: SparseHistogram; readonly lateMaxUs: number };
  readonly fanOut: { readonly perCallback: SparseHistogram; readonly max: number; readonly maxType: string };
  readonly slowCallbacks: readonly SlowCallback[];
  readonly liveSites: readonly CreationSite[];
  readonly untracked: number;
  readonly latest: TasksSample | undefined;
}

export const initialTasksState: TasksState = {
  samples: 0,
  promisesTracked: false,
  promiseSkipping: undefined,
  byType: {},
  threadpool: { size: 0, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [], saturatedIntervals: 0 },
  timers: { fired: 0, lateUs: [], lateMaxUs: 0 },
  fanOut: { perCallback: [], max: 0, maxType: '' },
  slowCallbacks: [],
  liveSites: [],
  untracked: 0,
  latest: undefined,
};

function appendAlive(series: readonly number[], alive: number): number[] {
  const next = [...series, alive];
  // Halve the resolution instead of forgetting the start: a leak is a trend over all of it.
  return next.length > ALIVE_POINTS ? next.filter((_, i) => i % 2 === 1) : next;
}

export function applyTasks(state: TasksState, s: TasksSample): TasksState {
  const byType: Record<string, TypeTotals> = { ...state.byType };
  const seen = new Set<string>();
  let typeCount = Object.keys(byType).length;
  for (const t of s.types) {
    seen.add(t.type);
    const prev = byType[t.type];
    if (!prev && typeCount++ >= MAX_TYPES) continue;
    byType[t.type] = {
      type: t.type,
      created: (prev?.created ?? 0) + t.created,
      destroyed: (prev?.destroyed ?? 0) + t.destroyed,
      alive: t.alive,
      callbacks: (prev?.callbacks ?? 0) + t.callbacks,
      callbackUs: mergeSparse(prev?.callbackUs ?? [], t.callbackUs),
      callbackMaxUs: Math.max(prev?.callbackMaxUs ?? 0, t.callbackMaxUs),
      queueUs: mergeSparse(prev?.queueUs ?? [], t.queueUs),
      queueMaxUs: Math.max(prev?.queueMaxUs ?? 0, t.queueMaxUs),
      aliveSeries: appendAlive(prev?.aliveSeries ?? [], t.alive),
    };
  }
  // Types with nothing to report this interval still have their resources alive.
  for (const [type, prev] of Object.entries(byType)) {
    if (!seen.has(type)) byType[type] = { ...prev, aliveSeries: appendAlive(prev.aliveSeries, prev.alive) };
  }
  const pool = state.threadpool;
  const slowCallbacks = [...state.slowCallbacks, ...s.slowCallbacks].sort((a, b) => b.durationUs - a.durationUs).slice(0, SLOW_KEPT);
  return {
    samples: state.samples + 1,
    promisesTracked: s.promisesTracked,
    promiseSkipping: s.promiseSkipping,
    byType,
    threadpool: {
      size: s.threadpool.size,
      maxInFlight: Math.max(pool.maxInFlight, s.threadpool.maxInFlight),
      maxQueued: Math.max(pool.maxQueued, s.threadpool.maxQueued),
      completed: pool.completed + s.threadpool.completed,
      queueUs: mergeSparse(pool.queueUs, s.threadpool.queueUs),
      saturatedIntervals: pool.saturatedIntervals + (s.threadpool.maxQueued > 0 ? 1 : 0),
    },
    timers: {
      fired: state.timers.fired + s.timers.fired,
      lateUs: mergeSparse(state.timers.lateUs, s.timers.lateUs),
      lateMaxUs: Math.max(state.timers.lateMaxUs, s.timers.lateMaxUs),
    },
    fanOut: {
      perCallback: mergeSparse(state.fanOut.perCallback, s.fanOut.perCallback),
      max: Math.max(state.fanOut.max, s.fanOut.max),
      maxType: s.fanOut.max > state.fanOut.max ? s.fanOut.maxType : state.fanOut.maxType,
    },
    slowCallbacks,
    liveSites: s.liveSites.length > 0 ? s.liveSites : state.liveSites,
    untracked: s.untracked,
    latest: s,
  };
}

export interface LeakHint {
  readonly type: string;
  readonly aliveAtStart: number;
  readonly aliveAtEnd: number;
  readonly sites: readonly CreationSite[];
}

/**
 * Types whose live count kept growing: at the end well above the start, and rising in most
 * steps rather than in one burst. A hint, not a verdict: a cache warming up looks the same.
 */
export function leakHints(state: TasksState): LeakHint[] {
  const hints: LeakHint[] = [];
  for (const t of Object.values(state.byType)) {
    const series = t.aliveSeries;
    if (series.length < 10) continue;
    const head = series.slice(0, Math.ceil(series.length / 10));
    const start = Math.min(...head);
    const end = series[series.length - 1]!;
    let rising = 0;
    let falling = 0;
    for (let i = 1; i < series.length; i++) {
      if (series[i]! > series[i - 1]!) rising++;
      else if (series[i]! < series[i - 1]!) falling++;
    }
    if (end - start >= Math.max(20, start * 0.5) && rising >= 3 * Math.max(1, falling)) {
      hints.push({ type: t.type, aliveAtStart: start, aliveAtEnd: end, sites: state.liveSites.filter((s) => s.type === t.type) });
    }
  }
  return hints.sort((a, b) => b.aliveAtEnd - b.aliveAtStart - (a.aliveAtEnd - a.aliveAtStart));
}
