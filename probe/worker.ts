// The probe's worker thread: owns the socket to loopscope, drains the shared ring into it,
// runs the blocked-loop watchdog, and passes control messages to the main thread.

import { connect, type Socket } from 'node:net';
import { parentPort, threadId } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { SharedViews, type SharedState } from './shared-state';
import { Watchdog } from './watchdog';
import { captureMainThreadStack, outsideProbe, mapOnMainThread, type CaptureResult } from './stack-capture';
import { GcEventParser, GcTracer } from './gc-trace';
import { GcRelay, GcRelayListener } from './gc-relay';
import type { GcPlan } from './gc-sources';
import { WorkerSampler } from './worker-sampler';
import { GC_PAUSES_DROPPED, GC_PAUSES_UNRECORDED, MessageType, messageTypeName, type BlockedReport, type GcSourceState, type Hello, type ProbeConfig, type WorkerUnfollowed } from './wire';
import { FrameReader } from './wire-framing';
import { encodeBlocked, encodeDrops, encodeGcSource, encodeGoodbye, encodeHello, encodeNotice } from './wire-json';
import { decodeControl } from './wire-decoder';
import type { MainToWorker, WorkerToMain } from './threads';
import { NodeWorkers, workerChannel, type WorkerTarget } from './node-workers';
import { WorkerFollower } from './worker-follow';
import { NoticeBudget } from './notice-budget';
import type { InspectorLike } from './stack-capture';
import { afterMainThread } from './main-thread-witness';

export interface WorkerData {
  readonly loopscopeProbeWorker: true;
  readonly state: SharedState;
  readonly socketPath: string;
  readonly hello: Hello;
  /** performance.timeOrigin of the main thread, to put the watchdog on its clock. */
  readonly mainTimeOrigin: number;
  readonly maxSocketBufferBytes: number;
  /** Where the loop's GC pauses come from (gc-sources.ts). */
  readonly gc: GcPlan;
  /** The thread whose loop this worker watches: 0 for the main thread, else a worker thread's id. */
  readonly loopThreadId: number;
  /** The probe's own file: its frames in the CPU samples are the probe's work, not the target's. */
  readonly probeFile: string;
  /** process.hrtime (µs, the CPU profile's clock) minus the main thread's performance.now() in µs. */
  readonly clockOffsetUs: number;
  /** Why the CPU sampler cannot run in this process, if it cannot. */
  readonly samplerUnavailable: string | undefined;
  /** Node's source maps are on: the samples' frames are mapped through them on the main thread. */
  readonly sourceMaps: boolean;
}

/**
 * How often GC pauses are collected from trace events, ms: each collection restarts tracing,
 * which costs the target; a second keeps that under 0.1% while pauses arrive a second late.
 */
const GC_FLUSH_MS = 1000;
/** Frames held until the connection is made and the hello sent; more are dropped and counted. */
const MAX_EARLY_FRAMES = 64;
/** At exit, how long the worker waits for the last GC pauses and CPU samples (the main thread waits too). */
const GC_FINAL_MS = 300;

/**
 * At a detach, how long the worker waits for the last CPU samples, then for their stacks' mapping
 * (a harvest needs the main thread, which may be inside a block): within loopscope's wait for
 * the goodbye (2 s, ProbeConnection.detach).
 */
const DETACH_SAMPLES_MS = 1000;
const DETACH_MAPPING_MS = 300;

/** How often the worker wakes while an ended block waits for its stack. */
function pollIntervalMs(config: ProbeConfig): number {
  return Math.max(2, Math.min(10, config.blockThresholdMs / 5));
}

/**
 * Trace mode's drain: a promise-heavy server saturating a core fills the ring at ~45 MB/s
 * (1.6 M events/s of 27 bytes), so a quarter of its 4 MiB in 25 ms. Each wake-up costs the
 * target's CPU (~4% of such a server's requests/s at 100 a second), so the worker wakes no
 * more often than the ring needs.
 */
const TRACE_DRAIN_MS = 25;

/**
 * How long a worker loop's probe thread waits for the main thread's witness that its session's
 * end was handled (main-thread-witness.ts): at the loop's exit, within the loop's own bounded
 * wait for the goodbye (EXIT_FLUSH_MS, 200 ms, in main-thread.ts); at a stop, longer.
 */
const EXIT_WITNESS_MS = 150;
const STOP_WITNESS_MS = 1000;

