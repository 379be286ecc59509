// The blocked-loop watchdog, run by the worker on every poll. The main thread's only part is
// the heartbeat; everything here happens off the main thread.
//
// A block's stack comes from the CPU samples taken inside it, once they are in (the sampler
// harvests them when the block ends): their signal lands inside native calls too. The stack
// the watchdog takes through an inspector interrupt is the fallback where there are none, and
// lends its lines to the samples' stack (V8 keeps lines only for a sample's leaf).

import { clipName, type BlockedReport, type StackFrame, type StackSource } from './wire';
import type { CaptureResult } from './stack-capture';
import { isUserStackFrame, type Blame } from './block-blame';

export interface HeartbeatSource {
  readonly heartbeat: number;
  readonly lastBeatMs: number;
  /** The last stall: the target's time in it, its span (the probe's own work in it included), its end. */
  readonly lastStall: { stallMs: number; spanMs: number; endMs: number };
  /** The watchdog has taken the stall that ended at `endMs` into account. */
  stallSeen(endMs: number): void;
  /** The probe's own work on the main thread (own-pauses.ts): in progress since (0: none), and its time since the last beat. */
  readonly ownPause: { sinceMs: number; sinceBeatMs: number };
}

/** The CPU samples, as the watchdog needs them (the worker's sampler and its tables). */
export interface BlockSamples {
  /** Whether samples are coming at all. */
  readonly active: boolean;
  /** Every sample taken before this time (main thread's clock, ms) is in. */
  readonly coveredUntilMs: number;
  /** Asks for the samples taken up to now, soon. */
  harvest(): void;
  /** The stack of the samples from `startMs` to `endMs`; undefined when none ran code. */
  blame(startMs: number, endMs: number, interrupt: readonly StackFrame[] | undefined): Blame | undefined;
  /** Why a block from `startMs` to `endMs` has no samples, if the sampler can tell. */
  unsampled(startMs: number, endMs: number): string | undefined;
}

export interface WatchdogOptions {
  readonly thresholdMs: number;
  /** Now, on the main thread's performance.now() clock. */
  readonly nowMs: () => number;
  readonly capture: (done: (r: CaptureResult) => void) => void;
  readonly emit: (report: BlockedReport) => void;
  readonly samples?: BlockSamples;
}

/** How often an ongoing block is re-reported with its duration so far. */
const ONGOING_UPDATE_MS = 1000;
/** How long a finished block waits for a stack still on its way (a long native call), or its samples. */
const STACK_WAIT_MS = 2000;
/** Ended blocks waiting for their stack at once, at most: older ones are reported as they are. */
const MAX_FINISHING = 16;
/** An interrupt served this long after the block's end was still inside it (the clocks' jitter). */
const LATE_SLACK_MS = 1;

/**
 * Stacks taken at most: this many at once, then this many a second. A capture costs the
 * blocked thread an inspector round trip and the reader's work, and a saturated server that
 * shares its CPU is "blocked" about ten times a second; its blocks are much alike.
 */
const CAPTURE_BURST = 5;
const CAPTURES_PER_S = 2;
export const CAPTURE_SKIPPED = `not taken: the loop blocks often, and the probe takes at most ${CAPTURES_PER_S} stacks a second (after ${CAPTURE_BURST} at once), to keep its cost down`;

/** A token bucket: `take` says whether a stack may be taken now. No I/O: on the caller's clock. */
export class CaptureBudget {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(private readonly burst = CAPTURE_BURST, private readonly perSecond = CAPTURES_PER_S) {
    this.tokens = burst;
  }

