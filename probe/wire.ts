// The loopscope wire format, the contract between the probe (inside the target) and
// loopscope's main process: the message types, their shapes, their limits. Pure, so the probe,
// main and the renderer all share it. The codecs live beside it: wire-framing.ts (frames),
// wire-binary.ts (metrics, dictionary, event batches), wire-json.ts (the rare messages),
// wire-fields.ts (checking JSON fields) and wire-decoder.ts (whole frames).
//
// Frame layout (little endian):
//   u32 length   bytes that follow this field (header rest + payload)
//   u8  version  PROTOCOL_VERSION
//   u8  type     MessageType
//   u16 reserved 0
//   ... payload  (length - 4 bytes)
// The 8-byte header keeps binary payloads 8-byte aligned for Float64 columns.

import type { SparseHistogram } from './log-histogram';

export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 8;

/** No single frame may be larger than this; anything bigger is corrupt or hostile. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export const MessageType = {
  /** probe → main, JSON: who the target is, plus the one-time token. Always first. */
  Hello: 1,
  /** probe → main, binary: one metrics interval. */
  Metrics: 2,
  /** probe → main, JSON: a blocked-loop report (sent while ongoing, and once ended). */
  Blocked: 3,
  /** probe → main, JSON: cumulative drop counters. */
  Drops: 4,
  /** probe → main, binary: new dictionary strings (resource types, later stack frames). */
  Dictionary: 5,
  /** probe → main, JSON: the probe is turning itself off, and why. */
  Goodbye: 6,
  /** probe → main, JSON: one interval of async-task aggregates (tasks and trace modes). */
  Tasks: 7,
  /** probe → main, binary: a batch of async lifecycle events in columns (trace mode). */
  TaskEvents: 8,
  /**
   * probe → main, binary: new entries of the CPU profile's dictionary (strings, call frames,
   * stack nodes), each sent once; samples refer to nodes by id (see wire-profile.ts).
   */
  ProfileDictionary: 9,
  /** probe → main, binary: one harvest of CPU samples: node ids and times, and the leaves' lines. */
  ProfileSamples: 10,
  /** probe → main, JSON: a pause of the target's main thread that was the probe's own work. */
  ProbePause: 11,
  /** probe → main, JSON: the CPU sampler started, stopped or paused, and why. */
  ProfilerState: 12,
  /** probe → main, JSON: something the probe could not do that the user should know of (rare, bounded). */
  Notice: 13,
  /** probe → main, JSON: where the loop's GC pauses come from, sent when that changes. */
  GcSource: 14,
  /** main → probe, JSON: change mode, interval, thresholds. */
  Configure: 16,
  /** main → probe, empty: turn everything off and disconnect. */
  Detach: 17,
  /** main → probe, JSON: the connection is refused, and why (e.g. a bad token). */
  Reject: 18,
} as const;

export type MessageTypeId = (typeof MessageType)[keyof typeof MessageType];

export type ProbeMode = 'metrics' | 'tasks' | 'trace';

export const PROBE_MODES: readonly ProbeMode[] = ['metrics', 'tasks', 'trace'];

export interface Hello {
  readonly protocol: number;
  readonly token: string;
  readonly probeVersion: string;
  readonly pid: number;
  readonly ppid: number;
  readonly nodeVersion: string;
  readonly platform: string;
  readonly arch: string;
  readonly argv: readonly string[];
  readonly execArgv: readonly string[];
  readonly title: string;
  readonly cwd: string;
  /** Node's threadId: 0 for the main thread. */
  readonly threadId: number;
  /** A worker thread's `name` option, else its script (absent on the main thread). */
  readonly threadName?: string;
  /** performance.timeOrigin of the target, in ms since the Unix epoch. */
  readonly timeOriginMs: number;
  readonly config: ProbeConfig;
  /** How the probe came in: preloaded with --require, or injected into a running process. */
  readonly loadedBy: 'preload' | 'inject';
  /** Why the watchdog cannot take stacks, when it cannot (e.g. no inspector in this build). */
  readonly stackUnavailable?: string;
}

