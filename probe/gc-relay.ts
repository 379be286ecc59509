// GC pauses of the worker threads' loops, passed on from the main loop's trace (gc-trace.ts), so
// that a worker thread's loop, like the main one, runs no JavaScript per GC. Without it, the
// loop observes its GC with a PerformanceObserver on its own thread, which builds and
// dispatches an object per pause there (BENCHMARKS.md, "GC pauses").
//
// Tracing is process-wide: the main loop's probe worker receives every thread's events. It
// posts each thread's pauses, as a batch comes in, on a BroadcastChannel named after the
// thread's OS id (the trace's tid), and a status every flush on a channel all loops share. A
// worker loop's probe worker listens to both; its thread reads its OS id from
// /proc/thread-self (Linux only). A tracing session per loop would cost more: every session
// gets every thread's events, and each session's flush sends them to all.
//
// A loop relies on the relay while statuses come; when they stop (the main loop's probe has
// gone) or say tracing has failed, it observes its GC again. A worker that exits asks for a
// collection at once, so that its last pauses are in before its last sample.
//
// The target's own code can post on these channels too: what comes is checked, and at worst
// misstates the loop's GC, which that code could do anyway.

import { BroadcastChannel } from 'node:worker_threads';
import { GcKindCode, traceNowUs, type GcKindCodeId } from './gc-trace';
import { guard } from './guard';

const STATUS_CHANNEL = 'loopscope-probe-gc';
const pausesChannel = (tid: number): string => `${STATUS_CHANNEL}:${tid}`;
/** Channels open at once, at most: those of the threads not heard of lately are closed. */
const MAX_CHANNELS = 256;
/** Threads in one batch, at most: a process with more threads than this at work has the rest's pauses not passed on. */
const MAX_THREADS = 1024;
/**
 * Pauses of one thread in one batch (a second's worth), at most: far more than a thread makes
 * (100–200 a second on allocation-heavy work); the rest are counted lost.
 */
export const MAX_RELAYED_PAUSES = 4096;
/** Pauses of all threads in one batch, at most (1.5 MB): the rest are counted lost. */
const MAX_PENDING_PAUSES = 65_536;
/** Lost pauses one message can tell of: more is no thread's second of GC, but a crafted message. */
const MAX_LOST = 1_000_000;
/** A loop goes back to observing its GC when no status has come for this long, ms (the relay sends one a second). */
export const STALE_MS = 3500;
/** How often a loop checks that statuses still come, ms. */
const CHECK_MS = 1000;
/** A loop that went back to observing stays so this long at least, ms. */
const MIN_OBSERVED_MS = 10_000;

interface Status {
  readonly tracing: boolean;
  readonly reason?: string;
  /** Every pause that ended before this (trace clock, µs) has been posted (on its thread's channel, before this status). */
  readonly coveredUs?: number;
}
/** From a loop whose thread exits: collect now. */
interface FlushRequest {
  readonly flush: true;
}
/** After the status that covers its exit, how long a loop waits for pauses still on their way (they come on another channel), ms. */
const EXIT_QUIET_MS = 10;
/**
 * One thread's pauses of one batch: [kind, start µs, duration µs] on the trace clock, flat;
 * `lost`: those the relay had no room for; `unrecorded`: those V8's trace has half of (gc-trace.ts).
 */
interface Pauses {
  readonly pauses: Float64Array;
  readonly lost: number;
  readonly unrecorded: number;
}

/** A channel that does not keep the probe worker's loop alive: its lifetime is its own. */
function open(name: string): BroadcastChannel {
  const channel = new BroadcastChannel(name);
  (channel as { unref?: () => void }).unref?.();
  return channel;
}

/** The main loop's side: collects the worker threads' pauses of each batch and posts them. */
export class GcRelay {
  private readonly status = open(STATUS_CHANNEL);
  private readonly pending = new Map<number, { values: number[]; lost: number; unrecorded: number }>();
  private pendingPauses = 0;
  /** By thread, the least lately used first. */
  private readonly channels = new Map<number, BroadcastChannel>();
  private stopped = false;

