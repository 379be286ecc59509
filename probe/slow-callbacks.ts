// The interval's slowest callbacks, with where their resource was created when that was
// sampled. Only a callback slower than the slowest few kept so far costs more than a compare.

import type { CreationSites } from './creation-sites';
import type { SlowCallback } from './wire';

const SLOW_KEPT = 10;

interface Kept {
  readonly type: string;
  readonly asyncId: number;
  readonly startUs: number;
  readonly durationUs: number;
  readonly stack: Error | undefined;
}

export class SlowCallbacks {
  private kept: Kept[] = [];
  private floorUs = 0;

  /** Whether a callback that took this long is among the interval's slowest so far. */
  wants(durationUs: number): boolean {
    return durationUs > this.floorUs || this.kept.length < SLOW_KEPT;
  }

  keep(type: string, asyncId: number, startUs: number, durationUs: number, stack: Error | undefined): void {
    this.kept.push({ type, asyncId, startUs, durationUs, stack });
    if (this.kept.length > SLOW_KEPT) {
      this.kept.sort((a, b) => b.durationUs - a.durationUs);
      this.kept.length = SLOW_KEPT;
      this.floorUs = this.kept[SLOW_KEPT - 1]!.durationUs;
    }
  }

  take(sites: CreationSites): SlowCallback[] {
    const out = this.kept
      .sort((a, b) => b.durationUs - a.durationUs)
      .map((s) => ({ type: s.type, asyncId: s.asyncId, startUs: Math.round(s.startUs), durationUs: Math.round(s.durationUs), initStack: sites.format(s.stack) }));
    this.kept = [];
    this.floorUs = 0;
    return out;
  }
}