export interface ProbeConfig {
  readonly mode: ProbeMode;
  /** Track promises too (tasks and trace modes): opt-in, as it is the expensive part. */
  readonly promises: boolean;
  /** Metrics interval, ms. */
  readonly intervalMs: number;
  /** Blocked-loop threshold, ms. */
  readonly blockThresholdMs: number;
  /**
   * The CPU sampler (V8's profiler, one profile kept running): on by default. Absent in hellos
   * of probes from before it, which had none.
   */
  readonly profile?: boolean;
  /** The CPU sampler's interval, ms. */
  readonly sampleIntervalMs?: number;
}

/**
 * The bounds of the numeric settings, everywhere they are taken (the CLI, the UI's calls, the
 * probe's preload settings, the configure message): a heartbeat every few µs, or a threshold
 * below the beat's own jitter, would cost the target more than it tells.
 */
export const CONFIG_LIMITS = {
  intervalMs: { min: 10, max: 60_000 },
  blockThresholdMs: { min: 5, max: 600_000 },
  // V8 samples at 1 ms at best, and a second between samples says nothing about a block.
  sampleIntervalMs: { min: 1, max: 1000 },
} as const satisfies Readonly<Record<'intervalMs' | 'blockThresholdMs' | 'sampleIntervalMs', { readonly min: number; readonly max: number }>>;

export interface LagStats {
  /** All in microseconds, as lag: the delay beyond the sampling resolution. */
  readonly minUs: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** Number of delay samples in the interval. */
  readonly count: number;
  /**
   * The longest stall of the main thread in the interval, measured by the heartbeat from the
   * loop's active time: exact for a block, where the histogram alone is off by its phase.
   */
  readonly stallMaxUs: number;
  /** [percentile, lag µs] pairs of the interval's histogram, for merging across intervals. */
  readonly percentiles: readonly (readonly [number, number])[];
}

export interface GcPause {
  readonly kind: GcKind;
  /** µs since the target's time origin. */
  readonly startUs: number;
  readonly durationUs: number;
}

export type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb' | 'unknown';

export interface ResourceCount {
  readonly type: string;
  readonly count: number;
}

export interface MetricsSample {
  /** End of the interval, µs since the target's time origin. */
  readonly timeUs: number;
  readonly intervalUs: number;
  readonly lag: LagStats;
  /** Event-loop utilization over the interval, 0..1. */
  readonly utilization: number;
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
  readonly gc: readonly GcPause[];
  readonly resources: readonly ResourceCount[];
  /**
   * The probe's own time in the interval: its callbacks on the main thread (not the async
   * hooks of tasks and trace modes, which cannot time themselves cheaply), and the worker
   * thread's busy time. 0 from probes that did not measure it.
   */
  readonly probeMainUs: number;
  readonly probeWorkerUs: number;
}

export interface StackFrame {
  readonly functionName: string;
  readonly url: string;
  /** 1-based. */
  readonly lineNumber: number;
  /** 1-based. */
  readonly columnNumber: number;
}

/**
 * Where a blocked report's stack came from: the CPU samples taken inside the block (the
 * sampler's signal lands inside native calls too), or, when it has none, the watchdog's
 * interrupt, served at the blocking code's next function entry or loop back-edge, which may
 * come after the block ended ('late-interrupt': then it shows whatever ran next).
 */
export type StackSource = 'samples' | 'interrupt' | 'late-interrupt';

/**
 * How the line of the stack's first user frame was found: V8's line ticks of the samples
 * (the frame was the leaf), the interrupt stack (same function), the source text (the only
 * line of the function that calls the callee the samples show), or only the function's own
 * line (the call's line is unknown).
 */
export type LineSource = 'samples' | 'interrupt' | 'source' | 'function';