  /** `flushWanted`: a loop whose thread exits wants its pauses collected now. */
  constructor(flushWanted: () => void) {
    this.status.onmessage = guard((m: unknown) => {
      if ((m as { data?: Partial<FlushRequest> }).data?.flush === true) flushWanted();
    });
  }

  push(tid: number, kind: GcKindCodeId, startUs: number, durationUs: number): void {
    const p = this.pendingOf(tid);
    if (!p) return;
    if (p.values.length < MAX_RELAYED_PAUSES * 3 && this.pendingPauses < MAX_PENDING_PAUSES) {
      p.values.push(kind, startUs, durationUs);
      this.pendingPauses++;
    } else p.lost++;
  }

  /** A pause of thread `tid` that V8's trace has only half of. */
  unrecorded(tid: number): void {
    const p = this.pendingOf(tid);
    if (p) p.unrecorded++;
  }

  private pendingOf(tid: number): { values: number[]; lost: number; unrecorded: number } | undefined {
    let p = this.pending.get(tid);
    if (!p && this.pending.size < MAX_THREADS) {
      p = { values: [], lost: 0, unrecorded: 0 };
      this.pending.set(tid, p);
    }
    return p;
  }

  /** Posts the pauses pushed since the last call, each thread's on its channel. */
  send(): void {
    if (this.stopped) return;
    for (const [tid, p] of this.pending) {
      const message: Pauses = { pauses: Float64Array.from(p.values), lost: p.lost, unrecorded: p.unrecorded };
      this.channel(tid).postMessage(message);
    }
    this.pending.clear();
    this.pendingPauses = 0;
  }

  /**
   * Tracing is on (said every second, from the probe's worker: a main thread held up in a
   * native call delays the collections, not this), and, with `coveredUs`, every pause that
   * ended before it has been posted.
   */
  alive(coveredUs?: number): void {
    if (!this.stopped) this.status.postMessage({ tracing: true, ...(coveredUs === undefined ? {} : { coveredUs }) } satisfies Status);
  }

  /** Tracing has failed while the process runs on: the loops observe their GC again. */
  stop(reason: string): void {
    if (!this.stopped) this.status.postMessage({ tracing: false, reason } satisfies Status);
    this.close();
  }

  /** The probe stops (the process exits, or loopscope detaches every loop): the loops are told nothing. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.status.close();
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
    this.pending.clear();
    this.pendingPauses = 0;
  }

  private channel(tid: number): BroadcastChannel {
    let c = this.channels.get(tid);
    if (c) this.channels.delete(tid);
    else {
      c = open(pausesChannel(tid));
      if (this.channels.size >= MAX_CHANNELS) {
        const [oldest, channel] = this.channels.entries().next().value!;
        channel.close();
        this.channels.delete(oldest);
      }
    }
    this.channels.set(tid, c);
    return c;
  }
}

export interface RelayEvents {
  /** A pause of this loop's thread, on the trace clock. */
  readonly pause: (kind: number, startUs: number, durationUs: number) => void;
  readonly lost: (count: number) => void;
  /** Pauses of this loop's thread that V8's trace has only half of. */
  readonly unrecorded: (count: number) => void;
  /** The relay is on: the loop's pauses come from it from now on. */
  readonly traced: () => void;
  /** The relay is off (said, or silent for STALE_MS): the loop observes its GC. */
  readonly untraced: (reason: string) => void;
}

const KINDS: ReadonlySet<number> = new Set(Object.values(GcKindCode));

/** A worker loop's side: its thread's pauses, while the main loop's tracing is on. */
export class GcRelayListener {
  private readonly status = open(STATUS_CHANNEL);
  private readonly pauses: BroadcastChannel;
  /** What the loop was last told: nothing yet, on the relay, or observing. */
  private state: 'unknown' | 'traced' | 'untraced' = 'unknown';
  /** When the loop last went back to observing: it stays so for MIN_OBSERVED_MS. */
  private untracedAtMs = -Infinity;
  private lastStatusMs: number;
  private closed = false;
  private readonly timer: ReturnType<typeof setInterval>;
  /** At exit: given each status, until one covers the thread's last pauses. */
  private finishing: ((status: Status) => void) | undefined;

