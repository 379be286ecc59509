// The `tasks` and `trace` modes: one async hook whose callbacks feed the per-type counters,
// the thread pool, timers, fan-out, slow callbacks and creation sites (tasks), and in trace
// mode also the event columns that go out in binary batches. Everything in the callbacks is
// an array index or an increment; anything costlier (stacks, percentiles, JSON) waits for
// the interval.

import { executionAsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { CreationSites } from './creation-sites';
import { FanOut } from './fan-out';
import { createProbeHook } from './promise-skipping';
import { ABSENT, RAN, ResourceTable, STACKED, TIMED } from './resource-table';
import { SlowCallbacks } from './slow-callbacks';
import { TaskTypes, type TaskType } from './task-types';
import { ThreadPool } from './thread-pool';
import { TimerLateness } from './timer-lateness';
import { TraceColumns, type EventColumns } from './trace-columns';
import { TaskEventKind, type TasksSample } from './wire';

export interface TasksOptions {
  readonly promises: boolean;
  readonly trace: boolean;
  /** The probe's own file, whose frames are cut from creation stacks. */
  readonly probeFile: string;
  /** Trace mode: a full batch of events, to be encoded and sent (callbackNames: see trace-columns.ts OnBatch). */
  readonly onBatch: (batch: EventColumns, count: number, typeNames: readonly string[], callbackNames: readonly string[] | undefined) => void;
}

export interface TasksCollector {
  readonly promisesTracked: boolean;
  sample(): TasksSample;
  /** Trace mode: sends what is buffered now. */
  flush(): void;
  stop(): void;
}

const nowUs = (): number => performance.now() * 1000;

export function startTasks(options: TasksOptions): TasksCollector {
  const promisesWanted = options.promises;
  const table = new ResourceTable();
  const types = new TaskTypes();
  const pool = new ThreadPool();
  const timers = new TimerLateness();
  const fanOut = new FanOut();
  const slow = new SlowCallbacks();
  const sites = new CreationSites(options.probeFile);
  const columns = options.trace ? new TraceColumns((cols, count, callbackNames) => options.onBatch(cols, count, types.names, callbackNames)) : undefined;
  let lastIntervalUs = nowUs();

  /** Counts and remembers a resource just created; `t` is its creation time when `timed`. */
  const created = (asyncId: number, c: TaskType, timed: boolean, t: number): void => {
    table.add(asyncId, c.index, t, (timed ? TIMED : 0) | (sites.sample(asyncId, c.index, c.name) ? STACKED : 0));
    if (c.pool) pool.submitted();
    fanOut.created();
  };

  // Tasks mode: times a sample of each type's resources (task-types.ts), and looks at nothing else.
  const init = (asyncId: number, type: string): void => {
    try {
      if (!promisesWanted && type === 'PROMISE') return;
      const c = types.created(type);
      const timed = c.timesThis();
      created(asyncId, c, timed, timed ? nowUs() : 0);
    } catch {
      // Never throw into the target.
    }
  };

  // Trace mode: times everything (its events carry times), and names the function a resource will call.
  const traceInit = (trace: TraceColumns) => (asyncId: number, type: string, triggerAsyncId: number, resource: unknown): void => {
    try {
      if (!promisesWanted && type === 'PROMISE') return;
      const c = types.created(type);
      const t = nowUs();
      created(asyncId, c, true, t);
      trace.init(asyncId, triggerAsyncId, c.index, t, resource, c.callbackField);
    } catch {
      // Never throw into the target.
    }
  };

  const before = (asyncId: number): void => {
    try {
      const ref = table.find(asyncId);
      if (ref === ABSENT) {
        // Where Node tracks promises anyway, their callbacks still come: leave them out unless asked.
        const traced = promisesWanted || !(executionAsyncResource() instanceof Promise);
        const t = nowUs();
        if (columns && traced) {
          if (fanOut.depth === 0) columns.topLevel(t);
          columns.emit(TaskEventKind.before, asyncId, 0, 0, t);
        }
        return fanOut.enter(asyncId, t, undefined, traced);
      }
      const flags = table.flags(ref);
      // NaN: not timed (see task-types.ts).
      const t = (flags & TIMED) !== 0 ? nowUs() : NaN;
      const c = types.all[table.typeIndex(ref)]!;
      if (columns) {
        if (fanOut.depth === 0 && !c.tick) columns.topLevel(t);
        columns.emit(TaskEventKind.before, asyncId, 0, 0, t);
      }
      fanOut.enter(asyncId, t, c, true);
      if ((flags & RAN) === 0) {
        table.setFlag(ref, RAN);
        const queued = t - table.initUs(ref);
        if (queued === queued) c.firstCallback(queued);
        if (c.pool) pool.calledBack(queued);
      }
      if (c.timer && t === t) timers.firing(executionAsyncResource() as { _idleStart?: unknown; _idleTimeout?: unknown }, t / 1000);
    } catch {
      // Never throw into the target.
    }
  };

  const after = (asyncId: number): void => {
    try {
      const d = fanOut.leave(asyncId);
      if (d < 0 || fanOut.traced[d] === 0) return;
      fanOut.record(d);
      const c = fanOut.types[d];
      const start = fanOut.starts[d]!;
      if (start !== start) {
        c?.untimedCallback();
        return;
      }
      const t = nowUs();
      if (columns) columns.emit(TaskEventKind.after, asyncId, 0, 0, t);
      if (!c) return;
      const duration = t - start;
      c.callback(duration);
      if (slow.wants(duration)) slow.keep(c.name, asyncId, start, duration, sites.stackOf(asyncId));
    } catch {
      // Never throw into the target.
    }
  };

  const destroy = (asyncId: number): void => {
    try {
      const ref = table.remove(asyncId);
      if (columns && (ref !== ABSENT || promisesWanted)) columns.emit(TaskEventKind.destroy, asyncId, 0, 0, columns.destroyTimeUs(nowUs));
      if (ref === ABSENT) return;
      const c = types.all[table.typeIndex(ref)]!;
      c.destroyed++;
      c.alive--;
      const flags = table.flags(ref);
      if (c.pool && (flags & RAN) === 0) pool.dropped();
      if ((flags & STACKED) !== 0) sites.forget(asyncId);
    } catch {
      // Never throw into the target.
    }
  };

  const promiseResolve = (asyncId: number): void => {
    try {
      if (columns) columns.emit(TaskEventKind.promiseResolve, asyncId, 0, 0, nowUs());
    } catch {
      // Never throw into the target.
    }
  };

  const hook = createProbeHook({ init: columns ? traceInit(columns) : init, before, after, destroy, ...(options.promises && columns ? { promiseResolve } : {}) }, options.promises);
  hook.enable();

  return {
    promisesTracked: options.promises,
    flush: () => columns?.flush(),
    sample(): TasksSample {
      hook.shed();
      const t = nowUs();
      const skipping = hook.skipping;
      const sample: TasksSample = {
        timeUs: Math.round(t),
        intervalUs: Math.round(t - lastIntervalUs),
        promisesTracked: options.promises,
        ...(skipping ? { promiseSkipping: skipping } : {}),
        types: types.take(),
        threadpool: pool.take(),
        timers: timers.take(),
        fanOut: fanOut.take(),
        slowCallbacks: slow.take(sites),
        liveSites: sites.take(t - lastIntervalUs),
        untracked: table.untracked,
      };
      lastIntervalUs = t;
      return sample;
    },
    stop() {
      hook.disable();
      columns?.flush();
      table.clear();
      sites.clear();
    },
  };
}
