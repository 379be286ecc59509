// The probe's own work on the target's main thread, kept apart from the target's: its start,
// the CPU profiler's first start (V8 then logs every compiled function: 0.2–0.7 s with 50,000
// of them), its harvests. The heartbeat leaves this time out of the lag and the stalls it
// measures, the watchdog does not count it as a block, and the long pauses are reported as the
// probe's own.
//
// `begin` and `end` may run inside an inspector interrupt (the worker's evaluate, served in the
// middle of the target's code, or of ours): they only touch numbers and a bounded list, never
// the ring, whose single writer is the heartbeat.

import { performance } from 'node:perf_hooks';
import type { SharedViews } from './shared-state';
import type { ProbePause } from './wire';

/** Pauses waiting for the next sample, at most: more in one interval would be a runaway. */
const MAX_PENDING = 32;
/** Work shorter than this is left out of the stalls but not reported (a harvest: 0.1–0.7 ms). */
export const REPORTED_PAUSE_MS = 10;

const us = (ms: number): number => Math.round(ms * 1000);

export class OwnPauses {
  /** The probe's own time on this thread so far, ms: the heartbeat subtracts what passed between two beats. */
  totalMs = 0;
  private pending: ProbePause[] = [];
  /** Work begun and not ended: a harvest's evaluation may interrupt the GC observer's callback. */
  private depth = 0;

  constructor(private readonly views: SharedViews) {}

  /** Marks the start of the probe's own work; returns when it began. */
  begin(): number {
    const now = performance.now();
    if (this.depth++ === 0) this.views.beginOwnPause(now);
    return now;
  }

  /**
   * Ends the work begun at `startMs`: reported when it was long, or `always`. Work within other
   * work of ours is counted once, with the outer work.
   */
  end(startMs: number, what: string, always = false): void {
    const now = performance.now();
    if (this.depth > 0 && --this.depth === 0) {
      this.views.endOwnPause(now - startMs);
      this.totalMs += now - startMs;
    }
    if (always || now - startMs >= REPORTED_PAUSE_MS) this.report(what, startMs, now);
  }

  /** Reports work the heartbeat already leaves out (before its first beat). */
  report(what: string, startMs: number, endMs: number): void {
    if (this.pending.length < MAX_PENDING) this.pending.push({ what, startUs: us(startMs), durationUs: us(Math.max(0, endMs - startMs)) });
  }

  /** The pauses to report since the last call. */
  take(): ProbePause[] {
    if (this.pending.length === 0) return this.pending;
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}
