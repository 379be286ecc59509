// trace mode on the target's main thread: one async hook whose callbacks write each lifecycle
// event as a row (trace-columns.ts) and little else. What tasks mode works out in its hook (the
// counts per type, callback and queue times, the thread pool, fan-out, the slowest callbacks)
// loopscope works out from these rows (main/session/event-views.ts), off the target's thread.
// Kept here is only what the rows cannot carry: a timer's lateness, read from the timer as it
// fires; creation stacks, which only this thread can take; where a loop turn begins.

import { executionAsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { CreationSites } from './creation-sites';
import { IdMarks } from './id-marks';
import { createProbeHook } from './promise-skipping';
import { TaskTypes } from './task-types';
import { sampleHead, type TasksCollector } from './tasks';
import { threadpoolSize } from './thread-pool';
import { TimerLateness } from './timer-lateness';
import { TraceColumns, type EventColumns } from './trace-columns';
import { TaskEventKind, type TasksSample } from './wire';

export interface TraceOptions {
  readonly promises: boolean;
  /** The probe's own file, whose frames are cut from creation stacks. */
  readonly probeFile: string;
  /** A full batch of events, to be encoded and sent (see trace-columns.ts OnBatch); `typeNames` by the batch's type numbers. */
  readonly onBatch: (batch: EventColumns, count: number, typeNames: readonly string[], callbackNames: readonly string[] | undefined, first: boolean) => void;
}

// A resource's marks (id-marks.ts).
/** A nextTick's: its callback runs after another in the same turn, and never begins one. */
const TICK = 1;
const TIMER = 2;
/** Its creation stack is kept (creation-sites.ts). */
const STACKED = 4;
/** Made while the hook was on: where Node may still call the hook for promises, no promise. */
const KNOWN = 8;

/** Nested callbacks followed; deeper ones are taken as traced. */
const MAX_DEPTH = 64;

const nowUs = (): number => performance.now() * 1000;

export function startTrace(options: TraceOptions): TasksCollector {
  const promisesWanted = options.promises;
  const types = new TaskTypes();
  const marks = new IdMarks();
  const sites = new CreationSites(options.probeFile, true);
  const timers = new TimerLateness();
  const poolSize = threadpoolSize();
  const columns = new TraceColumns((cols, count, callbackNames, first) => options.onBatch(cols, count, types.names, callbackNames, first));
  /** Callbacks running now, nested; and by level, whether that one is traced (no promise left out). */
  let depth = 0;
  const traced = new Uint8Array(MAX_DEPTH);
  /**
   * Whether Node may still call the hook for promises we leave out (set once the hook is made):
   * then every resource is marked KNOWN, and a callback of an unknown one is checked.
   */
  let promisesLeak = false;
  let lastIntervalUs = nowUs();

  const init = (asyncId: number, type: string, triggerAsyncId: number, resource: unknown): void => {
    try {
      if (!promisesWanted && type === 'PROMISE') return;
      const c = types.of(type);
      const t = nowUs();
      const mark = (promisesLeak ? KNOWN : 0) | (c.tick ? TICK : 0) | (c.timer ? TIMER : 0) | (sites.sample(asyncId, c.index, c.name) ? STACKED : 0);
      if (mark !== 0) marks.add(asyncId, mark);
      columns.init(asyncId, triggerAsyncId, c.index, t, resource, c.callbackField);
    } catch {
      // Never throw into the target.
    }
  };

  const before = (asyncId: number): void => {
    try {
      const d = depth++;
      const mark = marks.of(asyncId);
      // Only where Node still calls us for promises, and only for resources we did not see made.
      const isTraced = !promisesLeak || mark !== 0 || !(executionAsyncResource() instanceof Promise);
      if (d < MAX_DEPTH) traced[d] = isTraced ? 1 : 0;
      if (!isTraced) return;
      const t = nowUs();
      if (d === 0 && (mark & TICK) === 0) columns.topLevel(t);
      columns.emit(TaskEventKind.before, asyncId, 0, 0, t);
      if ((mark & TIMER) !== 0) timers.firing(executionAsyncResource() as { _idleStart?: unknown; _idleTimeout?: unknown }, t / 1000);
    } catch {
      // Never throw into the target.
    }
  };

  const after = (asyncId: number): void => {
    try {
      if (depth === 0) return;
      const d = --depth;
      if (d < MAX_DEPTH && traced[d] === 0) return;
      columns.emit(TaskEventKind.after, asyncId, 0, 0, nowUs());
    } catch {
      // Never throw into the target.
    }
  };

  const destroy = (asyncId: number): void => {
    try {
      if ((marks.remove(asyncId) & STACKED) !== 0) sites.forget(asyncId);
      columns.emit(TaskEventKind.destroy, asyncId, 0, 0, columns.destroyTimeUs(nowUs));
    } catch {
      // Never throw into the target.
    }
  };

  const promiseResolve = (asyncId: number): void => {
    try {
      columns.emit(TaskEventKind.promiseResolve, asyncId, 0, 0, nowUs());
    } catch {
      // Never throw into the target.
    }
  };

  const hook = createProbeHook({ init, before, after, destroy, ...(promisesWanted ? { promiseResolve } : {}) }, promisesWanted);
  promisesLeak = !promisesWanted && (hook.skipping === 'inspector' || hook.skipping === 'none');
  hook.enable();

  return {
    promisesTracked: promisesWanted,
    flush: () => columns.flush(),
    sample(): TasksSample {
      hook.shed();
      const t = nowUs();
      const sample: TasksSample = {
        ...sampleHead(t, lastIntervalUs, promisesWanted, hook.skipping),
        // Left to loopscope, from the events (see TasksSample.fromEvents).
        types: [],
        threadpool: { size: poolSize, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [] },
        fanOut: { perCallback: [], max: 0, maxType: '' },
        slowCallbacks: [],
        untracked: 0,
        timers: timers.take(),
        liveSites: sites.take(t - lastIntervalUs),
        fromEvents: { stacks: sites.takeFresh() },
      };
      lastIntervalUs = t;
      return sample;
    },
    stop() {
      hook.disable();
      columns.flush();
      sites.clear();
    },
  };
}
