// The probe's notices in words, for the warnings of the summary, the live view and the window:
// which worker thread is missing from the session, why, and what can be done about it; and a
// loop whose GC pauses cost it more than they need to; and which of the probe's drops are not a
// slow read (the notices held back, the GC pauses V8's trace has half of). Pure.

import { GC_PAUSES_UNRECORDED, MessageType, messageTypeName, type DropCounters, type GcSourceState, type Hello, type Notice } from '../../probe/wire';

/** "worker thread 3 (cruncher-0)": how the user knows the worker (its name option, else its script). */
export function workerLabel(n: Pick<Notice, 'threadId' | 'name'>): string {
  return `worker thread ${n.threadId}${n.name ? ` (${n.name})` : ''}`;
}

const HOW: Readonly<Record<Notice['cause'], string>> = {
  refused: 'the probe could not start in it',
  threw: 'loading the probe there threw',
  inspector: 'the inspector would not run the probe\'s start in it',
};

const ofProcess = (pid: number | undefined): string => (pid === undefined ? '' : ` of process ${pid}`);

/** One line: which worker, and why (the live view, where the summary says the rest). */
export function noticeLine(n: Notice, pid?: number): string {
  return `${workerLabel(n)}${ofProcess(pid)} could not be followed: ${HOW[n.cause]} (${n.reason})`;
}

/** The whole warning: which worker, why, and what the user can do. `pid`: the worker's process. */
export function noticeText(n: Notice, pid?: number): string {
  const head = `${noticeLine(n, pid)}. Its loop is missing from this session; the probe does not try again`;
  if (n.cause !== 'refused') return head;
  // What the probe's start needs in the worker (probe/main-thread.ts): what else refuses it.
  return `${head}. It needs to add a global property, a SharedArrayBuffer and a thread of its own in the worker: a worker that locks its global object (as SES lockdown does) or takes those away cannot be followed`;
}

/** The drops key of the notices the probe held back (probe/notice-budget.ts), not lost to a slow reader. */
const NOTICE_DROPS = messageTypeName(MessageType.Notice);

/** Notices the probe did not send, over its limit: each a worker thread not followed. */
export function heldBackNotices(frames: DropCounters['frames']): number {
  return frames[NOTICE_DROPS] ?? 0;
}

/** The probe's drops but the GC pauses V8's trace has half of, which the GC figures tell of (`unrecordedGcPauses`). */
export function probeDrops(frames: DropCounters['frames']): [string, number][] {
  return Object.entries(frames).filter(([type]) => type !== GC_PAUSES_UNRECORDED);
}

/** The drops that mean loopscope read too slowly: all but the notices held back and the GC pauses V8 did not record. */
export function readTooSlowly(frames: DropCounters['frames']): [string, number][] {
  return probeDrops(frames).filter(([type]) => type !== NOTICE_DROPS);
}

/** GC pauses of the loop that V8's trace has only the begin or the end of (probe/gc-trace.ts). */
export function unrecordedGcPauses(frames: DropCounters['frames']): number {
  return frames[GC_PAUSES_UNRECORDED] ?? 0;
}

/** "1 more not recorded (…)": why the GC counts and times are short by those pauses. */
export function unrecordedGcText(count: number): string {
  return `${count} more not recorded (V8's trace lost the begin or the end of ${count === 1 ? 'that pause' : 'those pauses'} as the probe's GC tracing changed sessions; they are not in the counts or times)`;
}

/** "5 more worker threads of process 4100 not followed (not named: …)". */
export function heldBackText(count: number, pid?: number): string {
  return `${count} more worker thread${count === 1 ? '' : 's'}${ofProcess(pid)} not followed (not named: over the probe's limit of notices)`;
}

/**
 * A loop whose GC pauses are observed on its own thread: V8's trace events, which the probe
 * uses where it can, cost allocation-heavy code less (BENCHMARKS.md, "GC pauses").
 */
export function gcObservedText(hello: Pick<Hello, 'pid' | 'threadId' | 'threadName'>, reason = 'the probe did not say why'): string {
  const loop = hello.threadId === 0 ? 'the main thread' : workerLabel({ threadId: hello.threadId, name: hello.threadName ?? '' });
  return `GC pauses of ${loop}${ofProcess(hello.pid)} are observed on its thread (a PerformanceObserver, which costs allocation-heavy code more CPU than V8's trace events): ${reason}`;
}

interface NoticeLoop {
  readonly state: {
    readonly hello: Pick<Hello, 'pid' | 'threadId' | 'threadName'> | undefined;
    readonly notices: readonly Notice[];
    readonly drops: Pick<DropCounters, 'frames'>;
    readonly gcSource: GcSourceState | undefined;
  };
}

/** The warnings for the notices of every loop of a session (and those held back, and GC observed), in the order the loops came. */
export function noticeWarnings(loops: readonly NoticeLoop[]): string[] {
  return loops.flatMap(({ state }) => {
    const pid = state.hello?.pid;
    const held = heldBackNotices(state.drops.frames);
    const gc = state.gcSource;
    return [
      ...state.notices.map((n) => noticeText(n, pid)),
      ...(held > 0 ? [heldBackText(held, pid)] : []),
      ...(gc?.source === 'observer' && state.hello ? [gcObservedText(state.hello, gc.reason)] : []),
    ];
  });
}