  take(nowMs: number): boolean {
    if (this.lastMs !== undefined) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface Block {
  readonly id: number;
  readonly startMs: number;
  stack: readonly StackFrame[];
  stackError: string | undefined;
  /** When the interrupt stack was read, on the main thread's clock. */
  stackAtMs: number | undefined;
  captured: boolean;
  lastSentMs: number;
  /**
   * `durationMs` is the target's time; `spanMs`, from the start to the end, also holds the
   * probe's own work inside the block (the profiler's first start): the samples are looked for
   * over the span.
   */
  ended: { startMs: number; durationMs: number; spanMs: number; atMs: number } | undefined;
}

const us = (ms: number): number => Math.round(ms * 1000);

export class Watchdog {
  private seenBeat: number;
  private lastStallEndMs = 0;
  private block: Block | undefined;
  /** Ended blocks waiting for their interrupt stack or their samples. */
  private finishing: Block[] = [];
  private nextId = 1;
  private readonly budget = new CaptureBudget();

  constructor(private readonly source: HeartbeatSource, private options: WatchdogOptions) {
    // Not the beat of now: a stall that ended before the worker was up (a main module that
    // blocks at the start) is still reported, at the first tick.
    this.seenBeat = source.heartbeat - 1;
  }

  reconfigure(thresholdMs: number): void {
    this.options = { ...this.options, thresholdMs };
  }

  /** The last beat seen, while a block lasts: the next beat ends it. */
  get awaitedBeat(): number | undefined {
    return this.block && !this.block.ended ? this.seenBeat : undefined;
  }

  /**
   * How long the worker may sleep before the next tick, ms. With no block in progress only
   * one moment matters, when the beat would be a threshold late: sleeping until then, rather
   * than polling, spares the target most of the worker's wake-ups. While a block lasts, the
   * beat that ends it wakes the worker (`awaitedBeat`), so only its next re-report is due.
   * Once it has ended and waits for its interrupt stack, `pollMs`: the wait is short and rare.
   */
  nextTickInMs(pollMs: number): number {
    const block = this.block;
    // An interrupt stack on its way is waited for by polling (it is short and rare), and so is
    // the probe's own work (rarer). Samples wake the worker when they come (worker-sampler.ts):
    // for them, only the deadline.
    if (this.finishing.some((b) => !b.captured) || (!block && this.source.ownPause.sinceMs !== 0)) return pollMs;
    const dueMs = block ? block.lastSentMs + ONGOING_UPDATE_MS : this.lateFromMs() + this.options.thresholdMs;
    const settleMs = Math.min(...this.finishing.map((b) => b.ended!.atMs + STACK_WAIT_MS));
    // One more ms for the beat: a timer may fire up to a ms early, and the beat is late only past the threshold.
    const dueIn = Math.max(1, Math.ceil(dueMs - this.options.nowMs())) + (block ? 0 : 1);
    return Math.min(dueIn, Math.max(1, Math.ceil(settleMs - this.options.nowMs())));
  }

  /**
   * When the loop's lateness counts from: the last beat, plus the probe's own work since (the
   * heartbeat leaves that work out of the stall too). Not its end: work of the probe's in the
   * middle of a block of the target's would put off seeing the block.
   */
  private lateFromMs(): number {
    return this.source.lastBeatMs + this.source.ownPause.sinceBeatMs;
  }

  tick(): void {
    const beat = this.source.heartbeat;
    const now = this.options.nowMs();
    const block = this.block;
    if (beat !== this.seenBeat) {
      this.seenBeat = beat;
      // The beat that ended a stall measured it from the loop's active time.
      const { stallMs, spanMs, endMs } = this.source.lastStall;
      const fresh = endMs !== this.lastStallEndMs;
      this.lastStallEndMs = endMs;
      this.source.stallSeen(endMs);
      if (block && !block.ended) {
        const durationMs = fresh ? stallMs : 0;
        const span = fresh ? spanMs : 0;
        block.ended = { startMs: endMs - span, durationMs, spanMs: span, atMs: now };
        this.block = undefined;
        this.waitForStack(block);
      } else if (!block && fresh && stallMs >= this.options.thresholdMs) {
        // A block that ended between two polls: too short to be caught while it lasted, long
        // enough to count. No interrupt stack; its samples may tell, else it says why.
        this.waitForStack({
          id: this.nextId++, startMs: endMs - spanMs, stack: [], captured: true, lastSentMs: now, stackAtMs: undefined,
          stackError: 'the block ended before the watchdog saw it (it polls every few ms)',
          ended: { startMs: endMs - spanMs, durationMs: stallMs, spanMs, atMs: now },
        });
      }
    }
    for (const b of this.finishing) if (this.stackSettled(b, now)) this.finish(b);
    if (this.block) {
      if (now - this.block.lastSentMs >= ONGOING_UPDATE_MS) this.send(this.block, 'ongoing', now);
      return;
    }
    // A block may start right after a beat, so count from the beat itself: a heartbeat
    // `threshold` late may hide a block of `threshold`. The loop's active time, measured
    // when the beat comes back, then confirms the block or withdraws the report. The probe's
    // own work (the profiler's first start) is not the target's block.
    if (this.source.ownPause.sinceMs === 0 && now - this.lateFromMs() > this.options.thresholdMs) this.begin(now);
  }

  /**
   * At the target's exit, once the last samples are in: every ended block is reported with
   * what it has (the watchdog ticks no more).
   */
  settle(): void {
    for (const b of this.finishing) this.finish(b);
  }

  private waitForStack(block: Block): void {
    if (this.finishing.length >= MAX_FINISHING) this.finish(this.finishing[0]!);
    this.finishing.push(block);
    this.options.samples?.harvest();
  }

  /** Whether an ended block has what it waits for: its interrupt stack and its samples, or waited long enough. */
  private stackSettled(block: Block, now: number): boolean {
    const ended = block.ended!;
    if (now - ended.atMs > STACK_WAIT_MS) return true;
    const samples = this.options.samples;
    const sampled = !samples?.active || samples.coveredUntilMs >= ended.startMs + ended.spanMs;
    return block.captured && sampled;
  }

  private begin(now: number): void {
    const block: Block = {
      id: this.nextId++,
      startMs: this.source.lastBeatMs,
      stack: [],
      stackError: undefined,
      stackAtMs: undefined,
      captured: false,
      lastSentMs: now,
      ended: undefined,
    };
    this.block = block;
    const capturing = this.budget.take(now);
    if (!capturing) {
      block.captured = true;
      block.stackError = CAPTURE_SKIPPED;
    }
    this.send(block, 'ongoing', now);
    if (!capturing) return;
    this.options.capture((result) => {
      block.captured = true;
      if ('stack' in result) {
        block.stack = result.stack;
        block.stackAtMs = result.atMs;
      } else block.stackError = clipName(result.error);
      const now = this.options.nowMs();
      if (this.block === block) this.send(block, 'ongoing', now);
      else if (this.finishing.includes(block) && this.stackSettled(block, now)) this.finish(block);
    });
  }

  private finish(block: Block): void {
    this.finishing = this.finishing.filter((b) => b !== block);
    if (!block.captured) block.stackError = 'the stack did not arrive in time';
    const busy = (block.ended?.durationMs ?? 0) >= this.options.thresholdMs;
    this.send(block, busy ? 'ended' : 'cancelled', this.options.nowMs());
  }

  private send(block: Block, state: BlockedReport['state'], now: number): void {
    block.lastSentMs = now;
    const startMs = block.ended?.startMs ?? block.startMs;
    const durationMs = block.ended?.durationMs ?? now - block.startMs;
    const endMs = startMs + Math.max(0, block.ended?.spanMs ?? durationMs);
    const base = { id: block.id, state, startUs: us(startMs), durationUs: us(Math.max(0, durationMs)) };
    // The interrupt stack, if it was read while the block lasted (else it shows what ran next).
    const inside = block.stackAtMs === undefined || block.stackAtMs <= endMs + LATE_SLACK_MS;
    const blame = state === 'cancelled' ? undefined : this.options.samples?.blame(startMs, endMs, inside && block.stack.length > 0 ? block.stack : undefined);
    // Samples that ran no code (all in GC, say) have no stack: the interrupt's, taken inside the
    // block, says what JavaScript ran in it, and the samples' kinds go beside it. On a loaded
    // machine a busy loop's samples can all land in GC (its scavenges wait for helper threads
    // that wait for a CPU), and the probe's own first start can leave only such samples. Not an
    // interrupt stack with none of the program's frames: served after a native call had
    // returned, it shows Node's timers re-arming, not the block.
    const interruptOverSamples = blame !== undefined && !blame.ranCode && inside && block.stack.some(isUserStackFrame);
    if (blame && !interruptOverSamples) {
      this.options.emit({
        ...base, stack: blame.stack, stackSource: 'samples', samples: blame.samples, sampled: blame.sampled,
        lineSource: blame.lineSource, sampleKinds: blame.kinds,
        ...(blame.others.length > 0 ? { otherStacks: blame.others } : {}),
      });
      return;
    }
    const source: StackSource | undefined = block.stack.length === 0 ? undefined : inside || !block.ended ? 'interrupt' : 'late-interrupt';
    // An ended block without samples says why, where the sampler can tell (not while it lasts: they come later).
    const unsampled = state === 'ended' && !blame ? this.options.samples?.unsampled(startMs, endMs) : undefined;
    this.options.emit({
      ...base,
      stack: block.stack,
      ...(source ? { stackSource: source } : {}),
      ...(interruptOverSamples ? { samples: 0, sampled: blame.sampled, sampleKinds: blame.kinds } : {}),
      ...(block.stackError !== undefined ? { stackError: block.stackError } : {}),
      ...(unsampled !== undefined ? { unsampled: clipName(unsampled) } : {}),
    });
  }
}

