// The probe's part on the target's main thread: the heartbeat, the metrics sampler, and
// the encoder that writes frames into the shared ring. No socket I/O happens here.

import { Worker } from 'node:worker_threads';
import { closeSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createSampler, type Sampler } from './sampler';
import { HandedOverGc, ObservedGc, TracedGc, type GcSource } from './gc-sources';
import { createSharedState, SharedViews } from './shared-state';
import { beatIntervalMs, type MainToWorker, type WorkerToMain } from './threads';
import type { WorkerData } from './worker';
import { startTasks, type TasksCollector } from './tasks';
import { installStackReader } from './stack-here';
import { clipName, MAX_HELLO_BYTES, MessageType, PROTOCOL_VERSION, type Hello, type ProbeConfig, type MessageTypeId } from './wire';
import { encodeTasks } from './wire-json';
import { encodeDictionary, encodeMetrics, encodeTaskEvents } from './wire-binary';

export interface ProbeOptions {
  readonly socketPath: string;
  readonly token: string;
  readonly config: ProbeConfig;
  readonly loadedBy: Hello['loadedBy'];
  /** The file to start the worker from: the probe bundle itself. */
  readonly probeFile: string;
  readonly probeVersion: string;
  readonly ringBytes?: number;
}

export interface RunningProbe {
  readonly config: ProbeConfig;
  stop(reason: string): void;
  readonly stopped: boolean;
}

const DEFAULT_RING_BYTES = 4 * 1024 * 1024;
const MAX_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** At exit, how long the target may wait for its last frames to reach loopscope. */
const EXIT_FLUSH_MS = 200;
/** At exit, how long the target may wait for the worker's last GC pauses. */
const GC_FINAL_WAIT_MS = 150;

function stackUnavailableReason(): string | undefined {
  try {
    require('node:inspector');
    return undefined;
  } catch {
    return 'this Node was built without the inspector';
  }
}

/**
 * Whether GC pauses can come from trace events here: the worker reads them through the
 * inspector, and a target that records trace events itself would find ours in its trace file.
 */
function canTraceGc(): boolean {
  if (stackUnavailableReason()) return false;
  try {
    return !(require('node:trace_events') as typeof import('node:trace_events')).getEnabledCategories();
  } catch {
    return false;
  }
}

/**
 * Trace timestamps (µs of the monotonic clock process.hrtime reads) minus performance.now() in
 * µs: the tightest of a few readings taken between two performance.now() calls.
 */
function traceClockOffsetUs(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const hrUs = Number(process.hrtime.bigint() / 1000n);
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = hrUs - ((before + after) / 2) * 1000;
    }
  }
  return offset;
}

/**
 * The probe holds its own file open while it runs: that is how tools outside the process
 * (`loopscope ps`, `loopscope attach`) tell that a probe is inside, from its open files.
 */
function openMarker(file: string): number | undefined {
  try {
    return openSync(file, 'r');
  } catch {
    return undefined;
  }
}