  constructor(tid: number, private readonly events: RelayEvents, private readonly nowMs: () => number) {
    this.lastStatusMs = nowMs();
    this.pauses = open(pausesChannel(tid));
    // Guarded: a throw here would end the probe's worker.
    this.status.onmessage = guard((m: unknown) => this.onStatus((m as { data?: unknown }).data));
    this.pauses.onmessage = guard((m: unknown) => this.onPauses((m as { data?: unknown }).data));
    this.timer = setInterval(guard(() => this.check()), CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.status.close();
    this.pauses.close();
  }

  /**
   * The thread exits: asks the main loop to collect at once, and calls `done` once that batch
   * is in (or after `timeoutMs`, or at once when the relay is not on).
   */
  finish(timeoutMs: number, done: () => void): void {
    if (this.closed || this.state !== 'traced') return done();
    let called = false;
    const once = (): void => {
      if (called) return;
      called = true;
      clearTimeout(timer);
      this.finishing = undefined;
      done();
    };
    const timer = setTimeout(once, timeoutMs);
    const exitUs = traceNowUs();
    this.finishing = (status) => {
      // Or no more will come.
      if (!status.tracing || (status.coveredUs !== undefined && status.coveredUs >= exitUs)) setTimeout(once, EXIT_QUIET_MS);
    };
    this.status.postMessage({ flush: true } satisfies FlushRequest);
  }

  private onStatus(data: unknown): void {
    if (this.closed || typeof data !== 'object' || data === null || typeof (data as Status).tracing !== 'boolean') return;
    const status = data as Status;
    if (status.coveredUs !== undefined && !Number.isFinite(status.coveredUs)) return;
    this.lastStatusMs = this.nowMs();
    this.finishing?.(status);
    if (status.tracing) this.become('traced', '');
    else this.become('untraced', typeof status.reason === 'string' ? status.reason : 'the main loop\'s GC tracing stopped');
  }

  private onPauses(data: unknown): void {
    if (this.closed || this.state !== 'traced' || typeof data !== 'object' || data === null) return;
    const { pauses, lost, unrecorded } = data as Partial<Pauses>;
    if (!(pauses instanceof Float64Array) || pauses.length % 3 !== 0 || pauses.length > MAX_RELAYED_PAUSES * 3) return;
    for (let i = 0; i < pauses.length; i += 3) {
      const kind = pauses[i]!;
      const startUs = pauses[i + 1]!;
      const durationUs = pauses[i + 2]!;
      if (KINDS.has(kind) && Number.isFinite(startUs) && Number.isFinite(durationUs) && durationUs >= 0) this.events.pause(kind, startUs, durationUs);
    }
    if (typeof lost === 'number' && Number.isInteger(lost) && lost > 0) this.events.lost(Math.min(lost, MAX_LOST));
    if (typeof unrecorded === 'number' && Number.isInteger(unrecorded) && unrecorded > 0) this.events.unrecorded(Math.min(unrecorded, MAX_LOST));
  }

  /** Silence past STALE_MS, before the first status or after one, is news. */
  private check(): void {
    if (this.nowMs() - this.lastStatusMs < STALE_MS) return;
    this.become('untraced', 'the main thread\'s probe passes on no GC pauses (its own GC source says why)');
  }

  /**
   * Each change is told once. Back on the relay only MIN_OBSERVED_MS after leaving it: the
   * target's code can post statuses too, and each change costs the loop's thread an observer
   * and the session a message.
   */
  private become(state: 'traced' | 'untraced', reason: string): void {
    if (state === this.state) return;
    if (state === 'traced' && this.nowMs() - this.untracedAtMs < MIN_OBSERVED_MS) return;
    this.state = state;
    if (state === 'traced') this.events.traced();
    else {
      this.untracedAtMs = this.nowMs();
      this.events.untraced(reason);
    }
  }
}