/**
 * The longest the worker sleeps, ms: the ring fills with events quickly in trace mode, while
 * in metrics and tasks modes it gets a sample or two per interval.
 */
function drainIntervalMs(config: ProbeConfig): number {
  return config.mode === 'trace' ? TRACE_DRAIN_MS : config.intervalMs;
}

export function runWorker(data: WorkerData): void {
  const port = parentPort;
  if (!port) return;
  const views = new SharedViews(data.state);
  let config = data.hello.config;
  let socket: Socket | undefined;
  let stopped = false;
  let exiting = false;
  let lastDrops = '{}';
  let lastDropsChecked = 0;
  /** Frames this thread had no room for (the main thread counts its own in shared memory). */
  const ownDrops = new Map<number, number>();
  const countOwnDrop = (type: number): void => void ownDrops.set(type, (ownDrops.get(type) ?? 0) + 1);
  const post = (m: WorkerToMain): void => port.postMessage(m);
  const mainNowMs = (): number => performance.timeOrigin + performance.now() - data.mainTimeOrigin;

  let session: Session | undefined;
  try {
    session = new Session();
    session.connectToMainThread();
  } catch {
    session = undefined;
  }
  // The thread whose stack a block is taken from: the main thread through the session itself;
  // a worker thread through a NodeWorker session into it (its own loop is not the main thread's).
  let loopInspector: InspectorLike | undefined = data.loopThreadId === 0 ? session : undefined;
  let loopChannel: ReturnType<typeof workerChannel> | undefined;
  /** The worker thread's channel is there: its CPU sampler starts (set once the sampler is made). */
  let reachedLoop = (): void => undefined;
  let workers: NodeWorkers | undefined;
  let follower: WorkerFollower | undefined;
  const notices = new NoticeBudget();
  const unfollowed = (w: Pick<WorkerUnfollowed, 'threadId' | 'name' | 'cause' | 'reason'>): void => {
    if (stopped) return;
    if (!notices.take(performance.now())) return countOwnDrop(MessageType.Notice);
    send(encodeNotice({ kind: 'worker-unfollowed', timeUs: Math.round(mainNowMs() * 1000), ...w }));
  };
  const onWorker = (w: WorkerTarget): void => {
    if (w.threadId === data.loopThreadId && !loopInspector) {
      loopChannel = workerChannel(workers!, w.sessionId);
      loopInspector = loopChannel;
      reachedLoop();
    } else follower?.listedWorker(w);
  };
  if (session) {
    try {
      workers = new NodeWorkers(session, onWorker);
      follower = new WorkerFollower(workers, {
        probeFile: data.probeFile,
        socketPath: data.socketPath,
        token: data.hello.token,
        config: () => config,
        ownThreadId: threadId,
        // At an attach, the main loop's follower takes the workers already running, a worker's
        // own too: NodeWorker lists every worker of the process to it.
        workersBefore: data.loopThreadId === 0 && data.hello.loadedBy === 'inject',
        followUnannounced: data.loopThreadId === 0,
        unfollowed,
      });
      workers.enable(() => follower?.markEnabled());
    } catch {
      workers = undefined;
    }
  }

  // Frames sent before the connection is up (the GC source, said at the start; a blocked
  // report, drop counts: a timer due in the same turn of this thread's loop runs before
  // 'connect') wait for the hello, which must be first: loopscope refuses a probe whose first
  // frame is anything else. A Unix socket (or a named pipe) connects or fails at once, so few
  // wait; past MAX_EARLY_FRAMES they are dropped.
  const beforeHello: [Uint8Array, (() => void) | undefined][] = [];
  const send = (bytes: Uint8Array, onFlushed?: () => void): void => {
    if (stopped || socket?.destroyed) return;
    if (socket && !socket.connecting) socket.write(bytes, onFlushed ? () => onFlushed() : undefined);
    else if (beforeHello.length < MAX_EARLY_FRAMES) beforeHello.push([bytes, onFlushed]);
    else countOwnDrop(bytes[5]!);
  };

  // The loop's GC pauses: traced here on the main loop, which passes the worker threads' on to
  // their loops (gc-relay.ts); observed on the loop's thread until then, or if neither can be.
  let gcTracer: GcTracer | undefined;
  let gcTimer: NodeJS.Timeout | undefined;
  let gcRelay: GcRelay | undefined;
  let gcListener: GcRelayListener | undefined;
  /** This loop's GC pauses that V8's trace has only half of: told as drops of their own. */
  let gcUnrecorded = 0;
  const gcSource = (source: GcSourceState): void => send(encodeGcSource(source));
  const traced = (): void => {
    post({ type: 'gc-traced' });
    gcSource({ source: 'trace' });
  };
  const untraced = (reason: string): void => {
    post({ type: 'gc-untraced', reason });
    gcSource({ source: 'observer', reason });
  };
  const plan = data.gc.from === 'trace' && !session ? { from: 'observer' as const, reason: 'no inspector session to the main thread' } : data.gc;
  if (plan.from === 'trace') {
    const { mainTid, offsetUs } = plan;
    // A worker loop whose thread exits asks for its last pauses now.
    const relay = (gcRelay = new GcRelay(() => gcTracer?.flushSoon()));
    const parser = new GcEventParser((tid, kind, startUs, durationUs) => {
      if (tid === mainTid) views.pushGcPause(kind, startUs - offsetUs, durationUs);
      else relay.push(tid, kind, startUs, durationUs);
    }, (tid) => {
      if (tid === mainTid) gcUnrecorded++;
      else relay.unrecorded(tid);
    });
    const makeSession = (): Session => {
      const s = new Session();
      s.connectToMainThread();
      return s;
    };
    gcTracer = new GcTracer(makeSession, parser, {
      started: () => {
        traced();
        relay.alive();
        gcTimer = setInterval(() => {
          gcTracer?.flush();
          relay.alive();
        }, GC_FLUSH_MS);
      },
      batch: () => relay.send(),
      collected: (coveredUs) => relay.alive(coveredUs),
      failed: (reason) => {
        clearInterval(gcTimer);
        relay.stop(`the main loop's GC tracing failed: ${reason}`);
        untraced(reason);
      },
    });
    gcTracer.start();
  } else if (plan.from === 'relay') {
    const { offsetUs } = plan;
    gcListener = new GcRelayListener(plan.tid, {
      pause: (kind, startUs, durationUs) => views.pushGcPause(kind, startUs - offsetUs, durationUs),
      lost: (count) => views.countGcLost(count),
      unrecorded: (count) => (gcUnrecorded += count),
      traced,
      untraced,
    }, () => performance.now());
  } else gcSource({ source: 'observer', reason: plan.reason });

  // The CPU sampler, on the same session as the stack capture: a worker thread's
  // loop samples its thread through the NodeWorker channel, once that is there.
  const canSend = (): boolean => socket !== undefined && !socket.destroyed && !socket.connecting && socket.writableLength <= data.maxSocketBufferBytes;
  const sampler = new WorkerSampler(data.loopThreadId === 0 ? session : undefined, { probeFile: data.probeFile, clockOffsetUs: data.clockOffsetUs, unavailable: data.samplerUnavailable }, config, {
    canSend,
    send,
    countDrop: countOwnDrop,
    post,
    wake: () => wake(),
  }, mainNowMs);
  reachedLoop = () => {
    if (loopChannel && !stopped) sampler.sampleThrough(loopChannel, config);
  };
  reachedLoop();

  const capture = (done: (r: CaptureResult) => void): void => {
    if (!session) return done({ error: data.hello.stackUnavailable ?? 'no inspector in this process' });
    if (!loopInspector) return done({ error: 'the probe cannot reach this worker thread\'s inspector (no NodeWorker session into it)' });
    try {
      captureMainThreadStack(loopInspector, (r) => done(outsideProbe(r, data.probeFile)));
    } catch (err) {
      done({ error: `inspector: ${(err as Error).message}` });
    }
  };

  // A report whose stack came from the samples, once its block ended: its frames through the
  // target's source maps first. At exit, the main thread's wait for the last samples serves
  // these too (mapped() says when none is left).
  let mapping = 0;
  let mapped: (() => void) | undefined;
  const emitBlocked = (report: BlockedReport): void => {
    if (!data.sourceMaps || !session || report.state !== 'ended' || report.stackSource !== 'samples') return send(encodeBlocked(report));
    const s = session;
    mapping++;
    const done = (r: BlockedReport): void => {
      send(encodeBlocked(r));
      if (--mapping === 0) mapped?.();
    };
    mapOnMainThread(s, report.stack, (stack) => {
      const others = report.otherStacks ?? [];
      if (others.length === 0) return done({ ...report, stack });
      mapOnMainThread(s, others.flatMap((o) => o.stack), (all) => {
        let at = 0;
        done({ ...report, stack, otherStacks: others.map((o) => ({ ...o, stack: all.slice(at, (at += o.stack.length)) })) });
      });
    });
  };

  const watchdog = new Watchdog(views, {
    thresholdMs: config.blockThresholdMs,
    nowMs: mainNowMs,
    capture,
    emit: (report) => emitBlocked(report),
    samples: sampler,
  });

  const sendDrops = (force: boolean): void => {
    // At most once a second unless forced: the worker wakes often, drops are rare.
    const now = Date.now();
    if (!force && now - lastDropsChecked < 1000) return;
    lastDropsChecked = now;
    const { byType, bytes } = views.drops();
    const frames: Record<string, number> = {};
    for (const [type, n] of byType) frames[messageTypeName(type)] = n;
    for (const [type, n] of ownDrops) frames[messageTypeName(type)] = (frames[messageTypeName(type)] ?? 0) + n;
    // GC pauses the main thread had no room for are drops too, though they are not frames.
    if (views.gcPausesLost > 0) frames[GC_PAUSES_DROPPED] = views.gcPausesLost;
    if (gcUnrecorded > 0) frames[GC_PAUSES_UNRECORDED] = gcUnrecorded;
    const key = JSON.stringify(frames);
    if (key === lastDrops) return;
    lastDrops = key;
    send(encodeDrops({ frames, bytes }));
  };

  const drain = (): void => {
    if (!socket || socket.destroyed || socket.connecting) return;
    if (socket.writableLength > data.maxSocketBufferBytes) return; // the ring fills; main counts drops
    // No write callback: the goodbye's, at exit, is the only one waited for.
    const chunk = views.read();
    if (chunk) send(chunk);
  };

  // Woken by a timer re-armed after each wake, for when the watchdog or the ring next needs it,
  // or, while a block lasts, by the beat that ends it.
  let timer: NodeJS.Timeout | undefined;
  const wake = (): void => {
    clearTimeout(timer); // woken by a beat, before the timer
    timer = undefined;
    try {
      drain();
      // While the target exits, its main thread waits for us on purpose: not a block.
      if (!exiting) watchdog.tick();
      sendDrops(false);
      views.setWorkerActiveMs(performance.eventLoopUtilization().active);
    } catch (err) {
      return stop(`probe worker failed: ${(err as Error).message}`);
    }
    schedule();
  };
  // During a block the beat that ends it wakes the worker (shared-state.ts), instead of a
  // poll every few ms: a saturated server sharing its CPU has a dozen blocks a second.
  let wakeGeneration = 0;
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    if (stopped) return;
    const generation = ++wakeGeneration;
    // Not while exiting: the watchdog rests then, and a beat it has not seen would wake us at once, forever.
    const awaited = exiting ? undefined : watchdog.awaitedBeat;
    const inMs = Math.min(watchdog.nextTickInMs(pollIntervalMs(config)), drainIntervalMs(config));
    timer = setTimeout(wake, inMs);
    if (awaited === undefined) views.stopWaitingForBeats();
    else void views.waitForBeat(awaited, inMs).then(() => generation === wakeGeneration && !stopped && wake());
  };

  /**
   * Every inspector session to the main thread ends: while one is connected, a process.exit()
   * makes Node print "Waiting for the debugger to disconnect..." on the target's stderr.
   */
  const disconnect = (): void => {
    sampler.stop();
    clearInterval(gcTimer);
    gcTracer?.stop();
    // Without a word: loopscope detaches the worker loops with this one, and one that runs on
    // without it notices the silence (gc-relay.ts).
    gcRelay?.close();
    gcListener?.stop();
    workers?.stop();
    try {
      session?.disconnect();
    } catch {
      // already gone
    }
  };

  /**
   * `then` once this thread may end: the process's main thread has handled our session's end
   * (main-thread-witness.ts). On the main loop, at once: its thread handles 'stopped' in
   * JavaScript before it ends us, and at exit it is blocked waiting for us.
   */
  const whenSessionEnded = (timeoutMs: number, then: () => void): void => {
    if (data.loopThreadId === 0 || !session) then();
    else afterMainThread(timeoutMs, then);
  };

  // The loop's thread ends this thread after 'stopped', once the main thread has handled the
  // end of our session: ended sooner, this thread's end can abort the process.
  const stop = (reason: string): void => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    views.stopWaitingForBeats();
    disconnect();
    socket?.destroy();
    whenSessionEnded(STOP_WITNESS_MS, () => post({ type: 'stopped', reason }));
  };

  port.on('message', (m: MainToWorker) => {
    if (m.type === 'goodbye') {
      // The last GC pauses and samples are in: no session is needed any more.
      disconnect();
      watchdog.settle();
      drain();
      sendDrops(true);
      // The loop's thread ends once the goodbye is out and, on a worker loop, our session's end
      // has been handled, so that its exit (which ends this thread) cannot abort the process.
      let waiting = 2;
      const flushed = (): void => {
        if (--waiting === 0) views.markFlushed(views.writePosition);
      };
      send(encodeGoodbye(m.goodbye), flushed);
      whenSessionEnded(EXIT_WITNESS_MS, flushed);
    } else if (m.type === 'exiting') {
      // The exit handler's beat ends a block in progress; after it, the main thread waits for us.
      watchdog.tick();
      exiting = true;
      clearInterval(gcTimer);
      let waiting = 2;
      const collected = (): void => {
        if (--waiting > 0) return;
        // The blocks that waited for these samples have them now (and their stacks are mapped).
        watchdog.settle();
        if (mapping === 0) views.markFinal();
        else mapped = () => views.markFinal();
      };
      let gcDone = false;
      const gcCollected = (): void => {
        if (gcDone) return;
        gcDone = true;
        collected();
      };
      try {
        if (gcTracer) gcTracer.finish(GC_FINAL_MS, gcCollected);
        else if (gcListener) gcListener.finish(GC_FINAL_MS, gcCollected);
        else gcCollected();
      } catch {
        gcCollected(); // the pauses that are in will do
      }
      sampler.finish(GC_FINAL_MS, collected);
    } else if (m.type === 'stop') {
      stop(m.reason);
    } else if (m.type === 'worker-created') {
      if (!stopped) follower?.createdWorker(m.threadId);
    } else if (m.type === 'worker-online') {
      if (!stopped) follower?.onlineWorker(m.threadId);
    }
  });

  /**
   * loopscope detaches: as at exit, the blocks that ended get their samples (and mapped stacks)
   * before the goodbye; left waiting, they stayed "ongoing" in loopscope, several at once, with
   * the length they had when first seen. A block still in progress stays ongoing: it is.
   */
  let detaching = false;
  const detach = (): void => {
    if (detaching) return;
    detaching = true;
    watchdog.tick();
    let saidGoodbye = false;
    let mappingWait: NodeJS.Timeout | undefined;
    const goodbye = (): void => {
      if (saidGoodbye) return;
      saidGoodbye = true;
      clearTimeout(mappingWait);
      mapped = undefined;
      drain();
      sendDrops(true);
      send(encodeGoodbye({ reason: 'detached' }), () => stop('detached by loopscope'));
    };
    sampler.finish(DETACH_SAMPLES_MS, () => {
      watchdog.settle();
      if (mapping === 0) return goodbye();
      mapped = goodbye;
      mappingWait = setTimeout(goodbye, DETACH_MAPPING_MS);
    });
  };

  const reader = new FrameReader(64 * 1024);
  socket = connect(data.socketPath);
  socket.on('connect', () => {
    send(encodeHello(data.hello));
    for (const [frame, onFlushed] of beforeHello.splice(0)) send(frame, onFlushed);
    sampler.connected();
    drain();
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      for (const frame of reader.push(chunk)) {
        const control = decodeControl(frame);
        if (control.type === 'detach') {
          detach();
        } else if (control.type === 'reject') {
          stop(`refused by loopscope: ${control.reject.reason}`);
        } else {
          const before = config;
          config = { ...config, ...control.config };
          watchdog.reconfigure(config.blockThresholdMs);
          sampler.reconfigure(before, config);
          schedule();
          post({ type: 'configure', config });
        }
      }
    } catch (err) {
      stop(`bad control message: ${(err as Error).message}`);
    }
  });
  socket.on('error', (err) => stop(`connection to loopscope failed: ${err.message}`));
  socket.on('close', () => stop('connection to loopscope closed'));
  schedule();
}
