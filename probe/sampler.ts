// The `metrics` mode sampler: one MetricsSample per interval, from perf_hooks and process.
// Runs on the target's main thread, so everything here is cheap and allocation-light.
//
// Loop lag comes from the heartbeat (probe/main-thread.ts), one value per beat, rather than
// from monitorEventLoopDelay: the beat already times the loop at that histogram's rate, the
// histogram would be a second timer doing the same (waking an idle loop on its own whenever
// the two drift apart), its percentile queries cost ~50 µs each, and its max is off by the
// timer's phase for a block, where the heartbeat measures the block itself.

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import type { GcSource } from './gc-sources';
import type { LagStats, MetricsSample, ResourceCount } from './wire';

/** Beats kept per interval for exact percentiles; beyond that, a uniform sample of them. */
const MAX_BEATS_KEPT = 1024;
/** [percentile, lag] pairs sent per interval at most. */
const MAX_PERCENTILES = 32;

export interface Sampler {
  /** One heartbeat: how late it came, and the busy stretch that held it up (0 if none), ms. */
  beat(latenessMs: number, stallMs: number, periodMs: number): void;
  /** Takes the sample for the interval that ends now, with the probe's own time in it. */
  sample(probe: { readonly mainUs: number; readonly workerUs: number }): MetricsSample;
  stop(): void;
}

function countResources(): ResourceCount[] {
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  const counts = new Map<string, number>();
  for (const type of info) counts.set(type, (counts.get(type) ?? 0) + 1);
  return [...counts].map(([type, count]) => ({ type, count }));
}

const msToUs = (ms: number): number => Math.round(ms * 1000);

type CpuReader = (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage;

/**
 * This loop's CPU: the process's on the main thread; on a worker thread its own where Node
 * gives it (process.threadCpuUsage, Node 23.9), else none (the process's would be every thread's).
 */
function cpuReader(): CpuReader {
  if (isMainThread) return (previous) => process.cpuUsage(previous);
  const thread = (process as { threadCpuUsage?: CpuReader }).threadCpuUsage;
  return thread ? (previous) => thread.call(process, previous) : () => ({ user: 0, system: 0 });
}

/**
 * How late the loop was, as one beat saw it, in ms. A beat held up by a busy stretch reports
 * the stretch, measured from the loop's active time: the beat's own lateness is off by where
 * the block fell between two beats, and counts idle time after it. Only a beat later than its
 * stall and one period can explain was held by something else (the process was not running),
 * and then its lateness is the lag.
 */
export function beatLagMs(latenessMs: number, stallMs: number, periodMs: number): number {
  if (stallMs > 0 && latenessMs <= stallMs + periodMs) return stallMs;
  return Math.max(0, latenessMs);
}

/** One interval's beats: exact count, min, mean and max; percentiles from the beats kept. */
export class LagRecorder {
  private readonly kept = new Float64Array(MAX_BEATS_KEPT);
  private count = 0;
  private sumUs = 0;
  private minUs = Infinity;
  private maxUs = 0;
  private stallMaxUs = 0;

  record(lagUs: number, stallUs: number): void {
    const i = this.count < MAX_BEATS_KEPT ? this.count : Math.floor(Math.random() * (this.count + 1));
    if (i < MAX_BEATS_KEPT) this.kept[i] = lagUs;
    this.count++;
    this.sumUs += lagUs;
    if (lagUs < this.minUs) this.minUs = lagUs;
    if (lagUs > this.maxUs) this.maxUs = lagUs;
    if (stallUs > this.stallMaxUs) this.stallMaxUs = stallUs;
  }

  /** The interval's statistics; starts the next interval. */
  take(): LagStats {
    const sorted = this.kept.slice(0, Math.min(this.count, MAX_BEATS_KEPT)).sort();
    const at = (p: number): number => (sorted.length > 0 ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]! : 0);
    const pairs = Math.min(sorted.length, MAX_PERCENTILES);
    const percentiles: [number, number][] = [];
    for (let i = 1; i <= pairs; i++) percentiles.push([(100 * i) / pairs, at((100 * i) / pairs)]);
    const stats: LagStats = {
      minUs: this.count > 0 ? this.minUs : 0,
      meanUs: this.count > 0 ? Math.round(this.sumUs / this.count) : 0,
      p50Us: at(50),
      p90Us: at(90),
      p99Us: at(99),
      maxUs: this.maxUs,
      count: this.count,
      stallMaxUs: this.stallMaxUs,
      percentiles,
    };
    this.count = 0;
    this.sumUs = 0;
    this.minUs = Infinity;
    this.maxUs = 0;
    this.stallMaxUs = 0;
    return stats;
  }
}

/** `gc`: where the pauses come from (see gc-sources.ts). */
export function createSampler(gc: GcSource): Sampler {
  const lag = new LagRecorder();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  const readCpu = cpuReader();
  let lastCpu = readCpu();
  let lastTime = performance.now();

  return {
    beat(latenessMs, stallMs, periodMs) {
      lag.record(msToUs(beatLagMs(latenessMs, stallMs, periodMs)), msToUs(stallMs));
    },
    sample(probe) {
      const now = performance.now();
      const elu = performance.eventLoopUtilization();
      const cpu = readCpu(lastCpu);
      const mem = process.memoryUsage();
      const sample: MetricsSample = {
        timeUs: msToUs(now),
        intervalUs: msToUs(now - lastTime),
        lag: lag.take(),
        utilization: performance.eventLoopUtilization(elu, lastElu).utilization,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        externalBytes: mem.external,
        arrayBuffersBytes: mem.arrayBuffers,
        gc: gc.take(),
        resources: countResources(),
        probeMainUs: probe.mainUs,
        probeWorkerUs: probe.workerUs,
      };
      lastElu = elu;
      lastCpu = readCpu();
      lastTime = now;
      return sample;
    },
    stop() {
      gc.stop();
    },
  };
}
