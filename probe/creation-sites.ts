// Where resources are created: a stack captured for the first few resources of each type per
// interval, then for one in SAMPLE_EVERY, kept while the resource lives (bounded). Stacks are
// captured as Errors on the hot path and formatted only when needed, at the interval: the
// slow callbacks' and the creation sites that many live resources share (a leak's).

import { parseStackText } from './stack-text';
import type { CreationSite, StackFrame } from './wire';

const SAMPLE_FIRST = 4;
const SAMPLE_EVERY = 512;
const MAX_SAMPLED_ALIVE = 2048;
const STACK_LIMIT = 12;
/** Formatting stacks costs; only worth it once enough sampled resources stay alive. */
const LIVE_SITES_FROM = 32;
const SITES_KEPT = 10;

export class CreationSites {
  private alive = 0;
  private readonly stacks = new Map<number, { type: string; error: Error }>();
  /** Per type index: stacks taken this interval, and inits since the last one. */
  private readonly sampledThisInterval: number[] = [];
  private readonly initsSinceSample: number[] = [];

  /** `probeFile`: the probe's own file, whose frames are cut. */
  constructor(private readonly probeFile: string) {}

  /** A stack for a resource of type `typeIndex` created now, when this one is sampled. */
  capture(typeIndex: number): Error | undefined {
    if (this.alive >= MAX_SAMPLED_ALIVE) return undefined;
    // Dense arrays (no holes): a new type's counters are added when it is first seen.
    while (this.sampledThisInterval.length <= typeIndex) {
      this.sampledThisInterval.push(0);
      this.initsSinceSample.push(0);
    }
    const taken = this.sampledThisInterval[typeIndex]!;
    if (taken >= SAMPLE_FIRST && ++this.initsSinceSample[typeIndex]! < SAMPLE_EVERY) return undefined;
    this.initsSinceSample[typeIndex] = 0;
    this.sampledThisInterval[typeIndex] = taken + 1;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_LIMIT;
    const error = new Error('created here');
    Error.stackTraceLimit = limit;
    return error;
  }

  /** Keeps a captured stack for as long as its resource lives. */
  keep(asyncId: number, type: string, error: Error): void {
    this.alive++;
    this.stacks.set(asyncId, { type, error });
  }

  /** The resource whose stack was kept is gone. */
  forget(asyncId: number): void {
    this.alive--;
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

  /** The sites that most live sampled resources were created at; starts the next interval's sampling. */
  take(): CreationSite[] {
    this.sampledThisInterval.fill(0);
    if (this.alive < LIVE_SITES_FROM) return [];
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
    this.alive = 0;
  }
}
