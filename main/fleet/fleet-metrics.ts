// The metrics of a set of loops at one moment, from their sessions: pure, read at each scrape
// or push (nothing is done per message beyond loop-counters.ts). Gauges describe the samples
// of the last export interval (`windowMs`); counters and histograms are cumulative since
// each loop's probe connected.

import type { MetricsSample } from '../../probe/wire';
import { probeDrops, unrecordedGcPauses } from '../common/notice-text';
import type { SessionData } from '../session/session-feed';
import { addIntervalInto, LAG_BUCKETS, lagBucketValueUs, percentileOf } from '../session/lag-histogram';
import { lagBuckets, POOL_WAIT_BOUNDS_S, sparseBuckets, type Buckets } from './buckets';
import type { LoopCounters } from './loop-counters';
import type { LoopIdentity } from './loop-set';
import { METRICS, type MetricSpec } from './metric-names';

export type Attributes = Readonly<Record<string, string | number>>;

export interface MetricPoint {
  readonly attributes: Attributes;
  readonly value: number | Buckets;
  /** ms since the Unix epoch from which a cumulative value counts (its loop's connection). */
  readonly startMs: number;
}

export interface MetricValues {
  readonly spec: MetricSpec;
  readonly points: readonly MetricPoint[];
}

export interface LoopReading {
  readonly identity: LoopIdentity;
  readonly data: SessionData;
  readonly counters: LoopCounters;
  readonly startMs: number;
}

export function loopAttributes(id: LoopIdentity): Attributes {
  return { 'process.pid': id.pid, 'process.parent_pid': id.ppid, 'thread.id': id.threadId, 'thread.name': id.name };
}

/** The kept samples that ended within `windowMs` of the latest, newest last. */
function windowOf(data: SessionData, windowMs: number): MetricsSample[] {
  const { recent } = data;
  const last = recent.last();
  if (!last) return [];
  const from = last.timeUs - windowMs * 1000;
  let i = recent.length - 1;
  while (i > 0 && recent.at(i - 1).timeUs > from) i--;
  return recent.slice(i);
}

interface DelayStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** µs → s. */
const s = (us: number): number => us / 1e6;

/**
 * The window's delay statistics. Min, max and mean are exact (the probe sends them per
 * interval); percentiles and the deviation come from the intervals' merged distributions.
 */
function delayStats(window: readonly MetricsSample[]): DelayStats | undefined {
  const counted = window.filter((x) => x.lag.count > 0);
  if (counted.length === 0) return undefined;
  const counts = new Array<number>(LAG_BUCKETS).fill(0);
  let total = 0;
  let beats = 0;
  let sum = 0;
  let min = Infinity;
  let max = 0;
  for (const x of counted) {
    total += addIntervalInto(counts, x.lag.percentiles, x.lag.count);
    beats += x.lag.count;
    sum += x.lag.meanUs * x.lag.count;
    min = Math.min(min, x.lag.minUs);
    max = Math.max(max, x.lag.maxUs);
  }
  const mean = sum / beats;
  let squares = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) squares += counts[i]! * (Math.min(lagBucketValueUs(i), max) - mean) ** 2;
  const variance = total > 0 ? squares / total : 0;
  const h = { counts, total };
  return {
    min: s(min), max: s(max), mean: s(mean), stddev: s(Math.sqrt(variance)),
    p50: s(percentileOf(h, 50, max)), p90: s(percentileOf(h, 90, max)), p99: s(percentileOf(h, 99, max)),
  };
}

/** Collects into one list per metric, in METRICS' order, each with the points of every loop. */
class Points {
  private readonly byName = new Map<string, { spec: MetricSpec; points: MetricPoint[] }>();

  constructor() {
    for (const spec of Object.values(METRICS)) this.byName.set(spec.name, { spec, points: [] });
  }

  add(spec: MetricSpec, attributes: Attributes, value: number | Buckets, startMs: number): void {
    this.byName.get(spec.name)!.points.push({ attributes, value, startMs });
  }

  values(): MetricValues[] {
    return [...this.byName.values()].filter((m) => m.points.length > 0);
  }
}

function addLoop(out: Points, loop: LoopReading, windowMs: number): void {
  const add = (spec: MetricSpec, attributes: Attributes, value: number | Buckets): void => out.add(spec, attributes, value, loop.startMs);
  const attrs = loopAttributes(loop.identity);
  const { state } = loop.data;
  const { totals } = state;
  const window = windowOf(loop.data, windowMs);
  const delay = delayStats(window);
  if (delay) {
    add(METRICS.delayMin, attrs, delay.min);
    add(METRICS.delayMax, attrs, delay.max);
    add(METRICS.delayMean, attrs, delay.mean);
    add(METRICS.delayStddev, attrs, delay.stddev);
    add(METRICS.delayP50, attrs, delay.p50);
    add(METRICS.delayP90, attrs, delay.p90);
    add(METRICS.delayP99, attrs, delay.p99);
  }
  const windowUs = window.reduce((a, x) => a + x.intervalUs, 0);
  if (windowUs > 0) add(METRICS.utilization, attrs, window.reduce((a, x) => a + x.utilization * x.intervalUs, 0) / windowUs);
  add(METRICS.loopTime, { ...attrs, 'nodejs.eventloop.state': 'active' }, s(totals.utilizationWeighted));
  add(METRICS.loopTime, { ...attrs, 'nodejs.eventloop.state': 'idle' }, s(totals.utilizationTimeUs - totals.utilizationWeighted));
  for (const [kind, recorder] of loop.counters.gc) add(METRICS.gcDuration, { ...attrs, 'v8js.gc.type': kind }, recorder.snapshot);
  const last = window[window.length - 1];
  if (last) {
    add(METRICS.heapUsed, attrs, last.heapUsedBytes);
    add(METRICS.heapSize, attrs, last.heapTotalBytes);
    add(METRICS.memoryUsage, attrs, last.rssBytes);
  }
  add(METRICS.cpuTime, { ...attrs, 'cpu.mode': 'user' }, s(totals.cpuUserUs));
  add(METRICS.cpuTime, { ...attrs, 'cpu.mode': 'system' }, s(totals.cpuSystemUs));
  add(METRICS.delay, attrs, lagBuckets(totals.lag, totals.lagMaxUs));
  add(METRICS.blocked, attrs, totals.blockedCount);
  add(METRICS.blockedDuration, attrs, loop.counters.blocked.snapshot);
  const pool = state.tasks.threadpool;
  if (pool.size > 0) {
    add(METRICS.poolWait, attrs, sparseBuckets(pool.queueUs, POOL_WAIT_BOUNDS_S, Infinity));
    const latest = state.tasks.latest?.threadpool;
    if (latest) add(METRICS.poolSaturation, attrs, latest.maxInFlight / pool.size);
  }
  add(METRICS.gcUnrecorded, attrs, unrecordedGcPauses(state.drops.frames));
  for (const [type, frames] of probeDrops(state.drops.frames)) add(METRICS.droppedFrames, { ...attrs, 'loopscope.frame.type': type }, frames);
  add(METRICS.probeCpuTime, { ...attrs, 'loopscope.probe.thread': 'main' }, s(loop.counters.probeMainUs));
  add(METRICS.probeCpuTime, { ...attrs, 'loopscope.probe.thread': 'worker' }, s(loop.counters.probeWorkerUs));
}

export function collectMetrics(loops: readonly LoopReading[], windowMs: number): MetricValues[] {
  const out = new Points();
  for (const loop of loops) addLoop(out, loop, windowMs);
  return out.values();
}