/** What the samples inside a block were, besides the stacks: they do not count towards one. */
export interface BlockSampleKinds {
  readonly gc: number;
  readonly idle: number;
  readonly program: number;
  /** The probe's own work (a harvest or stack capture served inside the block). */
  readonly probe: number;
}

export interface BlockedReport {
  /** Unique per probe; an ongoing report is superseded by later ones with the same id. */
  readonly id: number;
  /**
   * `cancelled`: the heartbeat stalled but the loop was not busy (the thread was starved of
   * CPU, not blocked by code), so an earlier `ongoing` report with this id is withdrawn.
   */
  readonly state: 'ongoing' | 'ended' | 'cancelled';
  /** µs since the target's time origin. */
  readonly startUs: number;
  /** So far while ongoing; final once ended. */
  readonly durationUs: number;
  /** Innermost frame first. Empty when no stack could be taken (see stackError). */
  readonly stack: readonly StackFrame[];
  readonly stackError?: string;
  /** Absent from probes before the sampler: their stacks were all interrupts. */
  readonly stackSource?: StackSource;
  /** With samples: how many of the block's samples this stack holds, of `sampled` in all. */
  readonly samples?: number;
  readonly sampled?: number;
  readonly lineSource?: LineSource;
  readonly sampleKinds?: BlockSampleKinds;
  /** Other things the block did, each with its samples: stacks holding a tenth of them or more. */
  readonly otherStacks?: readonly { readonly stack: readonly StackFrame[]; readonly samples: number }[];
  /** An ended block with no CPU samples: why, where the sampler can tell (it had not started yet, was off, paused). */
  readonly unsampled?: string;
}

/** A stretch of the target's main thread spent in the probe's own work, not the target's. */
export interface ProbePause {
  /** What the probe did: its start, the CPU profiler's first start (V8 logs all compiled code), … */
  readonly what: string;
  /** µs since the target's time origin. */
  readonly startUs: number;
  readonly durationUs: number;
}

export interface ProfilerState {
  /** on: sampling; off: not sampling (as asked, or it cannot); paused: for now (see reason). */
  readonly state: 'on' | 'off' | 'paused';
  readonly intervalMs: number;
  readonly reason?: string;
}

/**
 * How bringing the probe into a worker thread failed: its start there refused (and said why),
 * the evaluation of that start threw, or the inspector answered the evaluation with an error.
 */
export type UnfollowedCause = 'refused' | 'threw' | 'inspector';
export const UNFOLLOWED_CAUSES: readonly UnfollowedCause[] = ['refused', 'threw', 'inspector'];

/**
 * Sent by the main loop's probe: a worker thread of its process it could not bring the probe
 * into, which is therefore missing from the session's loops. Not sent for a worker that ended
 * while the probe was being brought in.
 */
export interface WorkerUnfollowed {
  readonly kind: 'worker-unfollowed';
  /** µs since the target's time origin. */
  readonly timeUs: number;
  /** Node's threadId of the worker (1 or more). */
  readonly threadId: number;
  /** The worker's `name` option, else its script; '' when it has neither. */
  readonly name: string;
  readonly cause: UnfollowedCause;
  /** What failed, in the words of whatever failed (the probe's start, the exception, the inspector). */
  readonly reason: string;
}

/** A notice: one kind so far; each kind says what it is in `kind`. */
export type Notice = WorkerUnfollowed;
export const NOTICE_KINDS: readonly Notice['kind'][] = ['worker-unfollowed'];

/** What a profile's call frame is: JavaScript (or native) code, or one of V8's own states. */
export type ProfileFrameKind = 'code' | 'root' | 'program' | 'idle' | 'gc' | 'probe';

export const PROFILE_FRAME_KINDS: readonly ProfileFrameKind[] = ['code', 'root', 'program', 'idle', 'gc', 'probe'];

export interface ProfileFrame {
  readonly functionName: string;
  readonly url: string;
  /** The function's own position, 1-based (0: none, as for natives and V8's states). */
  readonly lineNumber: number;
  readonly columnNumber: number;
  readonly kind: ProfileFrameKind;
}

