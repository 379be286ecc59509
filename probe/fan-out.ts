// The callbacks running now, nested (a callback may run another synchronously), one level
// each: when it started, its id and type, whether it is traced, and how many resources it
// has created so far (its fan-out). A level is an index into typed arrays: nothing is
// allocated per callback. Deeper nesting than FAN_OUT_DEPTH is counted but not followed.

import { bucketOfCount, LOG_BUCKETS, toSparse } from './log-histogram';
import type { TaskType } from './task-types';
import type { TasksSample } from './wire';

const FAN_OUT_DEPTH = 64;

export class FanOut {
  /** How many callbacks are running, nested; may exceed the levels followed. */
  depth = 0;
  readonly children = new Uint32Array(FAN_OUT_DEPTH);
  readonly starts = new Float64Array(FAN_OUT_DEPTH);
  readonly ids = new Float64Array(FAN_OUT_DEPTH);
  readonly types: (TaskType | undefined)[] = new Array(FAN_OUT_DEPTH);
  /** Whether the callback at this level is traced (not a promise we were asked to leave out). */
  readonly traced = new Uint8Array(FAN_OUT_DEPTH);
  private readonly hist = new Uint32Array(LOG_BUCKETS);
  private max = 0;
  private maxType = '';

  /** A resource was created: by the callback running now, if any. */
  created(): void {
    if (this.depth > 0 && this.depth <= FAN_OUT_DEPTH) this.children[this.depth - 1]!++;
  }

  enter(asyncId: number, startUs: number, type: TaskType | undefined, traced: boolean): void {
    const d = this.depth;
    if (d < FAN_OUT_DEPTH) {
      this.children[d] = 0;
      this.starts[d] = startUs;
      this.ids[d] = asyncId;
      this.types[d] = type;
      this.traced[d] = traced ? 1 : 0;
    }
    this.depth = d + 1;
  }

  /** The level `asyncId`'s callback ran at, now left; -1 when it was not followed. */
  leave(asyncId: number): number {
    if (this.depth === 0) return -1;
    const d = --this.depth;
    return d < FAN_OUT_DEPTH && this.ids[d] === asyncId ? d : -1;
  }

  /** Counts the fan-out of the callback that ran at level `d`. */
  record(d: number): void {
    const children = this.children[d]!;
    this.hist[bucketOfCount(children)]!++;
    if (children > this.max) {
      this.max = children;
      this.maxType = this.types[d]?.name ?? '';
    }
  }

  take(): TasksSample['fanOut'] {
    const out = { perCallback: toSparse(this.hist), max: this.max, maxType: this.maxType };
    this.hist.fill(0);
    this.max = 0;
    this.maxType = '';
    return out;
  }
}
