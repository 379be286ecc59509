// The `metrics` mode sampler: one MetricsSample per interval, from perf_hooks and process.
// Runs on the target's main thread, so everything here is cheap and allocation-light.

import { monitorEventLoopDelay, performance, PerformanceObserver, constants, type IntervalHistogram, type EventLoopUtilization } from 'node:perf_hooks';
import type { GcKind, GcPause, MetricsSample, ResourceCount } from './wire';

/** Resolution of the loop-delay histogram, ms (Node's default; finer costs idle CPU). */
export const DELAY_RESOLUTION_MS = 10;
/** GC pauses kept per interval; more are counted but not listed. */
const MAX_GC_PER_INTERVAL = 256;

export interface Sampler {
  /** Takes the sample for the interval that ends now. `stallMaxMs` comes from the heartbeat. */
  sample(stallMaxMs: number): MetricsSample;
  stop(): void;
}

function gcKind(kind: number | undefined): GcKind {
  switch (kind) {
    case constants.NODE_PERFORMANCE_GC_MINOR: return 'minor';
    case constants.NODE_PERFORMANCE_GC_MAJOR: return 'major';
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL: return 'incremental';
    case constants.NODE_PERFORMANCE_GC_WEAKCB: return 'weakcb';
    default: return 'unknown';
  }
}

function countResources(): ResourceCount[] {
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  const counts = new Map<string, number>();
  for (const type of info) counts.set(type, (counts.get(type) ?? 0) + 1);
  return [...counts].map(([type, count]) => ({ type, count }));
}

const msToUs = (ms: number): number => Math.round(ms * 1000);
/** Histogram values are delays between ticks in ns; lag is what exceeds the resolution. */
const lagUs = (ns: number): number => Math.max(0, Math.round(ns / 1000 - DELAY_RESOLUTION_MS * 1000));

export function createSampler(): Sampler {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  histogram.enable();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  let lastCpu = process.cpuUsage();
  let lastTime = performance.now();
  let gc: GcPause[] = [];

  const observer = new PerformanceObserver((list) => {
    try {
      for (const entry of list.getEntries()) {
        if (gc.length >= MAX_GC_PER_INTERVAL) break;
        // Node 16+ puts the kind in `detail`; older versions on the entry itself.
        const e = entry as unknown as { detail?: { kind?: number }; kind?: number };
        const kind = e.detail?.kind ?? e.kind;
        gc.push({ kind: gcKind(kind), startUs: msToUs(entry.startTime), durationUs: msToUs(entry.duration) });
      }
    } catch {
      // An observer callback must never throw into the target.
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  return {
    sample(stallMaxMs) {
      const now = performance.now();
      const elu = performance.eventLoopUtilization();
      const interval = performance.eventLoopUtilization(elu, lastElu);
      const cpu = process.cpuUsage(lastCpu);
      const mem = process.memoryUsage();
      const count = histogram.count;
      const percentiles: [number, number][] = count > 0 ? [...histogram.percentiles].map(([p, v]) => [p, lagUs(v)]) : [];
      const histMaxUs = count > 0 ? lagUs(histogram.max) : 0;
      const stallMaxUs = msToUs(stallMaxMs);
      const sample: MetricsSample = {
        timeUs: msToUs(now),
        intervalUs: msToUs(now - lastTime),
        lag: {
          minUs: count > 0 ? lagUs(histogram.min) : 0,
          meanUs: count > 0 ? lagUs(histogram.mean) : 0,
          p50Us: count > 0 ? lagUs(histogram.percentile(50)) : 0,
          p90Us: count > 0 ? lagUs(histogram.percentile(90)) : 0,
          p99Us: count > 0 ? lagUs(histogram.percentile(99)) : 0,
          // The histogram misses the tick right after each reset and is off by its phase
          // for a block; the heartbeat's stall is exact, so the max takes the larger.
          maxUs: Math.max(histMaxUs, stallMaxUs),
          count,
          stallMaxUs,
          percentiles,
        },
        utilization: interval.utilization,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        externalBytes: mem.external,
        arrayBuffersBytes: mem.arrayBuffers,
        gc,
        resources: countResources(),
      };
      histogram.reset();
      lastElu = elu;
      lastCpu = process.cpuUsage();
      lastTime = now;
      gc = [];
      return sample;
    },
    stop() {
      histogram.disable();
      observer.disconnect();
    },
  };
}
