// GC pauses from V8's own trace events, collected by the main loop's probe worker through the
// inspector's NodeTracing domain: the main thread's, and the worker threads' (tracing is
// process-wide), which gc-relay.ts passes on to their loops. Nothing runs in JavaScript on the
// paused thread per GC: V8 appends a trace event at each pause's start and end, Node's tracing
// thread serializes them, and the worker parses them. A PerformanceObserver of 'gc' entries
// instead builds and dispatches a JavaScript object per GC on the paused thread, which cost the
// main thread 6.5% more CPU on allocation-heavy code, against 1% for this (BENCHMARKS.md, "GC
// pauses").
//
// NodeTracing sends its events only when tracing stops (or its buffer fills), so the worker
// stops and restarts it every flush, with two sessions: the next starts before the current
// stops, so that no pause falls between them; events both saw are told apart by timestamp.

import type { Session } from 'node:inspector';

/** Kinds, as the worker passes them to the main thread through shared memory. */
export const GcKindCode = { minor: 1, major: 2, incremental: 3 } as const;
export type GcKindCodeId = (typeof GcKindCode)[keyof typeof GcKindCode];

/**
 * The events that are pauses (Node 18–26): MinorGC and MajorGC begin/end pairs around a
 * scavenge and a mark-compact's atomic pause, and the complete event of the pause that starts
 * incremental marking. They match a PerformanceObserver's 'minor', 'major' and 'incremental'
 * entries one for one.
 */
const KIND_BY_EVENT: ReadonlyMap<string, GcKindCodeId> = new Map([
  ['MinorGC', GcKindCode.minor],
  ['MajorGC', GcKindCode.major],
  ['V8.GCIncrementalMarkingStart', GcKindCode.incremental],
]);

export const TRACE_CATEGORIES = ['v8'];
const PHASES = ['B', 'E', 'X'];
/** How long an event's key is kept to recognize it in the next batch, µs. */
const SEEN_US = 5_000_000;
/** The events of a stop are in once this long passes without more, ms (at exit too). */
const QUIET_MS = 5;
/** A stop answered with no data after this long has none, ms (every stop so far has sent some). */
const NO_DATA_MS = 50;
/** Collections asked for (by exiting worker loops) begin no closer together than this, ms. */
const MIN_EARLY_GAP_MS = 50;

/** A collection under way: what it covers to (trace clock, µs), and whether Node has answered its stop and sent data. */
interface Collection {
  readonly coveredUs: number;
  answered: boolean;
  data: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly done: (coveredUs: number) => void;
}

/** A pause of thread `tid` (the OS thread id), on the trace clock. */
export type OnPause = (tid: number, kind: GcKindCodeId, startUs: number, durationUs: number) => void;
/**
 * A pause of thread `tid` whose begin or end V8 did not record: Node suspends V8's tracing
 * while a session's tracing starts or stops, which the probe's collections do once a second
 * (bench/gc-trace-handover.mjs counts them).
 */
export type OnUnrecorded = (tid: number) => void;
/** Pauses begun and not ended yet, kept at most: a thread that ended mid-pause leaves one. */
const MAX_OPEN = 1024;
/** Threads and kinds known to have begun a pause, kept at most (the oldest forgotten first). */
const MAX_BEGUN = 4096;
/** A pause begun this long before the newest event and not ended has lost its end, µs. */
const OPEN_MAX_US = 60_000_000;
/** Events remembered to recognize them again, at most (a few seconds of every thread's GCs). */
const MAX_SEEN = 65_536;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Now on the trace clock (uv_hrtime, µs): the same on every thread. */
export const traceNowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Trace events in, pauses out, each once, per thread, on the trace clock (µs of uv_hrtime, the
 * clock of process.hrtime). Pure.
 */
