// libuv's thread pool as tasks mode sees it: requests submitted and not yet called back (in
// flight, at most, per interval), those completed, and submission to callback times.

import { bucketOf, LOG_BUCKETS, toSparse } from './log-histogram';
import type { TasksSample } from './wire';

/** libuv's thread pool size in this process. */
export function threadpoolSize(): number {
  const n = Number(process.env['UV_THREADPOOL_SIZE']);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1024) : 4;
}

export class ThreadPool {
  private inFlight = 0;
  private maxInFlight = 0;
  private completed = 0;
  private readonly hist = new Uint32Array(LOG_BUCKETS);

  submitted(): void {
    if (++this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
  }

  /** A request's callback runs; `queuedUs` is NaN when the request was not timed. */
  calledBack(queuedUs: number): void {
    if (queuedUs === queuedUs) this.hist[bucketOf(queuedUs)]!++;
    this.completed++;
    if (this.inFlight > 0) this.inFlight--;
  }

  /** A request destroyed before its callback ran (cancelled). */
  dropped(): void {
    if (this.inFlight > 0) this.inFlight--;
  }

  /** The interval's figures for a pool of `size` threads; starts the next interval. */
  take(size: number): TasksSample['threadpool'] {
    const out = { size, maxInFlight: this.maxInFlight, maxQueued: Math.max(0, this.maxInFlight - size), completed: this.completed, queueUs: toSparse(this.hist) };
    this.maxInFlight = this.inFlight;
    this.completed = 0;
    this.hist.fill(0);
    return out;
  }
}
