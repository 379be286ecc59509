// Tasks mode's counters per resource type: created, destroyed, alive, callbacks and their
// durations, queue time (creation to first callback). Filled by the hook's callbacks (an
// index and an increment each); taken, and started afresh, once per interval.

import { bucketOf, LOG_BUCKETS, toSparse } from './log-histogram';
import { clipName, type TaskTypeStats } from './wire';

/** Types whose one init and one callback bracket a request to libuv's thread pool. */
const POOL_TYPES = /^(FSREQCALLBACK|FSREQPROMISE|GETADDRINFOREQWRAP|GETNAMEINFOREQWRAP|[A-Z0-9]+REQUEST)$/;

export class TaskType {
  readonly pool: boolean;
  readonly timer: boolean;
  created = 0;
  destroyed = 0;
  alive = 0;
  callbacks = 0;
  callbackMaxUs = 0;
  queueMaxUs = 0;
  readonly callbackHist = new Uint32Array(LOG_BUCKETS);
  readonly queueHist = new Uint32Array(LOG_BUCKETS);

  constructor(readonly index: number, readonly name: string, type: string) {
    this.pool = POOL_TYPES.test(type);
    this.timer = type === 'Timeout';
  }

  callback(durationUs: number): void {
    this.callbacks++;
    this.callbackHist[bucketOf(durationUs)]!++;
    if (durationUs > this.callbackMaxUs) this.callbackMaxUs = durationUs;
  }

  firstCallback(queuedUs: number): void {
    this.queueHist[bucketOf(queuedUs)]!++;
    if (queuedUs > this.queueMaxUs) this.queueMaxUs = queuedUs;
  }

  /** This interval's figures, or undefined when nothing happened to this type at all. */
  take(): TaskTypeStats | undefined {
    if (this.created === 0 && this.callbacks === 0 && this.destroyed === 0 && this.alive === 0) return undefined;
    const stats: TaskTypeStats = {
      type: this.name, created: this.created, destroyed: this.destroyed, alive: this.alive, callbacks: this.callbacks,
      callbackUs: toSparse(this.callbackHist), callbackMaxUs: Math.round(this.callbackMaxUs),
      queueUs: toSparse(this.queueHist), queueMaxUs: Math.round(this.queueMaxUs),
    };
    this.created = 0;
    this.destroyed = 0;
    this.callbacks = 0;
    this.callbackMaxUs = 0;
    this.queueMaxUs = 0;
    this.callbackHist.fill(0);
    this.queueHist.fill(0);
    return stats;
  }
}

/** The types seen so far, each with a small index that the resource table and trace batches use. */
export class TaskTypes {
  private readonly byName = new Map<string, number>();
  readonly all: TaskType[] = [];
  /** Clipped names by index, as trace batches refer to them. */
  readonly names: string[] = [];

  of(type: string): TaskType {
    const i = this.byName.get(type);
    if (i !== undefined) return this.all[i]!;
    const t = new TaskType(this.all.length, clipName(type), type);
    this.byName.set(type, t.index);
    this.all.push(t);
    this.names.push(t.name);
    return t;
  }

  take(): TaskTypeStats[] {
    const out: TaskTypeStats[] = [];
    for (const t of this.all) {
      const stats = t.take();
      if (stats) out.push(stats);
    }
    return out;
  }
}
