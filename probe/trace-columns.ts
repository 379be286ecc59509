// Trace mode's event buffer: every lifecycle event as one row of six columns (typed arrays:
// no object per event), handed on in batches when full and at each interval.

import { performance } from 'node:perf_hooks';
import { CallbackNames } from './callback-names';
import { MAX_EVENTS_PER_BATCH, TaskEventKind } from './wire';

/** Events per batch at most. */
export const BATCH_EVENTS = Math.min(8192, MAX_EVENTS_PER_BATCH);

export interface EventColumns {
  readonly kinds: Uint8Array;
  readonly asyncIds: Float64Array;
  readonly triggerIds: Float64Array;
  readonly timesUs: Float64Array;
  /** Index into the collector's own type list; the sender maps it to dictionary ids. */
  readonly typeIds: Uint16Array;
  /** Init events: the number of their callback's name in `callbackNames` (0: none); the sender maps it too. */
  readonly nameIds: Uint16Array;
}

/**
 * A batch of `count` events, and the callback names numbered so far, or undefined when no event
 * of the batch has one (the name column is then not to be read); `first` for the first batch of
 * these columns. The columns are reused once this returns.
 */
export type OnBatch = (batch: EventColumns, count: number, callbackNames: readonly string[] | undefined, first: boolean) => void;

/** Destroys in a row that share one clock read, at most (Node delivers them in batches). */
const DESTROYS_PER_READ = 16;

export class TraceColumns {
  private readonly cols: EventColumns = {
    kinds: new Uint8Array(BATCH_EVENTS),
    asyncIds: new Float64Array(BATCH_EVENTS),
    triggerIds: new Float64Array(BATCH_EVENTS),
    timesUs: new Float64Array(BATCH_EVENTS),
    typeIds: new Uint16Array(BATCH_EVENTS),
    nameIds: new Uint16Array(BATCH_EVENTS),
  };
  /** The names init events' `nameId` numbers. */
  readonly callbackNames = new CallbackNames();
  private n = 0;
  /** Whether an init event of this batch has a name. */
  private named = false;
  // The loop's idle time: it grows when the loop has waited in poll, i.e. a new turn began.
  // One native call; eventLoopUtilization() would read the clock and make an object too.
  private readonly timing = performance.nodeTiming;
  private lastIdle = this.timing.idleTime;
  /** Destroys emitted since the clock was last read for one; -1 after any other event. */
  private destroysSinceRead = -1;
  private first = true;

  constructor(private readonly onBatch: OnBatch) {}

  emit(kind: number, asyncId: number, triggerId: number, typeId: number, t: number): void {
    if (kind !== TaskEventKind.destroy) this.destroysSinceRead = -1;
    const cols = this.cols;
    const n = this.n;
    cols.kinds[n] = kind;
    cols.asyncIds[n] = asyncId;
    cols.triggerIds[n] = triggerId;
    cols.typeIds[n] = typeId;
    cols.timesUs[n] = t;
    this.n = n + 1;
    if (this.n === BATCH_EVENTS) this.flush();
  }

  /** An init event, naming the function its resource will call where `callbackField` says where that is kept. */
  init(asyncId: number, triggerId: number, typeId: number, t: number, resource: unknown, callbackField: string | undefined): void {
    // Only init rows fill the name column: the sender reads it for them alone.
    const nameId = callbackField === undefined ? 0 : this.callbackNames.numberOf(resource, callbackField);
    this.cols.nameIds[this.n] = nameId;
    if (nameId !== 0) this.named = true;
    this.emit(TaskEventKind.init, asyncId, triggerId, typeId, t);
  }

  /**
   * The time of a destroy event. Node delivers destroys in batches, one JavaScript call each,
   * a fraction of a µs apart: a run of them shares a clock read (it is most of what an event
   * costs), read again every DESTROYS_PER_READ so that a long batch's times stay within a few µs.
   */
  destroyTimeUs(nowUs: () => number): number {
    const n = this.destroysSinceRead;
    if (n >= 0 && n < DESTROYS_PER_READ && this.n > 0) {
      this.destroysSinceRead = n + 1;
      return this.cols.timesUs[this.n - 1]!;
    }
    this.destroysSinceRead = 1;
    return nowUs();
  }

  /** A top-level callback starts: a new loop turn if the loop has been idle (in poll) since the last one. */
  topLevel(t: number): void {
    const idle = this.timing.idleTime;
    if (idle === this.lastIdle) return;
    this.lastIdle = idle;
    this.emit(TaskEventKind.turn, 0, 0, 0, t);
  }

  flush(): void {
    if (this.n === 0) return;
    const count = this.n;
    const named = this.named;
    const first = this.first;
    this.n = 0;
    this.named = false;
    this.first = false;
    this.onBatch(this.cols, count, named ? this.callbackNames.names : undefined, first);
  }
}
