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
import { ResourceTable, type ResourceInfo } from './resource-table';
import { SlowCallbacks } from './slow-callbacks';
import { TaskTypes } from './task-types';
import { ThreadPool } from './thread-pool';
import { TimerLateness } from './timer-lateness';
import { TraceColumns, type EventColumns } from './trace-columns';
import { TaskEventKind, type TasksSample } from './wire';

export interface TasksOptions {
  readonly promises: boolean;
  readonly trace: boolean;
  /** The probe's own file, whose frames are cut from creation stacks. */
  readonly probeFile: string;
  /** Trace mode: a full batch of events, to be encoded and sent. */
  readonly onBatch: (batch: EventColumns, count: number, typeNames: readonly string[]) => void;
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
  const columns = options.trace ? new TraceColumns((cols, count) => options.onBatch(cols, count, types.names)) : undefined;
  let lastIntervalUs = nowUs();

  const init = (asyncId: number, type: string, triggerAsyncId: number): void => {
    try {
      if (!promisesWanted && type === 'PROMISE') return;
      const t = nowUs();
      const c = types.of(type);
      c.created++;
      c.alive++;
      const stack = sites.capture(c.index);
      if (stack) sites.keep(asyncId, c.name, stack);
      table.add(asyncId, { typeIndex: c.index, initUs: t, ran: false, stack } satisfies ResourceInfo);
      if (c.pool) pool.submitted();
      fanOut.created();
      if (columns) columns.emit(TaskEventKind.init, asyncId, triggerAsyncId, c.index, t);
    } catch {
      // Never throw into the target.
    }
  };

  const before = (asyncId: number): void => {
    try {
      const t = nowUs();
      const info = table.get(asyncId);
      // Where Node tracks promises anyway, their callbacks still come: leave them out unless asked.
      const traced = info !== undefined || promisesWanted || !(executionAsyncResource() instanceof Promise);
      if (columns && traced) {
        if (fanOut.depth === 0) columns.topLevel(t);
        columns.emit(TaskEventKind.before, asyncId, 0, 0, t);
      }
      const c = info ? types.all[info.typeIndex]! : undefined;
      fanOut.enter(asyncId, t, c, traced);
      if (!info || !c) return;
      if (!info.ran) {
        info.ran = true;
        const queued = t - info.initUs;
        c.firstCallback(queued);
        if (c.pool) pool.calledBack(queued);
      }
      if (c.timer) timers.firing(executionAsyncResource() as { _idleStart?: unknown; _idleTimeout?: unknown });
    } catch {
      // Never throw into the target.
    }
  };

  const after = (asyncId: number): void => {
    try {
      const t = nowUs();
      const d = fanOut.leave(asyncId);
      if (d < 0 || fanOut.traced[d] === 0) return;
      if (columns) columns.emit(TaskEventKind.after, asyncId, 0, 0, t);
      fanOut.record(d);
      const c = fanOut.types[d];
      if (!c) return;
      const start = fanOut.starts[d]!;
      const duration = t - start;
      c.callback(duration);
      if (slow.wants(duration)) slow.keep(c.name, asyncId, start, duration, table.get(asyncId)?.stack);
    } catch {
      // Never throw into the target.
    }
  };

  const destroy = (asyncId: number): void => {
    try {
      const info = table.remove(asyncId);
      if (columns && (info || promisesWanted)) columns.emit(TaskEventKind.destroy, asyncId, 0, 0, nowUs());
      if (!info) return;
      const c = types.all[info.typeIndex]!;
      c.destroyed++;
      c.alive--;
      if (c.pool && !info.ran) pool.dropped();
      if (info.stack) sites.forget(asyncId);
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

  const hook = createProbeHook({ init, before, after, destroy, ...(options.promises && columns ? { promiseResolve } : {}) }, options.promises);
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
        liveSites: sites.take(),
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
