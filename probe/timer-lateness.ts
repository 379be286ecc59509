// How late timers fire compared with when they were due, read from the timer itself as its
// callback starts.

import { performance } from 'node:perf_hooks';
import { bucketOf, LOG_BUCKETS, toSparse } from './log-histogram';
import type { TasksSample } from './wire';

/**
 * Timers keep their due time on libuv's clock (`_idleStart`, ms since the loop began). Its
 * offset from performance.now() is fixed: read it once, from a timer made for the purpose
 * before our hook is on (so it is not counted). NaN where the timer internals differ.
 */
function timerClockOffset(): number {
  const timer = setTimeout(() => undefined, 0x7fffffff) as unknown as { _idleStart?: unknown };
  const now = performance.now();
  clearTimeout(timer as unknown as NodeJS.Timeout);
  return typeof timer._idleStart === 'number' ? now - timer._idleStart : NaN;
}

export class TimerLateness {
  /** Made before the hook is on: see timerClockOffset(). */
  private readonly clockOffsetMs = timerClockOffset();
  private fired = 0;
  private lateMaxUs = 0;
  private readonly hist = new Uint32Array(LOG_BUCKETS);

  /** A timer's callback starts at `nowMs` (performance.now()): `timer` is its resource. */
  firing(timer: { _idleStart?: unknown; _idleTimeout?: unknown }, nowMs: number): void {
    if (typeof timer._idleStart !== 'number' || typeof timer._idleTimeout !== 'number' || Number.isNaN(this.clockOffsetMs)) return;
    const late = Math.max(0, (nowMs - this.clockOffsetMs - timer._idleStart - timer._idleTimeout) * 1000);
    this.fired++;
    this.hist[bucketOf(late)]!++;
    if (late > this.lateMaxUs) this.lateMaxUs = late;
  }

  take(): TasksSample['timers'] {
    const out = { fired: this.fired, lateUs: toSparse(this.hist), lateMaxUs: Math.round(this.lateMaxUs) };
    this.fired = 0;
    this.lateMaxUs = 0;
    this.hist.fill(0);
    return out;
  }
}
