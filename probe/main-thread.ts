// The probe on the target's main thread: it starts the probe's worker (which owns the
// socket and the watchdog) and wires the heartbeat, the metrics sampler, tasks and trace
// modes and the GC source to the ring they write into. No socket I/O happens here.

import { threadId, Worker } from 'node:worker_threads';
import { closeSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createSampler } from './sampler';
import { gcPlan, SwitchedGc, traceClockOffsetUs } from './gc-sources';
import { createSharedState, SharedViews } from './shared-state';
import type { MainToWorker, WorkerToMain } from './threads';
import type { WorkerData } from './worker';
import { installStackReader } from './stack-here';
import { installProfileControl, samplerUnavailableReason } from './profile-control';
import { OwnPauses } from './own-pauses';
import { FrameWriter } from './frame-writer';
import { Heartbeat } from './heartbeat';
import { TaskModes } from './task-modes';
import { makeHello } from './hello';
import { guard } from './guard';
import { takeWorkerBirths } from './worker-births';
import { answerAsMainThread } from './main-thread-witness';
import { MessageType, type Hello, type ProbeConfig } from './wire';
import { encodeMetrics } from './wire-binary';
import { encodeProbePause } from './wire-json';

export interface ProbeOptions {
  readonly socketPath: string;
  readonly token: string;
  readonly config: ProbeConfig;
  readonly loadedBy: Hello['loadedBy'];
  /** The file to start the worker from: the probe bundle itself. */
  readonly probeFile: string;
  readonly probeVersion: string;
  readonly ringBytes?: number;
  /** On a worker thread: its `name` option or script. */
  readonly threadName?: string;
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
/**
 * The main thread answers the worker loops' probe threads this long after its probe stops:
 * theirs stop with it (loopscope detaches them together), and each waits for an answer before
 * it ends (main-thread-witness.ts).
 */
const WITNESS_LINGER_MS = 2000;
/**
 * At exit, how long the target may wait for the worker's last GC pauses and CPU samples. Only
 * as long as they take: on a loaded machine a worker thread's last collection can take over
 * 150 ms, and with 150 its last pause was lost (bench/worker-gc-exit.mjs).
 */
const FINAL_WAIT_MS = 400;

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

/** Whether Node's source maps are on (Nodes before 18.19 and 20.7 do not say: from the flag). */
function sourceMapsOn(): boolean {
  const flags = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  return (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled ?? flags.includes('--enable-source-maps');
}

export function startProbe(options: ProbeOptions, onStopped: (reason: string) => void): RunningProbe {
  const startedMs = performance.now();
  let config = options.config;
  const state = createSharedState(options.ringBytes ?? DEFAULT_RING_BYTES);
  const views = new SharedViews(state);
  const out = new FrameWriter(views);
  const pauses = new OwnPauses(views);
  // GC pauses are observed here until the worker has its tracing on (see gc-sources.ts).
  const gc = new SwitchedGc(pauses);
  const sampler = createSampler(gc);
  const modes = new TaskModes(out, options.probeFile);
  let stopped = false;
  /** The worker's CPU sampler is on: at exit, its last harvest is waited for. */
  let sampling = false;

  // The probe's own time, for the cost shown beside its numbers: our beats on this thread,
  // and the worker's busy time, which it leaves in shared memory.
  let lastWorkerActiveMs = 0;
  const takeSample = (): void => {
    const workerActiveMs = views.workerActiveMs;
    const sample = sampler.sample({ mainUs: heartbeat.takeOwnUs(), workerUs: Math.round(Math.max(0, workerActiveMs - lastWorkerActiveMs) * 1000) });
    lastWorkerActiveMs = workerActiveMs;
    const ids = out.idsFor(sample.resources.map((r) => r.type));
    if (ids) out.write(MessageType.Metrics, encodeMetrics(sample, ids));
    else out.drop(MessageType.Metrics);
    for (const pause of pauses.take()) out.write(MessageType.ProbePause, encodeProbePause(pause));
    modes.sample();
  };
  const heartbeat = new Heartbeat(views, sampler, () => config, takeSample, guard, pauses);

  const schedule = (): void => {
    heartbeat.sampleWithin(config.intervalMs);
    if (heartbeat.needsRestart(config)) {
      // Our own timer must not count as the target's: make it while no hook is on.
      modes.stop();
      heartbeat.restart(config);
    }
    modes.apply(config);
  };

  const clockOffsetUs = traceClockOffsetUs();
  const samplerUnavailable = samplerUnavailableReason(process.execArgv, process.env['NODE_OPTIONS']);
  const workerData: WorkerData = {
    loopscopeProbeWorker: true,
    state,
    socketPath: options.socketPath,
    mainTimeOrigin: performance.timeOrigin,
    maxSocketBufferBytes: MAX_SOCKET_BUFFER_BYTES,
    hello: makeHello(options),
    gc: gcPlan(clockOffsetUs),
    loopThreadId: threadId,
    probeFile: options.probeFile,
    clockOffsetUs,
    samplerUnavailable,
    sourceMaps: sourceMapsOn(),
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
  // And starts and ends the CPU sampler's profiles by calling this (cpu-sampler.ts).
  const removeProfileControl = samplerUnavailable === undefined ? installProfileControl(pauses) : () => undefined;
  // Opened once nothing else can fail to start, so that a failed start leaves no file open.
  const marker = openMarker(options.probeFile);
  const toWorker = (m: MainToWorker): void => {
    try {
      worker.postMessage(m);
    } catch {
      // the worker is already gone
    }
  };

  // Each worker the target starts from this thread, once it is up (worker-follow.ts): the main
  // thread's workers, and a worker's own (those it started before the probe came: worker-births.ts).
  let stopTakingBirths = (): void => undefined;
  let stopAnswering = (): void => undefined;
  const onWorkerCreated = guard((w: Worker): void => {
    // Node tells of our own worker too (the event comes a tick after its start).
    if (w === worker) return;
    toWorker({ type: 'worker-created', threadId: w.threadId });
    w.once('online', guard(() => toWorker({ type: 'worker-online', threadId: w.threadId })));
  });

  const stop = (reason: string): void => {
    if (stopped) return;
    stopped = true;
    process.removeListener('worker', onWorkerCreated);
    stopTakingBirths();
    heartbeat.stop();
    sampler.stop();
    modes.stop();
    removeStackReader();
    removeProfileControl();
    setTimeout(stopAnswering, WITNESS_LINGER_MS).unref();
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

  const onExit = guard((code: number): void => {
    // A last beat: a block the watchdog is following ended here at the latest.
    heartbeat.beat();
    toWorker({ type: 'exiting' });
    // The worker collects GC pauses and CPU samples about once a second: the last ones, before
    // the last sample (not waited for when there is neither: a program that exits at once).
    if (gc.tracing || sampling) views.waitFinal(FINAL_WAIT_MS);
    takeSample();
    const target = views.writePosition;
    toWorker({ type: 'goodbye', goodbye: { reason: 'target exiting', exitCode: code } });
    // The worker runs on while this thread waits: a bounded wait for the last frames.
    views.waitFlushed(target, EXIT_FLUSH_MS);
  });

  worker.on('message', guard((m: WorkerToMain) => {
    if (m.type === 'stopped') stop(m.reason);
    else if (m.type === 'gc-traced') gc.toTraced(views);
    else if (m.type === 'gc-untraced') gc.toObserved();
    else if (m.type === 'sampling') sampling = m.on;
    else if (m.type === 'configure') {
      config = m.config;
      schedule();
    }
  }));
  worker.on('error', (err) => stop(`probe worker failed: ${err.message}`));
  worker.on('exit', () => stop('probe worker exited'));
  // After the listeners: adding a 'message' listener refs the worker again.
  worker.unref();
  process.on('exit', onExit);
  process.on('worker', onWorkerCreated);
  stopAnswering = threadId === 0 ? answerAsMainThread() : () => undefined;
  stopTakingBirths = takeWorkerBirths((id) => toWorker({ type: 'worker-created', threadId: id }), (id) => toWorker({ type: 'worker-online', threadId: id }));
  schedule();
  // The probe's own start is no stall of the target's: the watchdog counts from here.
  heartbeat.startClock();
  pauses.report('probe start', startedMs, performance.now());

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
