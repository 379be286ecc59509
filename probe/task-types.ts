// Tasks mode's counters per resource type: created, destroyed, alive, callbacks and their
// durations, queue time (creation to first callback). Filled by the hook's callbacks (an
// index and an increment each); taken, and started afresh, once per interval.
//
// Reading the clock is most of what the callbacks cost (~50 ns a read, three per resource),
// so a busy type is timed on a sample of its resources: every one of the first TIMED_FIRST
// created in an interval, then one in TIMED_EVERY. The counts stay exact; the histograms then
// hold fewer values than there were callbacks, which is how a reader tells (trace mode times
// everything).

import { callbackField } from './callback-names';
import { bucketOf, LOG_BUCKETS, toSparse } from './log-histogram';
import { clipName, type TaskTypeStats } from './wire';

const TIMED_FIRST = 64;
/** A power of two. */
const TIMED_EVERY = 8;

/**
 * Types whose one init and one callback bracket a request to libuv's thread pool: fs, dns
 * lookups, and crypto's jobs (PBKDF2REQUEST, SCRYPTREQUEST, …). Not an HTTP client request,
 * named like those but called back when its response comes: counted, it made a program with
 * no pool work at all "SATURATED".
 */
const POOL_TYPES = /^(?!HTTPCLIENTREQUEST$)(FSREQCALLBACK|FSREQPROMISE|GETADDRINFOREQWRAP|GETNAMEINFOREQWRAP|[A-Z0-9]+REQUEST)$/;

export const isPoolType = (type: string): boolean => POOL_TYPES.test(type);

/** Types whose resource is one thing to do, called back once it is done (besides the pool's). */
const ONE_SHOT_TYPES = /^(Immediate|TickObject|Microtask|QUERYWRAP|SHUTDOWNWRAP|WRITEWRAP|[A-Z]+CONNECTWRAP|[A-Z]+SENDWRAP)$/;

/**
 * Whether a type's queue time (creation to first callback) is a wait: a request, an
 * immediate, a tick is called back once it is served. A handle (a socket, a server, a signal,
 * an HTTP message) is called back when something happens to it, a timer when its delay is up,
 * a promise when what it waits for settles: the time to their first callback is not a queue.
 */
export const queuesForCallback = (type: string): boolean => ONE_SHOT_TYPES.test(type) || isPoolType(type);

/**
 * The longest pool wait, µs: the pool's waits are its types' queue times (the same values go
 * into both), and only the types keep a maximum. Infinity when no pool type says, so that a
 * percentile is left uncapped rather than capped too low.
 */
export function poolWaitMaxUs(types: Iterable<{ readonly type: string; readonly queueMaxUs: number }>): number {
  let max = -Infinity;
  for (const t of types) if (isPoolType(t.type) && t.queueMaxUs > max) max = t.queueMaxUs;
  return max > 0 ? max : Infinity;
}

export class TaskType {
  readonly pool: boolean;
  readonly timer: boolean;
  /** process.nextTick's: its callbacks run after another callback in a turn, never first. */
  readonly tick: boolean;
  /** Trace mode: where resources of this type keep the function they will call. */
  readonly callbackField: string | undefined;
  created = 0;
  destroyed = 0;
  alive = 0;
  callbacks = 0;
  callbackMaxUs = 0;
  queueMaxUs = 0;
  readonly callbackHist = new Uint32Array(LOG_BUCKETS);
  readonly queueHist = new Uint32Array(LOG_BUCKETS);

  constructor(readonly index: number, readonly name: string, type: string) {
    this.pool = isPoolType(type);
    this.timer = type === 'Timeout';
    this.tick = type === 'TickObject';
    this.callbackField = callbackField(type);
  }

  /** Whether the resource just created (counted in `created`) is timed. */
  timesThis(): boolean {
    return this.created <= TIMED_FIRST || (this.created & (TIMED_EVERY - 1)) === 0;
  }

  callback(durationUs: number): void {
    this.callbacks++;
    this.callbackHist[bucketOf(durationUs)]!++;
    if (durationUs > this.callbackMaxUs) this.callbackMaxUs = durationUs;
  }

  untimedCallback(): void {
    this.callbacks++;
  }

  firstCallback(queuedUs: number): void {
    this.queueHist[bucketOf(queuedUs)]!++;
    if (queuedUs > this.queueMaxUs) this.queueMaxUs = queuedUs;
  }

  /** This interval's figures, or undefined when nothing happened to this type at all. */
  take(): TaskTypeStats | undefined {
    if (this.created === 0 && this.callbacks === 0 && this.destroyed === 0 && this.alive === 0) return undefined;
    const stats: TaskTypeStats = {
      type: this.name, created: this.created, destroyed: this.destroyed, alive: this.alive, callbacks: this.callbacks,
      callbackUs: toSparse(this.callbackHist), callbackMaxUs: Math.round(this.callbackMaxUs),
      queueUs: toSparse(this.queueHist), queueMaxUs: Math.round(this.queueMaxUs),
    };
    this.created = 0;
    this.destroyed = 0;
    this.callbacks = 0;
    this.callbackMaxUs = 0;
    this.queueMaxUs = 0;
    this.callbackHist.fill(0);
    this.queueHist.fill(0);
    return stats;
  }
}

/** The types seen so far, each with a small index that the resource table and trace batches use. */
export class TaskTypes {
  private readonly byName = new Map<string, number>();
  readonly all: TaskType[] = [];
  /** Clipped names by index, as trace batches refer to them. */
  readonly names: string[] = [];

  of(type: string): TaskType {
    const i = this.byName.get(type);
    if (i !== undefined) return this.all[i]!;
    const t = new TaskType(this.all.length, clipName(type), type);
    this.byName.set(type, t.index);
    this.all.push(t);
    this.names.push(t.name);
    return t;
  }

  /** The type of a resource just created, with it counted. */
  created(type: string): TaskType {
    const t = this.of(type);
    t.created++;
    t.alive++;
    return t;
  }

  take(): TaskTypeStats[] {
    const out: TaskTypeStats[] = [];
    for (const t of this.all) {
      const stats = t.take();
      if (stats) out.push(stats);
    }
    return out;
  }
}
