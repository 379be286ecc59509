// Where the sampler's GC pauses come from, on the loop's thread. Normally from the probe's
// worker, which has them from V8's trace events (gc-trace.ts; on a worker thread's loop, passed
// on by the main loop's, gc-relay.ts) and leaves them in shared memory: nothing runs here per
// GC. Until that is on, and where it cannot be (no inspector, the target traces events itself,
// NodeTracing refused, not Linux for a worker thread), from a PerformanceObserver, which costs
// the target far more on allocation-heavy code.

import { readlinkSync } from 'node:fs';
import { PerformanceObserver, constants, performance, type PerformanceObserverEntryList } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { GcKindCode } from './gc-trace';
import type { OwnPauses } from './own-pauses';
import type { SharedViews } from './shared-state';
import type { GcKind, GcPause } from './wire';

/** Marks the probe's own work on this thread (own-pauses.ts). */
export type OwnWork = Pick<OwnPauses, 'begin' | 'end'>;

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

  /** `own`: the observer's callback is the probe's own time, never a block of the target's (a burst of GCs makes it long). */
  constructor(private readonly own: OwnWork) {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  private add(list: PerformanceObserverEntryList): void {
    const began = this.own.begin();
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
    } finally {
      this.own.end(began, 'GC observer');
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

/**
 * The loop's source of pauses as the worker's tracing comes and goes: observed until
 * the worker traces them, handed over then, and observed again if its tracing fails later.
 */
export class SwitchedGc implements GcSource {
  private current: GcSource;
  private observed: ObservedGc;
  private traced = false;

  constructor(private readonly own: OwnWork) {
    this.observed = new ObservedGc(own);
    this.current = this.observed;
  }

  /** The target waits at exit for the worker's last traced pauses, only when there are any. */
  get tracing(): boolean {
    return this.traced;
  }

  toTraced(views: SharedViews): void {
    if (this.traced) return;
    this.traced = true;
    this.current = new HandedOverGc(this.observed, new TracedGc(views), Math.round(performance.now() * 1000));
  }

  toObserved(): void {
    if (!this.traced) return;
    this.traced = false;
    this.current.stop();
    this.observed = new ObservedGc(this.own);
    this.current = this.observed;
  }

  take(): GcPause[] {
    return this.current.take();
  }

  stop(): void {
    this.current.stop();
  }
}

/**
 * Where a loop's probe worker gets the loop's GC pauses: the main loop's traces every thread's
 * (gc-trace.ts), and passes a worker thread's on to its loop (gc-relay.ts); a loop that can
 * have neither observes its own, and says why. Trace times are µs of process.hrtime's clock:
 * `offsetUs` puts them on the loop's performance.now().
 */
export type GcPlan =
  | { readonly from: 'trace'; readonly mainTid: number; readonly offsetUs: number }
  | { readonly from: 'relay'; readonly tid: number; readonly offsetUs: number }
  | { readonly from: 'observer'; readonly reason: string };

/** Decided on the loop's own thread: its OS thread id is only known there. */
export function gcPlan(offsetUs: number): GcPlan {
  if (!isMainThread) {
    const tid = ownThreadId();
    return typeof tid === 'string' ? { from: 'observer', reason: tid } : { from: 'relay', tid, offsetUs };
  }
  const reason = traceUnavailable();
  return reason === undefined ? { from: 'trace', mainTid: process.pid, offsetUs } : { from: 'observer', reason };
}

/**
 * Why GC pauses cannot come from trace events here, if they cannot: the worker reads them
 * through the inspector, and a target that records trace events itself would find ours in its
 * trace file.
 */
function traceUnavailable(): string | undefined {
  try {
    require('node:inspector');
  } catch {
    return 'this Node has no inspector';
  }
  try {
    const own = (require('node:trace_events') as typeof import('node:trace_events')).getEnabledCategories();
    return own ? `the program records trace events itself (${own})` : undefined;
  } catch (err) {
    return `trace events: ${(err as Error).message}`;
  }
}

/**
 * The OS id of the calling thread, the `tid` of its trace events, from /proc/thread-self
 * ("<pid>/task/<tid>"); else why it is not known. Only where that /proc is the process's own:
 * in a PID namespace without its own /proc mounted, /proc's ids are another namespace's.
 */
function ownThreadId(): number | string {
  let link: string;
  try {
    link = readlinkSync('/proc/thread-self');
  } catch {
    return 'this thread\'s OS id is not known (no /proc/thread-self: not Linux)';
  }
  const m = /^(\d+)\/task\/(\d+)$/.exec(link);
  if (!m) return `this thread's OS id is not known (/proc/thread-self is ${link})`;
  if (Number(m[1]) !== process.pid) return `this thread's OS id is not known (/proc is another PID namespace's: it says process ${m[1]}, this is ${process.pid})`;
  return Number(m[2]);
}

/**
 * Trace timestamps (µs of the monotonic clock process.hrtime reads) minus performance.now() in
 * µs: the tightest of a few readings taken between two performance.now() calls.
 */
export function traceClockOffsetUs(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const hrUs = Number(process.hrtime.bigint() / 1000n);
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = hrUs - ((before + after) / 2) * 1000;
    }
  }
  return offset;
}