/** Entries of the CPU profile's dictionary, as decoded: frames resolved, nodes by parent. */
export interface ProfileDictionary {
  /** Forget every frame and node before these (the probe's tables had grown to their bound). */
  readonly reset: boolean;
  readonly frames: readonly (readonly [number, ProfileFrame])[];
  /** [node id, parent node id (0: a root), frame id] */
  readonly nodes: readonly (readonly [number, number, number])[];
}

/**
 * One harvest of samples: which stack node each sample was in, and when, in columns. Times are
 * µs since the target's time origin, increasing, all in [fromUs, toUs].
 */
export interface ProfileBatch {
  readonly fromUs: number;
  readonly toUs: number;
  readonly intervalUs: number;
  readonly count: number;
  readonly nodeIds: Uint32Array;
  readonly timesUs: Float64Array;
  /**
   * V8 keeps lines for the leaf only, per node and harvest: [node id, 1-based line, samples]
   * for the nodes that were leaves, in columns of three.
   */
  readonly lineTicks: Uint32Array;
}

/** The drops key of the GC pauses the probe had no room for: not frames, but lost the same way. */
export const GC_PAUSES_DROPPED = 'gcPauses';
/**
 * The drops key of the GC pauses V8's trace has only half of (probe/gc-trace.ts): not lost to a
 * slow reader, and missing from the GC counts and times all the same.
 */
export const GC_PAUSES_UNRECORDED = 'gcPausesUnrecorded';

export interface DropCounters {
  /**
   * Frames the probe could not queue because loopscope read too slowly, by message type name;
   * and under GC_PAUSES_DROPPED and GC_PAUSES_UNRECORDED, GC pauses.
   */
  readonly frames: Readonly<Record<string, number>>;
  readonly bytes: number;
}

/** Per resource type, over one interval (alive: since tasks tracking began). */
export interface TaskTypeStats {
  readonly type: string;
  readonly created: number;
  readonly destroyed: number;
  readonly alive: number;
  readonly callbacks: number;
  /**
   * Callback durations, µs, as a sparse log histogram (see log-histogram.ts). Of every
   * callback, or in tasks mode of a busy type's sample (probe/task-types.ts): then it counts
   * fewer than `callbacks`.
   */
  readonly callbackUs: SparseHistogram;
  readonly callbackMaxUs: number;
  /** Time from a resource's creation to its first callback, µs (of the same sample). */
  readonly queueUs: SparseHistogram;
  readonly queueMaxUs: number;
}

export interface SlowCallback {
  readonly type: string;
  readonly asyncId: number;
  readonly startUs: number;
  readonly durationUs: number;
  /** Where the resource was created; empty when its creation was not sampled. */
  readonly initStack: readonly StackFrame[];
}

export interface CreationSite {
  readonly type: string;
  /** Live resources of this type created here, among those whose creation was sampled. */
  readonly sampledAlive: number;
  readonly stack: readonly StackFrame[];
}

/**
 * How tasks and trace modes leave promises out, when they do (probe/promise-skipping.ts):
 * Node's `trackPromises: false` option, its internal flag for the same, Node's promise hook
 * removed through the inspector, or none (this Node tracks promises for any hook).
 */
export type PromiseSkipping = 'trackPromises' | 'kNoPromiseHook' | 'inspector' | 'none';
export const PROMISE_SKIPPINGS: readonly PromiseSkipping[] = ['trackPromises', 'kNoPromiseHook', 'inspector', 'none'];