export class GcEventParser {
  /** By thread and event name: when the pause began. */
  private readonly open = new Map<string, number>();
  /**
   * The events taken lately, by key (thread, timestamp, phase, kind), to drop them when the next
   * session's batch has them too. Not by "newer than the last batch": a complete event that
   * began before a flush and ended after it comes only in the next batch, with an older time.
   */
  private readonly seen = new Map<string, number>();
  /**
   * By thread and event name, those that have begun a pause in the trace: an end with no begin
   * of one of them lost its begin; of another, the pause began before tracing did.
   */
  private readonly begun = new Set<string>();
  private newestTs = -Infinity;

  constructor(private readonly onPause: OnPause, private readonly onUnrecorded: OnUnrecorded = () => {}) {}

  add(events: unknown): void {
    if (!Array.isArray(events)) return;
    for (const e of events as { name?: unknown; ph?: unknown; ts?: unknown; dur?: unknown; tid?: unknown }[]) {
      // Every isolate (the main thread's, each worker's, ours) has its own GCs, on its own
      // thread id: the main thread's is the process id.
      if (typeof e !== 'object' || e === null || !finite(e.tid) || typeof e.name !== 'string' || !finite(e.ts)) continue;
      const kind = KIND_BY_EVENT.get(e.name);
      const phase = PHASES.indexOf(e.ph as string);
      if (kind === undefined || phase === -1) continue;
      const key = `${e.tid}:${e.ts}:${phase}:${kind}`;
      if (this.seen.has(key)) continue;
      this.remember(key, e.ts);
      const name = `${e.tid}:${e.name}`;
      if (e.ph === 'X') {
        if (finite(e.dur)) this.onPause(e.tid, kind, e.ts, Math.max(0, e.dur));
      } else if (e.ph === 'B') {
        // A thread's pauses of one kind never overlap: one still open lost its end.
        if (this.open.has(name)) this.onUnrecorded(e.tid);
        this.open.delete(name);
        this.open.set(name, e.ts);
        if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value!);
        this.begun.delete(name);
        this.begun.add(name);
        if (this.begun.size > MAX_BEGUN) this.begun.delete(this.begun.keys().next().value!);
      } else {
        const began = this.open.get(name);
        if (began === undefined) {
          if (this.begun.has(name)) this.onUnrecorded(e.tid);
          continue;
        }
        this.open.delete(name);
        this.onPause(e.tid, kind, began, Math.max(0, e.ts - began));
      }
    }
    this.sweepOpen();
  }

  /** A pause open for far longer than any lasts lost its end, and its thread began no other since. */
  private sweepOpen(): void {
    for (const [name, ts] of this.open) {
      if (ts >= this.newestTs - OPEN_MAX_US) continue;
      this.open.delete(name);
      this.onUnrecorded(Number(name.slice(0, name.indexOf(':'))));
    }
  }

  /** Keys are kept for a few flushes' worth of time: bounded by the GC rate. */
  private remember(key: string, ts: number): void {
    this.seen.set(key, ts);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.keys().next().value!);
    if (ts > this.newestTs) this.newestTs = ts;
    for (const [k, t] of this.seen) {
      if (t >= this.newestTs - SEEN_US) break;
      this.seen.delete(k);
    }
  }
}

/**
 * The two sessions' tracing, restarted at each flush. Until it has started, and if NodeTracing
 * cannot be used, the probe observes GC on the main thread instead.
 */
export class GcTracer {
  private sessions: [Session, Session] | undefined;
  private stopped = false;
  /** Collections under way, by the session whose tracing they stopped. */
  private readonly collections = new Map<Session, Collection>();
  /** A collection is wanted as soon as the one under way has ended. */
  private again = false;
  private lastFlushMs = -Infinity;
  private soonTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last collection, at exit, is under way: no other starts. */
  private finishing = false;

  private started = false;

  /**
   * `started`: once, when tracing is on; `batch`: after each batch of events; `collected`: when
   * a flush's batches are all in; `failed`: once, if tracing cannot be.
   */
  constructor(
    private readonly makeSession: () => Session,
    private readonly parser: GcEventParser,
    private readonly events: {
      readonly started: () => void;
      readonly batch: () => void;
      readonly collected: (coveredUs: number) => void;
      readonly failed: (reason: string) => void;
    },
  ) {}

