// The heartbeat, the probe's one timer on the target's main thread (each timer wakes an idle
// loop). A beat tells the watchdog the loop is alive, measures a stall since the last beat from
// the thread's busy time (which no timer's lateness can do), records the lag, and takes the
// metrics sample when one is due, after the beat, so that a sample never delays the beat after
// a block.

import { performance } from 'node:perf_hooks';
import type { OwnPauses } from './own-pauses';
import type { Sampler } from './sampler';
import type { SharedViews } from './shared-state';
import { beatIntervalMs } from './threads';
import type { ProbeConfig } from './wire';

/**
 * Busy time: all but the loop's idle time, on the clock of performance.now(). Not ELU's
 * `active`, which counts from the loop's start: a main module that blocks before the loop has
 * started (a slow startup, under `run`) is busy too. The idle time alone is one native call
 * (eventLoopUtilization() would also read the clock and make an object, 100 times a second).
 */
const timing = performance.nodeTiming;
const busyMs = (now: number): number => now - timing.idleTime;

export class Heartbeat {
  private lastBeat = performance.now();
  /** The busy time as of the end of our last beat: our own work is not a stall. */
  private lastBusy: number;
  private nextSampleMs: number;
  private timer: NodeJS.Timeout | undefined;
  private period = 0;
  /** The probe's own time on this thread since it was last taken, ms. */
  private ownMs = 0;
  /** OwnPauses' total at the last beat: the probe's own work since is no lag or stall of the target's. */
  private pausedAtLastBeat: number;

  /**
   * `config` is read at every beat (it changes when loopscope reconfigures the probe);
   * `takeSample` runs on the beat that finds a sample due, `guard` wraps the timer's callback.
   */
  constructor(
    private readonly views: SharedViews,
    private readonly sampler: Sampler,
    private readonly config: () => ProbeConfig,
    private readonly takeSample: () => void,
    private readonly guard: (fn: () => void) => () => void,
    private readonly pauses: OwnPauses,
  ) {
    this.pausedAtLastBeat = pauses.totalMs;
    this.lastBusy = 0;
    this.nextSampleMs = 0;
    this.startClock();
  }

  /**
   * The first beat is the probe's start: the watchdog counts from it, not from the process's.
   * Called again once the probe has started, so that its own start is no stall.
   */
  startClock(): void {
    this.lastBeat = performance.now();
    this.views.beat(this.lastBeat);
    this.lastBusy = busyMs(this.lastBeat);
    this.nextSampleMs = this.lastBeat + this.config().intervalMs;
    this.pausedAtLastBeat = this.pauses.totalMs;
  }

  beat(): void {
    const now = performance.now();
    const busy = busyMs(now);
    const config = this.config();
    const period = beatIntervalMs(config);
    const own = this.pauses.totalMs - this.pausedAtLastBeat;
    this.pausedAtLastBeat = this.pauses.totalMs;
    const gap = now - this.lastBeat;
    // The stall's span holds the probe's own work in it (the profiler's first start, say); the
    // stall itself, the target's time, does not.
    const span = gap > 1.5 * period ? Math.min(gap, busy - this.lastBusy) : 0;
    const stall = Math.max(0, span - own);
    if (stall > 0) this.views.recordStall(stall, span, now);
    this.views.beat(now);
    this.sampler.beat(Math.max(0, gap - own) - period, stall, period);
    this.lastBeat = now;
    this.lastBusy = busy;
    if (now >= this.nextSampleMs) {
      this.takeSample();
      // Half a period early: the beat that takes the next one lands within half a period of it.
      this.nextSampleMs = now + config.intervalMs - period / 2;
      this.lastBusy = busyMs(performance.now());
    }
    this.ownMs += performance.now() - now;
  }

  /** The probe's own time on this thread since the last call, µs. */
  takeOwnUs(): number {
    const us = Math.round(this.ownMs * 1000);
    this.ownMs = 0;
    return us;
  }

  /** Whether the timer must be made again for `config` (its period changed). */
  needsRestart(config: ProbeConfig): boolean {
    return this.period !== beatIntervalMs(config);
  }

  /**
   * Makes the timer for `config`'s period. The caller keeps tasks mode's hook off meanwhile:
   * our own timer must not count as the target's.
   */
  restart(config: ProbeConfig): void {
    clearInterval(this.timer);
    this.period = beatIntervalMs(config);
    this.timer = setInterval(this.guard(() => this.beat()), this.period).unref();
  }

  /** A shorter interval takes effect at once, not after the longer one ends. */
  sampleWithin(intervalMs: number): void {
    this.nextSampleMs = Math.min(this.nextSampleMs, performance.now() + intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
