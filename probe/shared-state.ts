// Memory shared between the target's main thread and the probe's worker thread.
//
// The main thread writes frames into the ring, the heartbeat and drop counts; the worker reads,
// sends, and watches. That keeps the target's main thread free of socket I/O, and lets the
// worker report a loop that is stuck for good. The other way, the worker leaves GC pauses
// (which it collects from trace events) in a small ring of their own for the main thread's
// sampler, and its own busy time.

/** Int32 slots. */
const I_WRITE = 0; // ring: bytes ever written (wrapping u32)
const I_READ = 1; // ring: bytes ever read by the worker (wrapping u32)
const I_HEARTBEAT = 2; // bumped by every heartbeat on the main thread
const I_FLUSHED = 3; // ring read position whose bytes the socket has flushed
const I_GC_WRITE = 4; // GC pauses ever written by the worker
const I_GC_READ = 5; // GC pauses ever taken by the main thread
const I_FINAL = 6; // 1 once the worker has collected the last GC pauses and CPU samples at exit
const I_WAKE_ON_BEAT = 7; // 1 while the worker waits for the beat that ends a block
const INT_SLOTS = 8;

/** Float64 slots. */
const F_LAST_BEAT_MS = 0; // main thread's performance.now() at the last heartbeat
const F_STALL_MS = 1; // length of the last stall, from the loop's active time
const F_STALL_END_MS = 2; // when that stall ended (main thread's performance.now())
const F_DROPPED_BYTES = 3;
const F_WORKER_ACTIVE_MS = 4; // the worker's event-loop active time so far, for the probe's own cost
const F_GC_LOST = 5; // GC pauses the worker could not pass on: the main thread had not taken enough
const F_OWN_PAUSE_SINCE_MS = 6; // while the main thread does the probe's own work (e.g. starts the profiler): since when; else 0
const F_OWN_SINCE_BEAT_MS = 7; // how long such work took since the last beat
const F_DROPS_BASE = 8; // dropped frames, one slot per message type id (0..63)
const DROP_SLOTS = 64;
const F_STALL_SEEN_END_MS = F_DROPS_BASE + DROP_SLOTS; // the end of the last stall the watchdog has seen
const F_STALL_SPAN_MS = F_STALL_SEEN_END_MS + 1; // the last stall from its start to its end, the probe's own work in it included
const FLOAT_SLOTS = F_STALL_SPAN_MS + 1;
/**
 * GC pauses in flight from the worker to the main thread: kind, start, duration. A second's
 * worth arrives at once, and the sampler takes a bounded number per interval.
 */
const GC_SLOTS = 8192;
const GC_FIELDS = 3;

export interface SharedState {
  readonly buffer: SharedArrayBuffer;
  readonly ringCapacity: number;
}