  start(): void {
    try {
      this.sessions = [this.session(), this.session()];
      this.begin(this.sessions[0]);
    } catch (err) {
      this.fail(`inspector: ${(err as Error).message}`);
    }
  }

  /**
   * Collects what was traced since the last flush; the pauses arrive shortly after, then
   * `collected` with the time the collection covers to (µs on the trace clock).
   */
  flush(): void {
    const s = this.sessions;
    if (!s || this.stopped || this.finishing) return;
    this.lastFlushMs = Date.now();
    this.begin(s[1]);
    this.collect(s[0], (coveredUs) => this.collected(coveredUs));
    this.sessions = [s[1], s[0]];
  }

  /**
   * A collection soon: at once, or MIN_EARLY_GAP_MS after the last one began; while one is under
   * way (it may cover less than is wanted), right after it. Requests meanwhile share it.
   */
  flushSoon(): void {
    if (this.stopped || this.finishing || this.soonTimer) return;
    if (this.collections.size > 0) {
      this.again = true;
      return;
    }
    const waitMs = this.lastFlushMs + MIN_EARLY_GAP_MS - Date.now();
    if (waitMs <= 0) return this.flush();
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      this.flush();
    }, waitMs);
  }

  /**
   * Stops `stopping`'s tracing and calls `done` with what that covers to, once Node's answer and
   * the stop's data are both in (they come in either order: the data from its tracing thread)
   * and no more data comes for a moment.
   */
  private collect(stopping: Session, done: (coveredUs: number) => void): void {
    const earlier = this.collections.get(stopping);
    if (earlier) this.complete(stopping, earlier);
    const c: Collection = { coveredUs: traceNowUs(), answered: false, data: false, timer: undefined, done };
    this.collections.set(stopping, c);
    stopping.post('NodeTracing.stop', () => {
      c.answered = true;
      if (c.data) this.settle(stopping, c);
      else c.timer = setTimeout(() => this.complete(stopping, c), NO_DATA_MS);
    });
  }

  private settle(s: Session, c: Collection): void {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => this.complete(s, c), QUIET_MS);
  }

  private complete(s: Session, c: Collection): void {
    if (this.collections.get(s) !== c) return;
    clearTimeout(c.timer);
    this.collections.delete(s);
    if (!this.stopped) c.done(c.coveredUs);
  }

  private collected(coveredUs: number): void {
    if (this.finishing) return;
    this.events.collected(coveredUs);
    if (this.again && this.collections.size === 0) {
      this.again = false;
      this.flushSoon();
    }
  }

  /** The last collection, at exit: stops tracing and calls `done` once its events are in, or after `timeoutMs`. */
  finish(timeoutMs: number, done: () => void): void {
    const s = this.sessions;
    if (!s || this.stopped) return done();
    this.finishing = true;
    clearTimeout(this.soonTimer);
    let called = false;
    const end = (): void => {
      if (called) return;
      called = true;
      clearTimeout(timer);
      this.stop();
      done();
    };
    const timer = setTimeout(end, timeoutMs);
    this.collect(s[0], end);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.soonTimer);
    for (const c of this.collections.values()) clearTimeout(c.timer);
    this.collections.clear();
    for (const s of this.sessions ?? []) {
      try {
        s.disconnect();
      } catch {
        // already gone
      }
    }
    this.sessions = undefined;
  }

  private session(): Session {
    const s = this.makeSession();
    s.on('NodeTracing.dataCollected', (m: { params?: { value?: unknown } }) => {
      this.parser.add(m.params?.value);
      this.events.batch();
      const c = this.collections.get(s);
      if (!c) return;
      c.data = true;
      if (c.answered) this.settle(s, c);
    });
    return s;
  }

  private begin(s: Session): void {
    s.post('NodeTracing.start', { traceConfig: { includedCategories: TRACE_CATEGORIES } }, (err) => {
      if (err) this.fail(`NodeTracing: ${err.message}`);
      else if (!this.started && !this.stopped) {
        this.started = true;
        this.events.started();
      }
    });
  }

  private fail(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.events.failed(reason);
  }
}