export function startProbe(options: ProbeOptions, onStopped: (reason: string) => void): RunningProbe {
  let config = options.config;
  const state = createSharedState(options.ringBytes ?? DEFAULT_RING_BYTES);
  const views = new SharedViews(state);
  // GC pauses are observed here until the worker has its tracing on (see gc-sources.ts).
  const observedGc = new ObservedGc();
  let gcSource: GcSource = observedGc;
  const sampler: Sampler = createSampler(gcSource);
  const dictionary = new Map<string, number>();
  let stopped = false;

  const write = (type: MessageTypeId, frame: Uint8Array): boolean => {
    if (views.write(frame)) return true;
    views.countDrop(type, frame.byteLength);
    return false;
  };

  const idsFor = (types: readonly string[]): number[] | undefined => {
    const fresh = types.filter((t) => !dictionary.has(t));
    if (fresh.length > 0) {
      const entries = fresh.map((t, i) => [dictionary.size + i + 1, t] as const);
      // Frames refer to dictionary ids, so an id is only taken once its entry is on its way.
      if (!write(MessageType.Dictionary, encodeDictionary(entries))) return undefined;
      for (const [id, t] of entries) dictionary.set(t, id);
    }
    return types.map((t) => dictionary.get(t)!);
  };

  // The probe's own time, for the cost shown beside its numbers: our beats on this thread,
  // and the worker's busy time, which it leaves in shared memory.
  let ownMs = 0;
  let lastWorkerActiveMs = 0;
  const takeSample = (): void => {
    const workerActiveMs = views.workerActiveMs;
    const sample = sampler.sample({ mainUs: Math.round(ownMs * 1000), workerUs: Math.round(Math.max(0, workerActiveMs - lastWorkerActiveMs) * 1000) });
    ownMs = 0;
    lastWorkerActiveMs = workerActiveMs;
    const ids = idsFor(sample.resources.map((r) => r.type));
    if (ids) write(MessageType.Metrics, encodeMetrics(sample, ids));
    else views.countDrop(MessageType.Metrics, 0);
    if (tasks) {
      tasks.flush();
      write(MessageType.Tasks, encodeTasks(tasks.sample()));
    }
  };

  // tasks and trace modes: one async hook, on only while one of those modes is.
  let tasks: TasksCollector | undefined;
  let tasksKey = '';
  const typeIdScratch = new Uint16Array(1 << 16);
  const applyMode = (): void => {
    const key = config.mode === 'metrics' ? '' : `${config.mode}/${config.promises}`;
    if (key === tasksKey) return;
    tasks?.stop();
    tasks = undefined;
    tasksKey = key;
    if (key === '') return;
    tasks = startTasks({
      promises: config.promises,
      trace: config.mode === 'trace',
      probeFile: options.probeFile,
      onBatch: (cols, count, typeNames) => {
        const ids = idsFor(typeNames);
        if (!ids) return views.countDrop(MessageType.TaskEvents, 0);
        for (let i = 0; i < count; i++) typeIdScratch[i] = cols.kinds[i] === 0 ? ids[cols.typeIds[i]!]! : 0;
        write(MessageType.TaskEvents, encodeTaskEvents(count, cols.kinds, cols.asyncIds, cols.triggerIds, cols.timesUs, typeIdScratch));
      },
    });
  };

  // The heartbeat, the probe's one timer on this thread (each timer wakes an idle loop). A
  // beat tells the watchdog the loop is alive, measures a stall since the last beat from the
  // thread's busy time (which no timer's lateness can do), records the lag, and samples when
  // a sample is due, after the beat, so that a sample never delays the beat after a block.
  //
  // Busy time: all but the loop's idle time, on the clock of performance.now(). Not ELU's
  // `active`, which counts from the loop's start: a main module that blocks before the loop
  // has started (a slow startup, under `run`) is busy too.
  const busyMs = (now: number): number => now - performance.eventLoopUtilization().idle;
  let lastBeat = performance.now();
  // The first beat is the probe's start: the watchdog counts from it, not from the process's.
  views.beat(lastBeat);
  // The busy time as of the end of our last beat: our own work is not a stall.
  let lastBusy = busyMs(lastBeat);
  let nextSampleMs = lastBeat + config.intervalMs;
  const beat = (): void => {
    const now = performance.now();
    const busy = busyMs(now);
    const period = beatIntervalMs(config);
    const gap = now - lastBeat;
    const stall = gap > 1.5 * period ? Math.min(gap, busy - lastBusy) : 0;
    if (stall > 0) views.recordStall(stall, now);
    views.beat(now);
    sampler.beat(gap - period, stall, period);
    lastBeat = now;
    lastBusy = busy;
    if (now >= nextSampleMs) {
      takeSample();
      // Half a period early: the beat that takes the next one lands within half a period of it.
      nextSampleMs = now + config.intervalMs - period / 2;
      lastBusy = busyMs(performance.now());
    }
    ownMs += performance.now() - now;
  };

  let beatTimer: NodeJS.Timeout | undefined;
  let beatPeriod = 0;
  const schedule = (): void => {
    nextSampleMs = Math.min(nextSampleMs, performance.now() + config.intervalMs);
    if (beatPeriod !== beatIntervalMs(config)) {
      // Our own timer must not count as the target's: make it while no hook is on.
      tasks?.stop();
      tasks = undefined;
      tasksKey = '';
      clearInterval(beatTimer);
      beatPeriod = beatIntervalMs(config);
      beatTimer = setInterval(guard(beat), beatPeriod).unref();
    }
    applyMode();
  };

  const workerData: WorkerData = {
    loopscopeProbeWorker: true,
    state,
    socketPath: options.socketPath,
    mainTimeOrigin: performance.timeOrigin,
    maxSocketBufferBytes: MAX_SOCKET_BUFFER_BYTES,
    hello: makeHello(options),
    gcTrace: canTraceGc() ? { mainTid: process.pid, offsetUs: traceClockOffsetUs() } : undefined,
  };
  const worker = new Worker(options.probeFile, {
    workerData,
    // The target's flags and preloads are not for our worker; its output never reaches the target's.
    execArgv: [],
    env: {},
    stdout: true,
    stderr: true,
  });
  // The worker takes this thread's stack during a block by calling this (stack-capture.ts).
  // It cannot need it sooner: the worker takes milliseconds to start, this thread microseconds.
  const removeStackReader = installStackReader();
  // Opened once nothing else can fail to start, so that a failed start leaves no file open.
  const marker = openMarker(options.probeFile);
  const toWorker = (m: MainToWorker): void => {
    try {
      worker.postMessage(m);
    } catch {
      // the worker is already gone
    }
  };

  const stop = (reason: string): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(beatTimer);
    sampler.stop();
    tasks?.stop();
    tasks = undefined;
    removeStackReader();
    process.removeListener('exit', onExit);
    worker.removeAllListeners();
    worker.on('error', () => undefined);
    void worker.terminate();
    if (marker !== undefined) {
      try {
        closeSync(marker);
      } catch {
        // already closed
      }
    }
    onStopped(reason);
  };

  let gcTraced = false;
  const onExit = guard((code: number): void => {
    // A last beat: a block the watchdog is following ended here at the latest.
    beat();
    toWorker({ type: 'exiting' });
    // The worker collects GC pauses about once a second: the last ones, before the last sample.
    if (gcTraced) views.waitGcFinal(GC_FINAL_WAIT_MS);
    takeSample();
    const target = views.writePosition;
    toWorker({ type: 'goodbye', goodbye: { reason: 'target exiting', exitCode: code } });
    // The worker runs on while this thread waits: a bounded wait for the last frames.
    views.waitFlushed(target, EXIT_FLUSH_MS);
  });

  worker.on('message', guard((m: WorkerToMain) => {
    if (m.type === 'stopped') stop(m.reason);
    else if (m.type === 'gc-traced') {
      gcTraced = true;
      gcSource = new HandedOverGc(observedGc, new TracedGc(views), Math.round(performance.now() * 1000));
      sampler.replaceGc(gcSource);
    } else if (m.type === 'gc-untraced' && gcTraced) {
      gcTraced = false;
      gcSource.stop();
      gcSource = new ObservedGc();
      sampler.replaceGc(gcSource);
    } else if (m.type === 'configure') {
      config = m.config;
      schedule();
    }
  }));
  worker.on('error', (err) => stop(`probe worker failed: ${err.message}`));
  worker.on('exit', () => stop('probe worker exited'));
  // After the listeners: adding a 'message' listener refs the worker again.
  worker.unref();
  process.on('exit', onExit);
  schedule();

  return {
    get config() {
      return config;
    },
    get stopped() {
      return stopped;
    },
    stop(reason) {
      toWorker({ type: 'stop', reason });
      stop(reason);
    },
  };
}

