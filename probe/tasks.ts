// The `tasks` and `trace` modes: one async hook that aggregates lifecycles per resource type
// inside the target (tasks), and in trace mode also records every event into column
// buffers that go out in binary batches. Everything in the hook callbacks is an array index
// or an increment; anything costlier (stacks, percentiles, JSON) waits for the interval.

import { createHook, executionAsyncResource, type AsyncHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { callbackField, CallbackNames } from './callback-names';
import { bucketOf, LOG_BUCKETS, toSparse } from './log-histogram';
import { ResourceTable, type ResourceInfo } from './resource-table';
import { parseStackText } from './stack-text';
import { clipName, TaskEventKind, MAX_EVENTS_PER_BATCH, type CreationSite, type SlowCallback, type TaskTypeStats, type TasksSample } from './wire';

/** Types whose one init and one callback bracket a request to libuv's thread pool. */
const POOL_TYPES = /^(FSREQCALLBACK|FSREQPROMISE|GETADDRINFOREQWRAP|GETNAMEINFOREQWRAP|[A-Z0-9]+REQUEST)$/;
const SLOW_KEPT = 10;
/** Creation stacks: the first few of each type per interval, then one in SAMPLE_EVERY. */
const SAMPLE_FIRST = 4;
const SAMPLE_EVERY = 512;
const MAX_SAMPLED_ALIVE = 2048;
const STACK_LIMIT = 12;
const BATCH_EVENTS = 8192;
const FAN_OUT_DEPTH = 64;
const LIVE_SITES_FROM = 32;

interface TypeCounters {
  readonly index: number;
  readonly name: string;
  readonly pool: boolean;
  readonly timer: boolean;
  /** Trace mode: where resources of this type keep the function they will call. */
  readonly callbackField: string | undefined;
  created: number;
  destroyed: number;
  alive: number;
  callbacks: number;
  callbackMaxUs: number;
  queueMaxUs: number;
  sampledThisInterval: number;
  initsSinceSample: number;
  readonly callbackHist: Uint32Array;
  readonly queueHist: Uint32Array;
}

export interface TasksOptions {
  readonly promises: boolean;
  readonly trace: boolean;
  /** The probe's own file, whose frames are cut from creation stacks. */
  readonly probeFile: string;
  /** Trace mode: a full batch of events, to be encoded and sent. */
  readonly onBatch: (batch: EventColumns, count: number, typeNames: readonly string[], callbackNames: readonly string[]) => void;
}

export interface EventColumns {
  readonly kinds: Uint8Array;
  readonly asyncIds: Float64Array;
  readonly triggerIds: Float64Array;
  readonly timesUs: Float64Array;
  /** Index into the collector's own type list; the sender maps it to dictionary ids. */
  readonly typeIds: Uint16Array;
  /** Init events: index into the collector's callback names (0: none); the sender maps it too. */
  readonly nameIds: Uint16Array;
}

export interface TasksCollector {
  readonly promisesTracked: boolean;
  sample(): TasksSample;
  /** Trace mode: sends what is buffered now. */
  flush(): void;
  stop(): void;
}

/** Does this Node let a hook leave promises alone (`trackPromises: false`)? */
function canSkipPromises(): boolean {
  let sawPromise = false;
  const probe = createHook({ init: (_id: number, type: string) => { if (type === 'PROMISE') sawPromise = true; }, trackPromises: false } as Parameters<typeof createHook>[0]);
  probe.enable();
  void Promise.resolve().then(() => undefined);
  probe.disable();
  return !sawPromise;
}

function threadpoolSize(): number {
  const n = Number(process.env['UV_THREADPOOL_SIZE']);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1024) : 4;
}

const nowUs = (): number => performance.now() * 1000;

/**
 * Timers keep their due time on libuv's clock (`_idleStart`, ms since the loop began). Its
 * offset from performance.now() is fixed: read it once, from a timer made for the purpose
 * before our hook is on (so it is not counted). NaN where the timer internals differ.
 */
function timerClockOffset(): number {
  const timer = setTimeout(() => undefined, 0x7fffffff) as unknown as { _idleStart?: unknown };
  const now = performance.now();
  clearTimeout(timer as unknown as NodeJS.Timeout);
  return typeof timer._idleStart === 'number' ? now - timer._idleStart : NaN;
}

