// tasks mode: one async hook whose callbacks feed the per-type counters, the thread pool,
// timers, fan-out, slow callbacks and creation sites. Everything in the callbacks is an array
// index or an increment; anything costlier (stacks, percentiles, JSON) waits for the interval.
// (trace mode writes rows instead, and leaves these views to loopscope: trace.ts.)

import { executionAsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { CreationSites } from './creation-sites';
import { FanOut } from './fan-out';
import { createProbeHook } from './promise-skipping';
import { ABSENT, RAN, ResourceTable, STACKED, TIMED } from './resource-table';
import { SlowCallbacks } from './slow-callbacks';
import { TaskTypes } from './task-types';
import { ThreadPool, threadpoolSize } from './thread-pool';
import { TimerLateness } from './timer-lateness';
import type { PromiseSkipping, TasksSample } from './wire';

export interface TasksOptions {
  readonly promises: boolean;
  /** The probe's own file, whose frames are cut from creation stacks. */
  readonly probeFile: string;
}

/** tasks or trace mode's hook, on. */
export interface TasksCollector {
  readonly promisesTracked: boolean;
  sample(): TasksSample;
  /** trace mode: sends the events buffered now. */
  flush(): void;
  stop(): void;
}

const nowUs = (): number => performance.now() * 1000;

/** What a tasks sample of either mode starts with: when, over how long, and how promises are treated. */
export function sampleHead(t: number, lastIntervalUs: number, promisesTracked: boolean, skipping: PromiseSkipping | undefined): Pick<TasksSample, 'timeUs' | 'intervalUs' | 'promisesTracked' | 'promiseSkipping'> {
  return { timeUs: Math.round(t), intervalUs: Math.round(t - lastIntervalUs), promisesTracked, ...(skipping ? { promiseSkipping: skipping } : {}) };
}

export function startTasks(options: TasksOptions): TasksCollector {
  const promisesWanted = options.promises;
  const table = new ResourceTable();
  const types = new TaskTypes();
  const pool = new ThreadPool();
  const poolSize = threadpoolSize();
  const timers = new TimerLateness();
  const fanOut = new FanOut();
  const slow = new SlowCallbacks<Error>();
  const sites = new CreationSites(options.probeFile);
  let lastIntervalUs = nowUs();

  // Times a sample of each type's resources (task-types.ts), and looks at nothing else.
  const init = (asyncId: number, type: string): void => {
    try {
      if (!promisesWanted && type === 'PROMISE') return;
      const c = types.created(type);
      const timed = c.timesThis();
      table.add(asyncId, c.index, timed ? nowUs() : 0, (timed ? TIMED : 0) | (sites.sample(asyncId, c.index, c.name) ? STACKED : 0));
      if (c.pool) pool.submitted();
      fanOut.created();
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
        // Untimed: an unknown resource's callback feeds no type's figures.
        return fanOut.enter(asyncId, NaN, undefined, traced);
      }
      const flags = table.flags(ref);
      // NaN: not timed (see task-types.ts).
      const t = (flags & TIMED) !== 0 ? nowUs() : NaN;
      const c = types.all[table.typeIndex(ref)]!;
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
      if (!c) return;
      const duration = nowUs() - start;
      c.callback(duration);
      if (slow.wants(duration)) slow.keep(c.name, asyncId, start, duration, sites.stackOf(asyncId));
    } catch {
      // Never throw into the target.
    }
  };

  const destroy = (asyncId: number): void => {
    try {
      const ref = table.remove(asyncId);
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

  const hook = createProbeHook({ init, before, after, destroy }, options.promises);
  hook.enable();

  return {
    promisesTracked: options.promises,
    flush: () => undefined,
    sample(): TasksSample {
      hook.shed();
      const t = nowUs();
      // Before types.take() starts the counts afresh: they tell the sites which types keep growing.
      const liveSites = sites.take(t - lastIntervalUs, types.all);
      const sample: TasksSample = {
        ...sampleHead(t, lastIntervalUs, options.promises, hook.skipping),
        types: types.take(),
        threadpool: pool.take(poolSize),
        timers: timers.take(),
        fanOut: fanOut.take(),
        slowCallbacks: slow.take((stack) => sites.format(stack)),
        liveSites,
        untracked: table.untracked,
      };
      lastIntervalUs = t;
      return sample;
    },
    stop() {
      hook.disable();
      table.clear();
      sites.clear();
    },
  };
}