export function createSharedState(ringCapacity: number): SharedState {
  if (ringCapacity <= 0 || (ringCapacity & (ringCapacity - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two, got ${ringCapacity}`);
  }
  return { buffer: new SharedArrayBuffer(INT_SLOTS * 4 + (FLOAT_SLOTS + GC_SLOTS * GC_FIELDS) * 8 + ringCapacity), ringCapacity };
}

/** Typed views over one SharedState; each thread makes its own. */
export class SharedViews {
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  private readonly gc: Float64Array;
  private readonly ring: Uint8Array;
  private readonly mask: number;

  constructor(state: SharedState) {
    this.ints = new Int32Array(state.buffer, 0, INT_SLOTS);
    this.floats = new Float64Array(state.buffer, INT_SLOTS * 4, FLOAT_SLOTS);
    this.gc = new Float64Array(state.buffer, INT_SLOTS * 4 + FLOAT_SLOTS * 8, GC_SLOTS * GC_FIELDS);
    this.ring = new Uint8Array(state.buffer, INT_SLOTS * 4 + (FLOAT_SLOTS + GC_SLOTS * GC_FIELDS) * 8, state.ringCapacity);
    this.mask = state.ringCapacity - 1;
  }

  // --- GC pauses (single producer: the worker; single consumer: the main thread) ---

  /** Worker: passes one pause on, or counts it lost when the main thread is that far behind. */
  pushGcPause(kind: number, startUs: number, durationUs: number): boolean {
    // Counters wrap as u32 (in weeks, at a thousand pauses a second); GC_SLOTS divides 2^32.
    const w = Atomics.load(this.ints, I_GC_WRITE) >>> 0;
    if (((w - (Atomics.load(this.ints, I_GC_READ) >>> 0)) >>> 0) >= GC_SLOTS) {
      this.floats[F_GC_LOST]! += 1;
      return false;
    }
    const at = (w % GC_SLOTS) * GC_FIELDS;
    this.gc[at] = kind;
    this.gc[at + 1] = startUs;
    this.gc[at + 2] = durationUs;
    Atomics.store(this.ints, I_GC_WRITE, (w + 1) | 0);
    return true;
  }

  /** Main thread: takes up to `max` pauses, oldest first. Returns how many it took. */
  takeGcPauses(max: number, take: (kind: number, startUs: number, durationUs: number) => void): number {
    const r = Atomics.load(this.ints, I_GC_READ) >>> 0;
    const n = Math.min(max, ((Atomics.load(this.ints, I_GC_WRITE) >>> 0) - r) >>> 0);
    for (let i = 0; i < n; i++) {
      const at = (((r + i) >>> 0) % GC_SLOTS) * GC_FIELDS;
      take(this.gc[at]!, this.gc[at + 1]!, this.gc[at + 2]!);
    }
    Atomics.store(this.ints, I_GC_READ, (r + n) | 0);
    return n;
  }

  /** Worker: pauses lost before they reached this loop (gc-relay.ts). */
  countGcLost(count: number): void {
    this.floats[F_GC_LOST]! += count;
  }

  get gcPausesLost(): number {
    return this.floats[F_GC_LOST]!;
  }

  /** Worker, at exit: the last GC pauses are in the ring, the last CPU samples sent. */
  markFinal(): void {
    Atomics.store(this.ints, I_FINAL, 1);
    Atomics.notify(this.ints, I_FINAL);
  }

  /**
   * Main thread, at exit: waits (bounded) for the worker's last GC pauses and CPU samples. In
   * short waits: between them this thread runs JavaScript, where V8 serves the inspector's
   * interrupts, and the worker's last collection and harvest need the inspector on this thread.
   */
  waitFinal(timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.ints, I_FINAL) === 0) {
      if (Date.now() >= deadline) return false;
      Atomics.wait(this.ints, I_FINAL, 0, 2);
    }
    return true;
  }

  // --- the worker's busy time (written by the worker, read by the main thread's sampler) ---

  setWorkerActiveMs(ms: number): void {
    this.floats[F_WORKER_ACTIVE_MS] = ms;
  }

  get workerActiveMs(): number {
    return this.floats[F_WORKER_ACTIVE_MS]!;
  }

  // --- ring (single producer: main thread; single consumer: worker) ---

  /** Appends one whole frame, or returns false (and writes nothing) if it does not fit. */
  write(frame: Uint8Array): boolean {
    const w = Atomics.load(this.ints, I_WRITE) >>> 0;
    const r = Atomics.load(this.ints, I_READ) >>> 0;
    const used = (w - r) >>> 0;
    if (frame.byteLength > this.ring.byteLength - used) return false;
    const start = w & this.mask;
    const first = Math.min(frame.byteLength, this.ring.byteLength - start);
    this.ring.set(frame.subarray(0, first), start);
    if (first < frame.byteLength) this.ring.set(frame.subarray(first), 0);
    // Publishing the new write position after the bytes makes the whole frame visible at once.
    Atomics.store(this.ints, I_WRITE, (w + frame.byteLength) | 0);
    return true;
  }

  /** Takes every published byte out of the ring (a copy), or null when it is empty. */
  read(): Uint8Array | null {
    const w = Atomics.load(this.ints, I_WRITE) >>> 0;
    const r = Atomics.load(this.ints, I_READ) >>> 0;
    const n = (w - r) >>> 0;
    if (n === 0) return null;
    const out = new Uint8Array(n);
    const start = r & this.mask;
    const first = Math.min(n, this.ring.byteLength - start);
    out.set(this.ring.subarray(start, start + first), 0);
    if (first < n) out.set(this.ring.subarray(0, n - first), first);
    Atomics.store(this.ints, I_READ, w | 0);
    return out;
  }

  get writePosition(): number {
    return Atomics.load(this.ints, I_WRITE) >>> 0;
  }

  /** Worker: the socket has flushed everything up to this ring position. */
  markFlushed(position: number): void {
    Atomics.store(this.ints, I_FLUSHED, position | 0);
    Atomics.notify(this.ints, I_FLUSHED);
  }

  /** Main thread at exit: waits (bounded) until the worker has flushed up to `position`. */
  waitFlushed(position: number, timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const flushed = Atomics.load(this.ints, I_FLUSHED);
      if (((position - flushed) | 0) <= 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.ints, I_FLUSHED, flushed, left);
    }
  }

  // --- heartbeat and stalls (written by the main thread) ---

  beat(nowMs: number): void {
    this.floats[F_LAST_BEAT_MS] = nowMs;
    this.floats[F_OWN_SINCE_BEAT_MS] = 0;
    Atomics.add(this.ints, I_HEARTBEAT, 1);
    // Only during a block: then the worker sleeps until this beat, rather than polling for it.
    if (Atomics.load(this.ints, I_WAKE_ON_BEAT) !== 0) Atomics.notify(this.ints, I_HEARTBEAT);
  }

  /**
   * A stall the watchdog has not seen yet is kept when a shorter one follows before it looks
   * (a worker that starts after the target's main module blocked, and a pause of the probe's
   * own right after it, which a beat then measures as a short stall).
   */
  recordStall(stallMs: number, spanMs: number, endMs: number): void {
    const unseen = this.floats[F_STALL_END_MS]! > this.floats[F_STALL_SEEN_END_MS]!;
    if (unseen && this.floats[F_STALL_MS]! >= stallMs) return;
    this.floats[F_STALL_MS] = stallMs;
    this.floats[F_STALL_SPAN_MS] = spanMs;
    this.floats[F_STALL_END_MS] = endMs;
  }

  /** Worker: the watchdog has seen the stall that ended at `endMs`. */
  stallSeen(endMs: number): void {
    this.floats[F_STALL_SEEN_END_MS] = endMs;
  }

  get heartbeat(): number {
    return Atomics.load(this.ints, I_HEARTBEAT);
  }

  /**
   * Worker: resolves at the first beat after `seen` (at once if there was one already), or
   * after `timeoutMs` (Atomics.waitAsync: Node 16 and later). The main thread notifies from
   * then on, until `stopWaitingForBeats`.
   */
  waitForBeat(seen: number, timeoutMs: number): Promise<unknown> {
    Atomics.store(this.ints, I_WAKE_ON_BEAT, 1);
    const { async, value } = Atomics.waitAsync(this.ints, I_HEARTBEAT, seen, timeoutMs);
    return async ? value : Promise.resolve(value);
  }

  stopWaitingForBeats(): void {
    Atomics.store(this.ints, I_WAKE_ON_BEAT, 0);
  }

  get lastBeatMs(): number {
    return this.floats[F_LAST_BEAT_MS]!;
  }

  get lastStall(): { stallMs: number; spanMs: number; endMs: number } {
    return { stallMs: this.floats[F_STALL_MS]!, spanMs: this.floats[F_STALL_SPAN_MS]!, endMs: this.floats[F_STALL_END_MS]! };
  }

  // --- the probe's own work on the main thread (written there, read by the watchdog) ---

  beginOwnPause(nowMs: number): void {
    this.floats[F_OWN_PAUSE_SINCE_MS] = nowMs;
  }

  endOwnPause(durationMs: number): void {
    this.floats[F_OWN_SINCE_BEAT_MS]! += durationMs;
    this.floats[F_OWN_PAUSE_SINCE_MS] = 0;
  }

  /**
   * `sinceMs`: when the probe's own work in progress began (0: none); `sinceBeatMs`: how long
   * its work took since the last beat (the beat sets it back to 0).
   */
  get ownPause(): { sinceMs: number; sinceBeatMs: number } {
    return { sinceMs: this.floats[F_OWN_PAUSE_SINCE_MS]!, sinceBeatMs: this.floats[F_OWN_SINCE_BEAT_MS]! };
  }

  // --- drop counters (written by the main thread) ---

  countDrop(type: number, bytes: number): void {
    if (type >= 0 && type < DROP_SLOTS) this.floats[F_DROPS_BASE + type]! += 1;
    this.floats[F_DROPPED_BYTES]! += bytes;
  }

  drops(): { byType: Map<number, number>; bytes: number } {
    const byType = new Map<number, number>();
    for (let t = 0; t < DROP_SLOTS; t++) {
      const n = this.floats[F_DROPS_BASE + t]!;
      if (n > 0) byType.set(t, n);
    }
    return { byType, bytes: this.floats[F_DROPPED_BYTES]! };
  }
}
