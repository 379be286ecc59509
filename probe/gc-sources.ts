// Where the sampler's GC pauses come from, on the main thread. Normally from the worker, which
// collects them from V8's trace events (gc-trace.ts) and leaves them in shared memory: nothing
// runs here per GC. Until the worker's tracing is on, and where it cannot be (no inspector,
// the target traces events itself, or NodeTracing refused), from a PerformanceObserver,
// which costs the target far more on allocation-heavy code.

import { PerformanceObserver, constants, type PerformanceObserverEntryList } from 'node:perf_hooks';
import { GcKindCode } from './gc-trace';
import type { SharedViews } from './shared-state';
import type { GcKind, GcPause } from './wire';

export interface GcSource {
  /** The pauses learned of since the last call, each with its own start. */
  take(): GcPause[];
  stop(): void;
}

/** GC pauses listed per sample at most; the rest wait for the next sample, or are not listed. */
export const MAX_GC_PER_INTERVAL = 256;

const KIND_BY_CODE: ReadonlyMap<number, GcKind> = new Map([
  [GcKindCode.minor, 'minor'],
  [GcKindCode.major, 'major'],
  [GcKindCode.incremental, 'incremental'],
]);

/**
 * Pauses the worker collected from trace events. They arrive about once a second, so a sample
 * may list pauses that began in earlier intervals: each carries its own start.
 */
export class TracedGc implements GcSource {
  constructor(private readonly views: SharedViews) {}

  take(): GcPause[] {
    const pauses: GcPause[] = [];
    this.views.takeGcPauses(MAX_GC_PER_INTERVAL, (kind, startUs, durationUs) => {
      pauses.push({ kind: KIND_BY_CODE.get(kind) ?? 'unknown', startUs: Math.round(startUs), durationUs: Math.round(durationUs) });
    });
    return pauses;
  }

  stop(): void {
    // The worker's tracing stops with the worker.
  }
}

/**
 * From observed to traced pauses without a gap or a pause twice: those that began before
 * `fromUs` (when tracing was known to be on) from the observer, the rest from the trace. The
 * observer stops at the first sample: by then it has every entry from before `fromUs`.
 */
export class HandedOverGc implements GcSource {
  private observed: ObservedGc | undefined;

  constructor(observed: ObservedGc, private readonly traced: TracedGc, private readonly fromUs: number) {
    this.observed = observed;
  }

  take(): GcPause[] {
    const before = this.observed?.take().filter((p) => p.startUs < this.fromUs) ?? [];
    this.observed?.stop();
    this.observed = undefined;
    return [...before, ...this.traced.take().filter((p) => p.startUs >= this.fromUs)];
  }

  stop(): void {
    this.observed?.stop();
  }
}

const KIND_BY_CONSTANT: ReadonlyMap<number, GcKind> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

const msToUs = (ms: number): number => Math.round(ms * 1000);

/**
 * Pauses from a PerformanceObserver, kept in typed arrays: Node already allocates per GC to
 * deliver the entry, and objects of ours held until the sample would survive young-generation
 * collections and make each of them slower.
 */
export class ObservedGc implements GcSource {
  private readonly kinds: GcKind[] = new Array<GcKind>(MAX_GC_PER_INTERVAL).fill('unknown');
  private readonly startUs = new Float64Array(MAX_GC_PER_INTERVAL);
  private readonly durationUs = new Float64Array(MAX_GC_PER_INTERVAL);
  private count = 0;
  private readonly observer = new PerformanceObserver((list) => this.add(list));

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  private add(list: PerformanceObserverEntryList): void {
    try {
      for (const entry of list.getEntries()) {
        if (this.count >= MAX_GC_PER_INTERVAL) break;
        // Node 16+ puts the kind in `detail`; older versions on the entry itself.
        const e = entry as unknown as { detail?: { kind?: number }; kind?: number };
        this.kinds[this.count] = KIND_BY_CONSTANT.get(e.detail?.kind ?? e.kind ?? -1) ?? 'unknown';
        this.startUs[this.count] = msToUs(entry.startTime);
        this.durationUs[this.count] = msToUs(entry.duration);
        this.count++;
      }
    } catch {
      // An observer callback must never throw into the target.
    }
  }

  take(): GcPause[] {
    const pauses: GcPause[] = [];
    for (let i = 0; i < this.count; i++) pauses.push({ kind: this.kinds[i]!, startUs: this.startUs[i]!, durationUs: this.durationUs[i]! });
    this.count = 0;
    return pauses;
  }

  stop(): void {
    this.observer.disconnect();
  }
}
