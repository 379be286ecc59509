// trace mode's tasks views, worked out in loopscope from the rows the probe sends (each
// resource's init, before, after and destroy) rather than in the target's main thread
// (probe/trace.ts). The figures are tasks mode's, kept by tasks mode's own counters
// (probe/task-types.ts, thread-pool.ts, fan-out.ts, slow-callbacks.ts), fed from rows instead
// of from the hook. A probe's trace mode tasks sample comes without them
// (TasksSample.fromEvents): take() fills them in from the events that came before it. Pure.

import { FanOut } from '../../probe/fan-out';
import { ABSENT, RAN, ResourceTable } from '../../probe/resource-table';
import { SlowCallbacks } from '../../probe/slow-callbacks';
import { TaskTypes } from '../../probe/task-types';
import { ThreadPool } from '../../probe/thread-pool';
import { TaskEventKind, type ProbeMessage, type StackFrame, type TaskEventBatch, type TasksSample } from '../../probe/wire';

/** Creation stacks kept for the slow callbacks, at most (as many as the probe keeps: creation-sites.ts). */
const MAX_STACKS = 2048;

export class EventViews {
  private table = new ResourceTable();
  private types = new TaskTypes();
  private pool = new ThreadPool();
  private fanOut = new FanOut();
  /** Kept by async id: the stack is looked up when the interval's sample brings it. */
  private slow = new SlowCallbacks<number>();
  /** The creation stacks the probe sampled, by async id, while their resources live. */
  private readonly stacks = new Map<number, readonly StackFrame[]>();
  /** Destroyed since the last sample: their stacks go after the next (a slow callback of the interval may want one). */
  private gone: number[] = [];

  /** The message as the views are to see it: a trace mode tasks sample completed from the events before it. */
  take(message: ProbeMessage): ProbeMessage {
    if (message.type === 'taskEvents') this.apply(message.batch);
    else if (message.type === 'tasks') {
      const sample = this.complete(message.sample);
      if (sample !== message.sample) return { type: 'tasks', sample };
    }
    return message;
  }

  apply(batch: TaskEventBatch): void {
    // A hook turned on afresh: what the last one saw does not continue (as the probe's own views start again).
    if (batch.first) this.reset();
    const { kinds, asyncIds, timesUs } = batch;
    for (let i = 0; i < batch.count; i++) {
      // A resource's id is 1 or more (0 marks a free slot of the table): another comes from no probe.
      if (!(asyncIds[i]! >= 1)) continue;
      const kind = kinds[i];
      if (kind === TaskEventKind.init) this.init(asyncIds[i]!, batch.types.get(batch.typeIds[i]!)!, timesUs[i]!);
      else if (kind === TaskEventKind.before) this.before(asyncIds[i]!, timesUs[i]!);
      else if (kind === TaskEventKind.after) this.after(asyncIds[i]!, timesUs[i]!);
      else if (kind === TaskEventKind.destroy) this.destroy(asyncIds[i]!);
    }
  }

  /** `sample` with what its events give filled in; as it is when it came whole (tasks mode). */
  complete(sample: TasksSample): TasksSample {
    const { fromEvents, ...rest } = sample;
    if (!fromEvents) {
      // tasks mode keeps its own views: when trace mode comes back, its hook starts afresh.
      this.reset();
      return sample;
    }
    for (const { asyncId, stack } of fromEvents.stacks) if (this.stacks.size < MAX_STACKS) this.stacks.set(asyncId, stack);
    const completed: TasksSample = {
      ...rest,
      types: this.types.take(),
      threadpool: this.pool.take(sample.threadpool.size),
      fanOut: this.fanOut.take(),
      slowCallbacks: this.slow.take((asyncId) => (asyncId === undefined ? [] : this.stacks.get(asyncId) ?? [])),
      untracked: this.table.untracked,
    };
    for (const id of this.gone) this.stacks.delete(id);
    this.gone = [];
    // Made and destroyed within the interval: their destroy came before their stack.
    for (const { asyncId } of fromEvents.stacks) if (this.table.find(asyncId) === ABSENT) this.stacks.delete(asyncId);
    return completed;
  }

  private init(asyncId: number, type: string, t: number): void {
    const c = this.types.created(type);
    this.table.add(asyncId, c.index, t, 0);
    if (c.pool) this.pool.submitted();
    this.fanOut.created();
  }

  private before(asyncId: number, t: number): void {
    const ref = this.table.find(asyncId);
    if (ref === ABSENT) return this.fanOut.enter(asyncId, t, undefined, true);
    const c = this.types.all[this.table.typeIndex(ref)]!;
    this.fanOut.enter(asyncId, t, c, true);
    if ((this.table.flags(ref) & RAN) !== 0) return;
    this.table.setFlag(ref, RAN);
    const queued = t - this.table.initUs(ref);
    c.firstCallback(queued);
    if (c.pool) this.pool.calledBack(queued);
  }

  private after(asyncId: number, t: number): void {
    const d = this.fanOut.leave(asyncId);
    if (d < 0) return;
    this.fanOut.record(d);
    const c = this.fanOut.types[d];
    if (!c) return;
    const start = this.fanOut.starts[d]!;
    const duration = t - start;
    c.callback(duration);
    if (this.slow.wants(duration)) this.slow.keep(c.name, asyncId, start, duration, asyncId);
  }

  private destroy(asyncId: number): void {
    const ref = this.table.remove(asyncId);
    if (ref === ABSENT) return;
    const c = this.types.all[this.table.typeIndex(ref)]!;
    c.destroyed++;
    c.alive--;
    if (c.pool && (this.table.flags(ref) & RAN) === 0) this.pool.dropped();
    if (this.stacks.has(asyncId)) this.gone.push(asyncId);
  }

  private reset(): void {
    this.table = new ResourceTable();
    this.types = new TaskTypes();
    this.pool = new ThreadPool();
    this.fanOut = new FanOut();
    this.slow = new SlowCallbacks<number>();
    this.stacks.clear();
    this.gone = [];
  }
}
