// The blocked-loop watchdog, run by the worker on every poll. The main thread's only part is
// the heartbeat; everything here happens off the main thread.

import { clipName, type BlockedReport, type StackFrame } from './wire';
import type { CaptureResult } from './stack-capture';

export interface HeartbeatSource {
  readonly heartbeat: number;
  readonly lastBeatMs: number;
  readonly lastStall: { stallMs: number; endMs: number };
}

export interface WatchdogOptions {
  readonly thresholdMs: number;
  /** Now, on the main thread's performance.now() clock. */
  readonly nowMs: () => number;
  readonly capture: (done: (r: CaptureResult) => void) => void;
  readonly emit: (report: BlockedReport) => void;
}

/** How often an ongoing block is re-reported with its duration so far. */
const ONGOING_UPDATE_MS = 1000;
/** How long a finished block waits for a stack still on its way (a long native call). */
const STACK_WAIT_MS = 2000;

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
  captured: boolean;
  lastSentMs: number;
  ended: { startMs: number; durationMs: number; atMs: number } | undefined;
}

const us = (ms: number): number => Math.round(ms * 1000);

export class Watchdog {
  private seenBeat: number;
  private lastStallEndMs = 0;
  private block: Block | undefined;
  private nextId = 1;
  private readonly budget = new CaptureBudget();

  constructor(private readonly source: HeartbeatSource, private options: WatchdogOptions) {
    this.seenBeat = source.heartbeat;
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
   * Once it has ended and waits for its stack, `pollMs`: the wait is short and rare.
   */
  nextTickInMs(pollMs: number): number {
    const block = this.block;
    if (block?.ended) return pollMs;
    const dueMs = block ? block.lastSentMs + ONGOING_UPDATE_MS : this.source.lastBeatMs + this.options.thresholdMs;
    // One more ms for the beat: a timer may fire up to a ms early, and the beat is late only past the threshold.
    return Math.max(1, Math.ceil(dueMs - this.options.nowMs())) + (block ? 0 : 1);
  }

  tick(): void {
    const beat = this.source.heartbeat;
    const now = this.options.nowMs();
    const block = this.block;
    if (beat !== this.seenBeat) {
      this.seenBeat = beat;
      // The beat that ended a stall measured it from the loop's active time.
      const { stallMs, endMs } = this.source.lastStall;
      const fresh = endMs !== this.lastStallEndMs;
      this.lastStallEndMs = endMs;
      if (block && !block.ended) {
        const durationMs = stallMs > 0 ? stallMs : now - block.startMs;
        block.ended = { startMs: endMs - durationMs, durationMs, atMs: now };
      } else if (!block && fresh && stallMs >= this.options.thresholdMs) {
        // A block that ended between two polls: too short to be caught while it lasted,
        // long enough to count. Reported without a stack, and says why.
        this.send({
          id: this.nextId++, startMs: endMs - stallMs, stack: [], captured: true, lastSentMs: now,
          stackError: 'the block ended before the watchdog saw it (it polls every few ms)',
          ended: { startMs: endMs - stallMs, durationMs: stallMs, atMs: now },
        }, 'ended', now);
        return;
      }
    }
    if (block) {
      if (block.ended) {
        if (block.captured || now - block.ended.atMs > STACK_WAIT_MS) this.finish(block);
      } else if (now - block.lastSentMs >= ONGOING_UPDATE_MS) {
        this.send(block, 'ongoing', now);
      }
      return;
    }
    // A block may start right after a beat, so count from the beat itself: a heartbeat
    // `threshold` late may hide a block of `threshold`. The loop's active time, measured
    // when the beat comes back, then confirms the block or withdraws the report.
    if (now - this.source.lastBeatMs > this.options.thresholdMs) this.begin(now);
  }

  private begin(now: number): void {
    const block: Block = {
      id: this.nextId++,
      startMs: this.source.lastBeatMs,
      stack: [],
      stackError: undefined,
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
      if ('stack' in result) block.stack = result.stack;
      else block.stackError = clipName(result.error);
      if (this.block === block && !block.ended) this.send(block, 'ongoing', this.options.nowMs());
      if (this.block === block && block.ended) this.finish(block);
    });
  }

  private finish(block: Block): void {
    if (!block.captured) block.stackError = 'the stack did not arrive in time';
    const busy = (block.ended?.durationMs ?? 0) >= this.options.thresholdMs;
    this.send(block, busy ? 'ended' : 'cancelled', this.options.nowMs());
    this.block = undefined;
  }

  private send(block: Block, state: BlockedReport['state'], now: number): void {
    block.lastSentMs = now;
    const startMs = block.ended?.startMs ?? block.startMs;
    const durationMs = block.ended?.durationMs ?? now - block.startMs;
    this.options.emit({
      id: block.id,
      state,
      startUs: us(startMs),
      durationUs: us(Math.max(0, durationMs)),
      stack: block.stack,
      ...(block.stackError !== undefined ? { stackError: block.stackError } : {}),
    });
  }
}