export function startTasks(options: TasksOptions): TasksCollector {
  const promisesWanted = options.promises;
  const table = new ResourceTable();
  const typeIndex = new Map<string, number>();
  const types: TypeCounters[] = [];
  const typeNames: string[] = [];
  const poolSize = threadpoolSize();
  let poolInFlight = 0;
  let poolMaxInFlight = 0;
  let poolCompleted = 0;
  const poolHist = new Uint32Array(LOG_BUCKETS);
  let timersFired = 0;
  let timerLateMaxUs = 0;
  const timerLateHist = new Uint32Array(LOG_BUCKETS);
  const timerClockOffsetMs = timerClockOffset();
  let slow: { type: string; asyncId: number; startUs: number; durationUs: number; stack: Error | undefined }[] = [];
  let slowFloorUs = 0;
  let sampledAlive = 0;
  const sampledStacks = new Map<number, { type: string; error: Error }>();
  // Fan-out: resources created by the callback that is running, one counter per nesting level.
  const fanCounts = new Uint32Array(FAN_OUT_DEPTH);
  const fanStarts = new Float64Array(FAN_OUT_DEPTH);
  const fanIds = new Float64Array(FAN_OUT_DEPTH);
  const fanTypes: (TypeCounters | undefined)[] = new Array(FAN_OUT_DEPTH);
  /** Whether the callback at this depth is traced (not a promise we were asked to leave out). */
  const fanTraced = new Uint8Array(FAN_OUT_DEPTH);
  let depth = 0;
  const fanHist = new Uint32Array(LOG_BUCKETS);
  let fanMax = 0;
  let fanMaxType = '';
  let lastIntervalUs = nowUs();

  // Trace columns.
  const cols: EventColumns = {
    kinds: new Uint8Array(BATCH_EVENTS),
    asyncIds: new Float64Array(BATCH_EVENTS),
    triggerIds: new Float64Array(BATCH_EVENTS),
    timesUs: new Float64Array(BATCH_EVENTS),
    typeIds: new Uint16Array(BATCH_EVENTS),
    nameIds: new Uint16Array(BATCH_EVENTS),
  };
  const callbackNames = new CallbackNames();
  let n = 0;
  let lastIdle = performance.eventLoopUtilization().idle;
  const trace = options.trace && BATCH_EVENTS <= MAX_EVENTS_PER_BATCH;
  const emit = (kind: number, asyncId: number, triggerId: number, typeId: number, t: number, nameId = 0): void => {
    cols.kinds[n] = kind;
    cols.nameIds[n] = nameId;
    cols.asyncIds[n] = asyncId;
    cols.triggerIds[n] = triggerId;
    cols.typeIds[n] = typeId;
    cols.timesUs[n] = t;
    if (++n === BATCH_EVENTS) flush();
  };
  const flush = (): void => {
    if (n === 0) return;
    const count = n;
    n = 0;
    options.onBatch(cols, count, typeNames, callbackNames.names);
  };

  const counters = (type: string): TypeCounters => {
    let i = typeIndex.get(type);
    if (i === undefined) {
      i = types.length;
      typeIndex.set(type, i);
      typeNames.push(clipName(type));
      types.push({
        index: i,
        name: clipName(type), pool: POOL_TYPES.test(type), timer: type === 'Timeout', callbackField: callbackField(type), created: 0, destroyed: 0, alive: 0, callbacks: 0,
        callbackMaxUs: 0, queueMaxUs: 0, sampledThisInterval: 0, initsSinceSample: 0,
        callbackHist: new Uint32Array(LOG_BUCKETS), queueHist: new Uint32Array(LOG_BUCKETS),
      });
    }
    return types[i]!;
  };

  const sampleStack = (c: TypeCounters): Error | undefined => {
    if (sampledAlive >= MAX_SAMPLED_ALIVE) return undefined;
    if (c.sampledThisInterval >= SAMPLE_FIRST && ++c.initsSinceSample < SAMPLE_EVERY) return undefined;
    c.initsSinceSample = 0;
    c.sampledThisInterval++;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_LIMIT;
    const error = new Error('created here');
    Error.stackTraceLimit = limit;
    return error;
  };

  const init = (asyncId: number, type: string, triggerAsyncId: number, resource: unknown): void => {
    try {
      if (!promisesWanted && type === 'PROMISE') return;
      const t = nowUs();
      const c = counters(type);
      c.created++;
      c.alive++;
      const stack = sampleStack(c);
      if (stack) {
        sampledAlive++;
        sampledStacks.set(asyncId, { type: c.name, error: stack });
      }
      table.add(asyncId, { typeIndex: c.index, initUs: t, ran: false, stack } satisfies ResourceInfo);
      if (c.pool && ++poolInFlight > poolMaxInFlight) poolMaxInFlight = poolInFlight;
      if (depth > 0 && depth <= FAN_OUT_DEPTH) fanCounts[depth - 1]!++;
      if (trace) emit(TaskEventKind.init, asyncId, triggerAsyncId, c.index, t, c.callbackField ? callbackNames.numberOf(resource, c.callbackField) : 0);
    } catch {
      // Never throw into the target.
    }
  };

  const before = (asyncId: number): void => {
    try {
      const t = nowUs();
      const info = table.get(asyncId);
      // Where Node tracks promises anyway, their callbacks still come: leave them out unless asked.
      const traced = info !== undefined || promisesWanted || !(executionAsyncResource() instanceof Promise);
      if (trace && traced) {
        if (depth === 0) {
          // A new loop turn: the loop has been idle (in poll) since the last top-level callback.
          const idle = performance.eventLoopUtilization().idle;
          if (idle !== lastIdle) {
            lastIdle = idle;
            emit(TaskEventKind.turn, 0, 0, 0, t);
          }
        }
        emit(TaskEventKind.before, asyncId, 0, 0, t);
      }
      if (depth < FAN_OUT_DEPTH) {
        fanCounts[depth] = 0;
        fanStarts[depth] = t;
        fanIds[depth] = asyncId;
        fanTypes[depth] = info ? types[info.typeIndex] : undefined;
        fanTraced[depth] = traced ? 1 : 0;
      }
      depth++;
      if (!info) return;
      const c = types[info.typeIndex]!;
      if (!info.ran) {
        info.ran = true;
        const queued = t - info.initUs;
        c.queueHist[bucketOf(queued)]!++;
        if (queued > c.queueMaxUs) c.queueMaxUs = queued;
        if (c.pool) {
          poolHist[bucketOf(queued)]!++;
          poolCompleted++;
          if (poolInFlight > 0) poolInFlight--;
        }
      }
      if (c.timer) {
        const timer = executionAsyncResource() as { _idleStart?: unknown; _idleTimeout?: unknown };
        if (typeof timer._idleStart === 'number' && typeof timer._idleTimeout === 'number' && !Number.isNaN(timerClockOffsetMs)) {
          const late = Math.max(0, (performance.now() - timerClockOffsetMs - timer._idleStart - timer._idleTimeout) * 1000);
          timersFired++;
          timerLateHist[bucketOf(late)]!++;
          if (late > timerLateMaxUs) timerLateMaxUs = late;
        }
      }
    } catch {
      // Never throw into the target.
    }
  };

  const after = (asyncId: number): void => {
    try {
      const t = nowUs();
      if (depth === 0) return;
      depth--;
      if (depth >= FAN_OUT_DEPTH || fanIds[depth] !== asyncId) return;
      if (trace && fanTraced[depth] === 1) emit(TaskEventKind.after, asyncId, 0, 0, t);
      if (!fanTraced[depth]) return;
      const c = fanTypes[depth];
      const children = fanCounts[depth]!;
      fanHist[bucketOf(children)]!++;
      if (children > fanMax) {
        fanMax = children;
        fanMaxType = c?.name ?? '';
      }
      if (!c) return;
      const duration = t - fanStarts[depth]!;
      c.callbacks++;
      c.callbackHist[bucketOf(duration)]!++;
      if (duration > c.callbackMaxUs) c.callbackMaxUs = duration;
      if (duration > slowFloorUs || slow.length < SLOW_KEPT) keepSlow(c.name, asyncId, fanStarts[depth]!, duration);
    } catch {
      // Never throw into the target.
    }
  };

  const keepSlow = (type: string, asyncId: number, startUs: number, durationUs: number): void => {
    slow.push({ type, asyncId, startUs, durationUs, stack: table.get(asyncId)?.stack });
    if (slow.length > SLOW_KEPT) {
      slow.sort((a, b) => b.durationUs - a.durationUs);
      slow.length = SLOW_KEPT;
      slowFloorUs = slow[SLOW_KEPT - 1]!.durationUs;
    }
  };

  const destroy = (asyncId: number): void => {
    try {
      const info = table.remove(asyncId);
      if (trace && (info || promisesWanted)) emit(TaskEventKind.destroy, asyncId, 0, 0, nowUs());
      if (!info) return;
      const c = types[info.typeIndex]!;
      c.destroyed++;
      c.alive--;
      if (c.pool && !info.ran && poolInFlight > 0) poolInFlight--;
      if (info.stack) {
        sampledAlive--;
        sampledStacks.delete(asyncId);
      }
    } catch {
      // Never throw into the target.
    }
  };

  const promiseResolve = (asyncId: number): void => {
    try {
      if (trace) emit(TaskEventKind.promiseResolve, asyncId, 0, 0, nowUs());
    } catch {
      // Never throw into the target.
    }
  };

  const skipPromises = !options.promises && canSkipPromises();
  const hook: AsyncHook = createHook({
    init,
    before,
    after,
    destroy,
    ...(options.promises && trace ? { promiseResolve } : {}),
    ...(skipPromises ? { trackPromises: false } : {}),
  } as Parameters<typeof createHook>[0]);
  hook.enable();

  const formatStack = (error: Error | undefined): ReturnType<typeof parseStackText> => {
    if (!error) return [];
    try {
      // Node's formatter, so --enable-source-maps applies; our own frames are cut.
      return parseStackText(String(error.stack), options.probeFile).filter((f) => !f.url.startsWith('node:internal/async_hooks'));
    } catch {
      return [];
    }
  };

  return {
    promisesTracked: options.promises,
    flush,
    sample(): TasksSample {
      const t = nowUs();
      const out: TaskTypeStats[] = [];
      for (const c of types) {
        if (c.created === 0 && c.callbacks === 0 && c.destroyed === 0 && c.alive === 0) continue;
        out.push({
          type: c.name, created: c.created, destroyed: c.destroyed, alive: c.alive, callbacks: c.callbacks,
          callbackUs: toSparse(c.callbackHist), callbackMaxUs: Math.round(c.callbackMaxUs),
          queueUs: toSparse(c.queueHist), queueMaxUs: Math.round(c.queueMaxUs),
        });
        c.created = 0;
        c.destroyed = 0;
        c.callbacks = 0;
        c.callbackMaxUs = 0;
        c.queueMaxUs = 0;
        c.sampledThisInterval = 0;
        c.callbackHist.fill(0);
        c.queueHist.fill(0);
      }
      const slowCallbacks: SlowCallback[] = slow
        .sort((a, b) => b.durationUs - a.durationUs)
        .map((s) => ({ type: s.type, asyncId: s.asyncId, startUs: Math.round(s.startUs), durationUs: Math.round(s.durationUs), initStack: formatStack(s.stack) }));
      const sites = new Map<string, { type: string; count: number; error: Error }>();
      // Formatting stacks costs; only worth it once enough sampled resources stay alive.
      if (sampledAlive >= LIVE_SITES_FROM) for (const { type, error } of sampledStacks.values()) {
        // Group by the raw stack text: cheap, and the same creation site gives the same text.
        const key = `${type}\n${String(error.stack)}`;
        const site = sites.get(key);
        if (site) site.count++;
        else sites.set(key, { type, count: 1, error });
      }
      const liveSites: CreationSite[] = [...sites.values()]
        .filter((s) => s.count > 1)
        .sort((a, b) => b.count - a.count)
        .slice(0, 10)
        .map((s) => ({ type: s.type, sampledAlive: s.count, stack: formatStack(s.error) }));
      const sample: TasksSample = {
        timeUs: Math.round(t),
        intervalUs: Math.round(t - lastIntervalUs),
        promisesTracked: options.promises,
        types: out,
        threadpool: { size: poolSize, maxInFlight: poolMaxInFlight, maxQueued: Math.max(0, poolMaxInFlight - poolSize), completed: poolCompleted, queueUs: toSparse(poolHist) },
        timers: { fired: timersFired, lateUs: toSparse(timerLateHist), lateMaxUs: Math.round(timerLateMaxUs) },
        fanOut: { perCallback: toSparse(fanHist), max: fanMax, maxType: fanMaxType },
        slowCallbacks,
        liveSites,
        untracked: table.untracked,
      };
      lastIntervalUs = t;
      poolMaxInFlight = poolInFlight;
      poolCompleted = 0;
      poolHist.fill(0);
      timersFired = 0;
      timerLateMaxUs = 0;
      timerLateHist.fill(0);
      fanHist.fill(0);
      fanMax = 0;
      fanMaxType = '';
      slow = [];
      slowFloorUs = 0;
      return sample;
    },
    stop() {
      hook.disable();
      flush();
      table.clear();
      sampledStacks.clear();
    },
  };
}