function makeHello(options: ProbeOptions): Hello {
  const stackUnavailable = stackUnavailableReason();
  return {
    protocol: PROTOCOL_VERSION,
    token: options.token,
    probeVersion: options.probeVersion,
    pid: process.pid,
    ppid: process.ppid,
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    argv: fitArgs(process.argv, ARGV_BUDGET),
    execArgv: fitArgs(process.execArgv, ARGV_BUDGET / 4),
    title: clipName(process.title),
    cwd: clipName(safeCwd()),
    threadId: 0,
    timeOriginMs: performance.timeOrigin,
    config: options.config,
    loadedBy: options.loadedBy,
    ...(stackUnavailable ? { stackUnavailable } : {}),
  };
}

/**
 * Characters of argv in the hello: with JSON's escapes (6 bytes for a control character, 3
 * for others outside ASCII) a hello stays under MAX_HELLO_BYTES, which loopscope enforces.
 */
const ARGV_BUDGET = MAX_HELLO_BYTES / 8;

/** Arguments as they are, or as many as fit in `budget` characters, each clipped, and how many were left out. */
function fitArgs(args: readonly string[], budget: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const arg of args) {
    const clipped = clipName(arg);
    used += clipped.length;
    if (used > budget) {
      out.push(`… (${args.length - out.length} more arguments)`);
      break;
    }
    out.push(clipped);
  }
  return out;
}

function safeCwd(): string {
  try {
    return process.cwd();
  } catch {
    return '';
  }
}

/** Wraps a callback that runs in the target so that nothing it throws reaches the target. */
function guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch {
      // Swallowed on purpose: the probe must never throw into the process it observes.
    }
  };
}