export interface TasksSample {
  readonly timeUs: number;
  readonly intervalUs: number;
  readonly promisesTracked: boolean;
  /** Without promisesTracked: how promises are left out (absent from probes before it was sent). */
  readonly promiseSkipping?: PromiseSkipping;
  readonly types: readonly TaskTypeStats[];
  readonly threadpool: {
    readonly size: number;
    /** Pool requests submitted and not yet called back, at most, in the interval. */
    readonly maxInFlight: number;
    readonly maxQueued: number;
    readonly completed: number;
    /** Submission to callback, µs: the pool's queue plus the work itself. */
    readonly queueUs: SparseHistogram;
  };
  readonly timers: {
    readonly fired: number;
    /** How late timers fired compared with when they were due, µs. */
    readonly lateUs: SparseHistogram;
    readonly lateMaxUs: number;
  };
  readonly fanOut: {
    /** Resources created per callback, as a sparse histogram of counts. */
    readonly perCallback: SparseHistogram;
    readonly max: number;
    /** The type of the callback that created `max`; empty when the probe did not see its resource made. */
    readonly maxType: string;
  };
  readonly slowCallbacks: readonly SlowCallback[];
  readonly liveSites: readonly CreationSite[];
  /** Resources not tracked because the table that keeps them was full (the probe's; in trace mode loopscope's). */
  readonly untracked: number;
  /**
   * trace mode: the sample leaves out what the interval's task events tell (its types, fan-out,
   * slow callbacks, untracked, and the thread pool's figures but its size), which loopscope
   * works out from those events (main/session/event-views.ts) and fills in before anything
   * reads the sample, so that the target's main thread does not. `stacks`: the creation stacks
   * the probe sampled in the interval, for the slow callbacks.
   */
  readonly fromEvents?: { readonly stacks: readonly CreatedStack[] };
}

/** Where a resource was created, for one whose creation was sampled. */
export interface CreatedStack {
  readonly asyncId: number;
  readonly stack: readonly StackFrame[];
}

export const TaskEventKind = { init: 0, before: 1, after: 2, destroy: 3, promiseResolve: 4, turn: 5 } as const;

export type TaskEventKindId = (typeof TaskEventKind)[keyof typeof TaskEventKind];

/** A batch of lifecycle events, in columns (no object per event: a million arrive a second). */
export interface TaskEventBatch {
  readonly count: number;
  readonly kinds: Uint8Array;
  readonly asyncIds: Float64Array;
  /** For init events; 0 otherwise. */
  readonly triggerIds: Float64Array;
  readonly timesUs: Float64Array;
  /** Dictionary ids of the types, for init events; 0 otherwise. */
  readonly typeIds: Uint16Array;
  /** The type names the batch refers to, by dictionary id. */
  readonly types: ReadonlyMap<number, string>;
  /**
   * Dictionary ids of the names of the functions init events' resources will call (timers,
   * immediates, nextTicks), 0 where none is known; absent when the batch names none.
   */
  readonly nameIds?: Uint16Array;
  /** The function names the batch refers to, by dictionary id. */
  readonly names?: ReadonlyMap<number, string>;
  /** The first batch since the hook was turned on: no resource of an earlier batch continues into it. */
  readonly first?: boolean;
}

export interface Goodbye {
  readonly reason: string;
  readonly exitCode?: number;
}

export interface Reject {
  readonly reason: string;
}

/**
 * Where a loop's GC pauses come from: V8's trace events, collected off the loop's thread
 * (nothing runs on it per GC), or a PerformanceObserver on the loop's thread, which costs
 * allocation-heavy code more (BENCHMARKS.md, "GC pauses"); `reason` says why not the trace.
 */
export interface GcSourceState {
  readonly source: 'trace' | 'observer';
  readonly reason?: string;
}
export const GC_SOURCES: readonly GcSourceState['source'][] = ['trace', 'observer'];

export type ProbeMessage =
  | { readonly type: 'hello'; readonly hello: Hello }
  | { readonly type: 'metrics'; readonly sample: MetricsSample }
  | { readonly type: 'blocked'; readonly report: BlockedReport }
  | { readonly type: 'drops'; readonly drops: DropCounters }
  | { readonly type: 'dictionary'; readonly entries: readonly (readonly [number, string])[] }
  | { readonly type: 'goodbye'; readonly goodbye: Goodbye }
  | { readonly type: 'tasks'; readonly sample: TasksSample }
  | { readonly type: 'taskEvents'; readonly batch: TaskEventBatch }
  | { readonly type: 'profileDictionary'; readonly dictionary: ProfileDictionary }
  | { readonly type: 'profileSamples'; readonly batch: ProfileBatch }
  | { readonly type: 'probePause'; readonly pause: ProbePause }
  | { readonly type: 'profilerState'; readonly profiler: ProfilerState }
  | { readonly type: 'notice'; readonly notice: Notice }
  | { readonly type: 'gcSource'; readonly gc: GcSourceState };

