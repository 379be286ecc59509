// Where resources are created: a stack captured for the first resource of each type per
// interval, then for one in SAMPLE_EVERY, kept while the resource lives (bounded). A capture
// costs tens of µs in async code (V8 walks the awaits too), so captures also draw on a budget
// per second, whatever the rate of resources. Stacks are captured as Errors on the hot path and
// formatted only when needed, at the interval: the slow callbacks' and the creation sites that
// many live resources share (a leak's). In trace mode loopscope finds the slow callbacks, so
// each stack taken is formatted and sent (~100 µs each with async frames: 0.2% of a core at
// the budget's rate). Types that keep growing are sampled apart, on a budget of their own
// (site-hunt.ts).

import { SiteHunt, type TypeCounts } from './site-hunt';
import { parseStackText } from './stack-text';
import type { CreatedStack, CreationSite, StackFrame } from './wire';

const SAMPLE_EVERY = 512;
/** Captures per second at most, and in one burst: well under 0.1% of a core at 10–40 µs each. */
const CAPTURES_PER_S = 20;
const CAPTURE_BURST = 10;
const MAX_SAMPLED_ALIVE = 2048;
const STACK_LIMIT = 12;
/** Formatting stacks costs; only worth it once enough sampled resources stay alive. */
const LIVE_SITES_FROM = 32;
const SITES_KEPT = 10;

export class CreationSites {
  private alive = 0;
  private readonly stacks = new Map<number, { type: string; typeIndex: number; error: Error }>();
  /** Per type index: its resources with a stack kept, alive. */
  private readonly sampledAlive: number[] = [];
  private readonly hunt = new SiteHunt();
  /** Per type index: whether one was taken this interval, and inits since the last one. */
  private readonly takenThisInterval: number[] = [];
  private readonly initsSinceSample: number[] = [];
  private tokens = CAPTURE_BURST;
  /** trace mode: the stacks taken this interval, sent whole at its end (see takeFresh). */
  private fresh: { readonly asyncId: number; readonly error: Error }[] = [];

  /**
   * `probeFile`: the probe's own file, whose frames are cut. `keepFresh`: trace mode, where
   * loopscope finds the slow callbacks and needs each stack taken.
   */
  constructor(private readonly probeFile: string, private readonly keepFresh = false) {}

  /** Takes and keeps a stack for a resource of type `typeIndex` created now, if it is sampled; says whether it did. */
  sample(asyncId: number, typeIndex: number, type: string): boolean {
    if (this.alive >= MAX_SAMPLED_ALIVE) return false;
    // Dense arrays (no holes): a new type's counters are added when it is first seen.
    while (this.takenThisInterval.length <= typeIndex) {
      this.takenThisInterval.push(0);
      this.initsSinceSample.push(0);
      this.sampledAlive.push(0);
    }
    if (typeIndex < this.hunt.strides.length && this.hunt.strides[typeIndex]! > 0) {
      return this.hunt.due(typeIndex) && this.capture(asyncId, typeIndex, type);
    }
    if (this.takenThisInterval[typeIndex] === 1 && ++this.initsSinceSample[typeIndex]! < SAMPLE_EVERY) return false;
    if (this.tokens < 1) return false;
    this.tokens--;
    this.initsSinceSample[typeIndex] = 0;
    this.takenThisInterval[typeIndex] = 1;
    return this.capture(asyncId, typeIndex, type);
  }

  private capture(asyncId: number, typeIndex: number, type: string): true {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_LIMIT;
    const error = new Error('created here');
    Error.stackTraceLimit = limit;
    this.alive++;
    this.sampledAlive[typeIndex]!++;
    this.stacks.set(asyncId, { type, typeIndex, error });
    if (this.keepFresh) this.fresh.push({ asyncId, error });
    return true;
  }

  /** trace mode: the stacks taken since the last call, formatted (CAPTURE_BURST at most an interval). */
  takeFresh(): CreatedStack[] {
    const out = this.fresh.map(({ asyncId, error }) => ({ asyncId, stack: this.format(error) }));
    this.fresh = [];
    return out;
  }

  stackOf(asyncId: number): Error | undefined {
    return this.stacks.get(asyncId)?.error;
  }

  /** The resource whose stack was kept is gone. */
  forget(asyncId: number): void {
    const kept = this.stacks.get(asyncId);
    if (!kept) return;
    this.alive--;
    this.sampledAlive[kept.typeIndex]!--;
    this.stacks.delete(asyncId);
  }

  /** Frames of a captured stack, our own and async_hooks' cut; none for no stack. */
  format(error: Error | undefined): StackFrame[] {
    if (!error) return [];
    try {
      // Node's formatter, so --enable-source-maps applies.
      return parseStackText(String(error.stack), this.probeFile).filter((f) => !f.url.startsWith('node:internal/async_hooks'));
    } catch {
      return [];
    }
  }

  /**
   * The sites that most live sampled resources were created at; starts the next interval,
   * `intervalUs` after the last. `counts`, by type index, are the interval's figures of every
   * type (before they are reset), which tell the types that keep growing; none in trace mode.
   */
  take(intervalUs: number, counts: readonly TypeCounts[] = []): CreationSite[] {
    this.takenThisInterval.fill(0);
    this.tokens = Math.min(CAPTURE_BURST, this.tokens + (intervalUs * CAPTURES_PER_S) / 1e6);
    this.hunt.update(intervalUs, counts, this.sampledAlive);
    // A growing type is worth its sites from its first survivors, however few are alive.
    if (this.alive < LIVE_SITES_FROM && !this.hunt.active) return [];
    const sites = new Map<string, { type: string; count: number; error: Error }>();
    for (const { type, error } of this.stacks.values()) {
      // Grouped by the raw stack text: cheap, and the same creation site gives the same text.
      const key = `${type}\n${String(error.stack)}`;
      const site = sites.get(key);
      if (site) site.count++;
      else sites.set(key, { type, count: 1, error });
    }
    return [...sites.values()]
      .filter((s) => s.count > 1)
      .sort((a, b) => b.count - a.count)
      .slice(0, SITES_KEPT)
      .map((s) => ({ type: s.type, sampledAlive: s.count, stack: this.format(s.error) }));
  }

  clear(): void {
    this.stacks.clear();
    this.fresh = [];
    this.alive = 0;
    this.sampledAlive.fill(0);
    this.hunt.clear();
  }
}
