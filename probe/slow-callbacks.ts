// The interval's slowest callbacks, with where their resource was created when that was
// sampled. Only a callback slower than the slowest few kept so far costs more than a compare.
// `S` is how the keeper holds a creation stack until the interval's end: the probe's captured
// Error (tasks mode), or loopscope's async id to look one up by (trace mode, event-views.ts).

import type { SlowCallback, StackFrame } from './wire';

const SLOW_KEPT = 10;

interface Kept<S> {
  readonly type: string;
  readonly asyncId: number;
  readonly startUs: number;
  readonly durationUs: number;
  readonly stack: S | undefined;
}

export class SlowCallbacks<S> {
  private kept: Kept<S>[] = [];
  private floorUs = 0;

  /** Whether a callback that took this long is among the interval's slowest so far. */
  wants(durationUs: number): boolean {
    return durationUs > this.floorUs || this.kept.length < SLOW_KEPT;
  }

  keep(type: string, asyncId: number, startUs: number, durationUs: number, stack: S | undefined): void {
    this.kept.push({ type, asyncId, startUs, durationUs, stack });
    if (this.kept.length > SLOW_KEPT) {
      this.kept.sort((a, b) => b.durationUs - a.durationUs);
      this.kept.length = SLOW_KEPT;
      this.floorUs = this.kept[SLOW_KEPT - 1]!.durationUs;
    }
  }

  /** The interval's slowest, slowest first, their stacks formatted by `format`; starts the next interval. */
  take(format: (stack: S | undefined) => readonly StackFrame[]): SlowCallback[] {
    const out = this.kept
      .sort((a, b) => b.durationUs - a.durationUs)
      .map((s) => ({ type: s.type, asyncId: s.asyncId, startUs: Math.round(s.startUs), durationUs: Math.round(s.durationUs), initStack: format(s.stack) }));
    this.kept = [];
    this.floorUs = 0;
    return out;
  }
}