export type ControlMessage =
  | { readonly type: 'configure'; readonly config: Partial<ProbeConfig> }
  | { readonly type: 'detach' }
  | { readonly type: 'reject'; readonly reject: Reject };

export class WireError extends Error {
  override readonly name: string = 'WireError';
}

/**
 * A frame past one of the limits below: a real probe never sends one (it shortens what could
 * go past them), so the stream or file is damaged or crafted.
 */
export class WireLimitError extends WireError {
  override readonly name = 'WireLimitError';
}

// recording can make loopscope decode and hold, whatever its bytes say. Checked before the
// allocation they bound.

/** A hello's payload: argv, execArgv, cwd, title (the probe shortens a longer argv to fit). */
export const MAX_HELLO_BYTES = 1024 * 1024;

/**
 * Any name or text in a frame, in characters: a stack frame's function name and URL, a
 * resource type, an error's text. Real ones are under a few hundred; a path is at most 4096
 * bytes (PATH_MAX). The probe shortens longer ones (clipName).
 */
export const MAX_NAME_LENGTH = 4096;

/** Dictionary entries: resource type names, tens in a real session; task events refer to them by a u16 id. */
export const MAX_DICTIONARY_ENTRIES = 65_536;

/** All dictionary entries together, in characters: a real session's are a few hundred. */
export const MAX_DICTIONARY_LENGTH = 1024 * 1024;

/** Per metrics sample: GC pauses (the probe sends at most 256), resource types and lag percentiles (at most 32). */
export const MAX_GC_PER_SAMPLE = 1024;

export const MAX_RESOURCES_PER_SAMPLE = 1024;

export const MAX_PERCENTILES_PER_SAMPLE = 1024;

/**
 * JSON payloads by message type, in bytes (a real blocked report is about 1 kB, a tasks
 * sample a few kB). They bound the JSON parse that comes before the fields are checked.
 */
export const MAX_BLOCKED_BYTES = 256 * 1024;

/** A name shortened to MAX_NAME_LENGTH, for the probe to send. */
export function clipName(s: string): string {
  return s.length <= MAX_NAME_LENGTH ? s : `${s.slice(0, MAX_NAME_LENGTH - 1)}…`;
}

export interface RawFrame {
  readonly type: MessageTypeId;
  readonly payload: Uint8Array;
}

export const MAX_STACK_FRAMES = 64;

/**
 * The CPU profile's dictionary, at most, between two resets: the probe resets its tables
 * before they pass half of these (a real app's profile holds a few thousand nodes).
 */
export const MAX_PROFILE_FRAMES = 65_536;
export const MAX_PROFILE_NODES = 131_072;
/** Characters of all the profile's names and URLs, at most, between two resets. */
export const MAX_PROFILE_TEXT = 8 * 1024 * 1024;
/** Samples in one harvest: a second at 1 ms is 1000; a long block between harvests a few more. */
export const MAX_SAMPLES_PER_BATCH = 65_536;
/** Other stacks of a blocked report. */
export const MAX_OTHER_STACKS = 4;
/** Creation stacks in one trace mode tasks sample (the probe samples 10 an interval at most: creation-sites.ts). */
export const MAX_CREATED_STACKS = 64;

export const MAX_EVENTS_PER_BATCH = 65_536;

/** Name of a message type, for drop counters and errors. */
export function messageTypeName(type: number): string {
  for (const [name, id] of Object.entries(MessageType)) if (id === type) return name;
  return `type ${type}`;
}
