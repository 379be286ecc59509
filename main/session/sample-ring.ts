// The latest metrics samples of a session, for the views: a fixed-size ring, so that keeping
// ten minutes of history costs one slot per sample instead of a copy of the whole history.

import type { MetricsSample } from '../../probe/wire';

/** Recent samples kept for views (at the default 100 ms interval: ten minutes). */
export const RECENT_SAMPLES = 6000;

/** What the views read: the kept samples, oldest first. */
export interface RecentSamples {
  readonly length: number;
  /** 0 is the oldest kept. */
  at(index: number): MetricsSample;
  last(): MetricsSample | undefined;
  /** A copy of the kept samples from `from` (negative: from the end) up to `to`. */
  slice(from?: number, to?: number): MetricsSample[];
}

export class SampleRing implements RecentSamples {
  private readonly slots: (MetricsSample | undefined)[];
  private start = 0;
  private size = 0;

  constructor(readonly capacity = RECENT_SAMPLES) {
    this.slots = new Array<MetricsSample | undefined>(Math.max(0, capacity));
  }

  get length(): number {
    return this.size;
  }

  push(sample: MetricsSample): void {
    if (this.capacity === 0) return;
    if (this.size < this.capacity) this.slots[(this.start + this.size++) % this.capacity] = sample;
    else {
      this.slots[this.start] = sample;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Replaces what is kept by `samples` (their last `capacity`). */
  fill(samples: readonly MetricsSample[]): void {
    this.clear();
    for (const s of samples.slice(-this.capacity)) this.push(s);
  }

  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.size = 0;
  }

  at(index: number): MetricsSample {
    if (!(index >= 0 && index < this.size)) throw new RangeError(`sample ${index} of ${this.size}`);
    return this.slots[(this.start + index) % this.capacity]!;
  }

  last(): MetricsSample | undefined {
    return this.size > 0 ? this.at(this.size - 1) : undefined;
  }

  slice(from = 0, to = this.size): MetricsSample[] {
    const begin = Math.max(0, from < 0 ? this.size + from : Math.min(from, this.size));
    const end = Math.max(begin, Math.min(this.size, to < 0 ? this.size + to : to));
    const out = new Array<MetricsSample>(end - begin);
    for (let i = begin; i < end; i++) out[i - begin] = this.at(i);
    return out;
  }
}
