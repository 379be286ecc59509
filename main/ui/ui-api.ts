// The one contract between loopscope's main side and the UI (renderer/). Both hosts, the
// Electron preload and the web host's WebSocket client, hand the renderer an object of this
// shape, and main/ui-backend.ts implements it in plain Node. Types only: the renderer imports
// this file, so it must never pull in runtime code or Node APIs.

import type { BlockSampleKinds, LineSource, ProbeConfig, ProbeMode, StackFrame, StackSource } from '../../probe/wire';
import type { Finding, FindingSeverity } from '../reports/task-findings';
import type { StackSourceCounts } from '../common/stack-sources';
import type { RisingFloor } from '../common/heap-floor-text';

export type { BlockSampleKinds, Finding, FindingSeverity, LineSource, ProbeConfig, ProbeMode, StackFrame, StackSource };

/** One row of the Start screen's process list (what `loopscope ps` knows). */
export interface ProcessEntry {
  readonly pid: number;
  readonly command: readonly string[];
  readonly nodeVersion: string | null;
  readonly attachable: boolean;
  /**
   * How, when attachable: 'probe' wakes a dormant probe the process was started with (no
   * signal, no inspector); 'inspector' opens its inspector for a moment.
   */
  readonly via: 'probe' | 'inspector' | null;
  /** Why not, when not attachable. */
  readonly reason: string | null;
  /** Its working directory, when this user may read it. */
  readonly cwd: string | null;
  /** When it started, ms since the Unix epoch (to the second), where the system tells. */
  readonly startedAtMs: number | null;
}

/** How to start a program, besides its command line. */
export interface LaunchSettings {
  /** Its working directory (default: loopscope's). */
  readonly cwd?: string;
  /** Variables set for it on top of loopscope's environment (a command line's VAR=value prefixes). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A launched program's output (stdout and stderr, as they interleaved), from line `first` on. */
export interface OutputView {
  readonly lines: readonly string[];
  /** The number of lines[0] (0 is the first line the program wrote). */
  readonly first: number;
  /** Lines written so far. */
  readonly total: number;
  /** The oldest lines let go to keep memory bounded (lines below `dropped` are gone). */
  readonly dropped: number;
  readonly bytes: number;
}

/** How a launched program ended. */
export interface ExitView {
  readonly code: number | null;
  readonly signal: string | null;
  /** loopscope stopped it (the Stop button, a close). */
  readonly stopped: boolean;
}

/** One metrics interval, as the charts draw it. Times in seconds since the session began. */
export interface SeriesPoint {
  readonly t: number;
  /** Of the interval's heartbeats (ten at the default interval: p99 is often the max). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** 0..1 */
  readonly utilization: number;
  /** CPU time over the interval, as a fraction of one core (0..n). */
  readonly cpu: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  /** GC pause time within the interval, ms. */
  readonly gcMs: number;
}

export interface BlockedView {
  readonly id: number;
  readonly durationMs: number;
  /** Seconds since the session began (same clock as SeriesPoint.t). */
  readonly t: number;
  /** Wall-clock time of the start, ISO 8601. */
  readonly at: string;
  readonly ongoing: boolean;
  /** From the CPU samples inside the block where there are any (see stackSource). */
  readonly stack: readonly StackFrame[];
  readonly stackError: string | null;
  /** null from probes before the sampler. */
  readonly stackSource: StackSource | null;
  /** With samples: how many of the block's samples the stack holds, of `sampled`. */
  readonly samples: number | null;
  readonly sampled: number | null;
  /** What the block's samples ran besides JavaScript; with `samples` 0, none ran any (the stack is the interrupt's). */
  readonly sampleKinds: BlockSampleKinds | null;
  readonly lineSource: LineSource | null;
  readonly otherStacks: readonly { readonly stack: readonly StackFrame[]; readonly samples: number }[];
  /** An ended block with no CPU samples: why, where the probe could tell (the sampler had not started yet, was off, …). */
  readonly unsampled: string | null;
  /** The key of its group in SessionView.blockGroups (there once it ended, or while it lasts if its stack is from samples). */
  readonly group: string;
}

/** Blocks grouped by stack: the same code blocking fifty times matters more than one long block. */
export interface BlockGroupView {
  readonly key: string;
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
  readonly stack: readonly StackFrame[];
  /** Where most of the group's blocks got their stacks (`sources` counts each). */
  readonly stackSource: StackSource | null;
  readonly sources: StackSourceCounts;
  /** The longest block of the group, seconds as SeriesPoint.t: selecting the group selects it. */
  readonly longestT: number;
  readonly longestMs: number;
  readonly lastT: number;
  /** A block of this group is going on now. */
  readonly ongoing: boolean;
}

/** The CPU sampler in the probe, as it last said. */
export interface ProfilerView {
  readonly state: 'on' | 'off' | 'paused';
  readonly intervalMs: number;
  readonly reason: string | null;
}

/** Totals over the tasks samples so far (tasksWindow), `alive` as of the latest, rates over the latest interval. */
export interface TaskRow {
  readonly type: string;
  readonly created: number;
  readonly destroyed: number;
  readonly alive: number;
  readonly callbacks: number;
  /** Callbacks whose durations were taken (the percentiles are theirs): a busy type is timed on a sample. */
  readonly callbacksTimed: number;
  readonly createdPerS: number;
  readonly callbacksPerS: number;
  /** Null when no callback of the type was timed. */
  readonly callbackP50Ms: number | null;
  readonly callbackP99Ms: number | null;
  readonly callbackMaxMs: number | null;
}

/**
 * One loop of a session (a process's main thread, or a worker thread), for the loop overview.
 * Each loop is a session of its own too: `sessionId` opens it in the session screen.
 */
export interface LoopView {
  /** The session that shows this loop (live or replayed, every loop has one); null when it cannot be opened on its own. */
  readonly sessionId: string | null;
  readonly pid: number;
  readonly ppid: number;
  /** Node's threadId: 0 for the process's main thread. */
  readonly threadId: number;
  /** "main", or "worker <threadId>" and the worker's `name` option or script. */
  readonly name: string;
  /** live: its probe is connected; ended: the loop (or its probe) went away. */
  readonly status: 'live' | 'ended' | 'replay';
  /** Once ended with one: its process's or its worker's exit code. */
  readonly exitCode: number | null;
  /** A worker thread stopped from outside (worker.terminate(), or its process ending): ended, with no exit code. */
  readonly terminated: boolean;
  /** Over the latest second. */
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** 0..1, over the latest second. */
  readonly utilization: number;
  readonly blockedCount: number;
  /** Max lag of each of the latest seconds (30 of them, the latest last; fewer at the start), for a sparkline. */
  readonly recentLagMs: readonly number[];
  /** Wall clock (ms since the Unix epoch) where recentLagMs' latest second ends: the loop's latest sample; null before one. */
  readonly recentLagEndMs: number | null;
}

/** A process of a session, and its loops (its main thread first, then its workers by thread id). */
export interface ProcessLoops {
  readonly pid: number;
  readonly ppid: number;
  readonly command: readonly string[];
  readonly loops: readonly LoopView[];
}

/** Everything about a session except its series, which travels as appended points. */
export interface SessionView {
  readonly id: string;
  /**
   * The session the loop belongs to: the id of its first loop (the attached or launched
   * process's main thread), which is this session's own id for that one.
   */
  readonly group: string;
  /** This session's loop: which process and thread. */
  readonly threadId: number;
  readonly loopName: string;
  /**
   * Every loop of the group, by process (the first process first, then in the order they
   * came); on the group's first session only (the others: empty, read the `group`'s).
   */
  readonly loops: readonly ProcessLoops[];
  readonly pid: number;
  readonly nodeVersion: string;
  readonly command: readonly string[];
  /** The process's working directory (paths in stacks are shown relative to it). */
  readonly cwd: string;
  /** Where the data comes from: a probe (attached or launched) or a recording. */
  readonly how: 'attach' | 'launch' | 'replay';
  readonly config: ProbeConfig;
  /**
   * live: the probe is connected; ended: it went away (`error` says why, if not cleanly);
   * replay: the data comes from a recording (see `replay`).
   */
  readonly status: 'live' | 'ended' | 'replay';
  readonly error: string | null;
  /** What went wrong around the session without ending it (e.g. attach could not close the inspector it opened). */
  readonly warnings: readonly string[];
  /** Frames the probe dropped because loopscope read too slowly (the notices it held back are in `warnings`). */
  readonly dropped: { readonly frames: number; readonly bytes: number };
  /** GC pauses V8's trace has only the begin or the end of: missing from the GC series (probe/gc-trace.ts). */
  readonly gcUnrecorded: number;
  /** The heap's floor in the session's first quarter and its last, when it rose enough to tell (session/heap-floor.ts). */
  readonly risingHeapFloor: RisingFloor | null;
  readonly blockedCount: number;
  /** Longest first. */
  readonly blocked: readonly BlockedView[];
  /** The most blocked time first. */
  readonly blockGroups: readonly BlockGroupView[];
  /** null when the probe has no sampler (an older probe, or a recording of one). */
  readonly profiler: ProfilerView | null;
  /** Pauses of the program's main thread that were the probe's own work: not the program's blocks. */
  readonly probePauses: readonly { readonly what: string; readonly t: number; readonly durationMs: number }[];
  readonly resources: readonly { readonly type: string; readonly count: number }[];
  /** tasks and trace modes, once a tasks sample has come. */
  readonly tasks: readonly TaskRow[] | null;
  /** tasks and trace modes: what they do with promises and what that costs, in words (main/common/promise-note.ts). */
  readonly promises: { readonly note: string; readonly costly: boolean } | null;
  /** What the task rows' totals cover: seconds of tasks-mode data, and the latest interval's length (for the rates). */
  readonly tasksWindow: { readonly spanS: number; readonly intervalS: number } | null;
  /** What the tasks data means: the findings the CLI's summary prints too. */
  readonly findings: readonly Finding[];
  /** Wall clock at t = 0, ms since the Unix epoch; null before the first sample. */
  readonly startedAtMs: number | null;
  /** A launched program's output so far; null when loopscope does not have it (attached, replayed). */
  readonly output: { readonly total: number; readonly dropped: number; readonly bytes: number } | null;
  /** How a launched program ended; null while it runs, or when it is not one loopscope started. */
  readonly exit: ExitView | null;
  /**
   * What the probe costs the process over its last few samples, as % of one core: its own
   * callbacks on the main thread (not tasks and trace modes' async hooks, which cannot time
   * themselves cheaply) and its worker thread's busy time. Null until a probe that measures
   * itself has sent a sample.
   */
  readonly probeCost: { readonly mainPercent: number; readonly workerPercent: number } | null;
  /** A live session being recorded now. */
  readonly recording: RecordingView | null;
  /** A replayed session: where the replay clock stands. */
  readonly replay: ReplayView | null;
}

/** A recording in progress, for the header's record button. */
export interface RecordingView {
  readonly file: string;
  /** Wall clock of the start, ms since the Unix epoch. */
  readonly startedAtMs: number;
  readonly bytes: number;
  /** Set when writing failed; the recording stopped there. */
  readonly error: string | null;
}

/** Something on the replay scrubber: a blocked loop or a GC pause. Seconds as SeriesPoint.t. */
export interface ReplayMark {
  readonly kind: 'blocked' | 'gc';
  readonly t: number;
  readonly durationMs: number;
  /** A blocked loop's report id (BlockedView.id). */
  readonly id?: number;
  /**
   * A blocked loop's: when its first report is in the file, on the same clock. Often well
   * after the block's end: one the watchdog missed is reported with its samples, a second on.
   */
  readonly reportedT?: number;
}

export interface ReplayView {
  readonly file: string;
  /** The replay clock, in seconds on the same clock as SeriesPoint.t. */
  readonly startS: number;
  readonly endS: number;
  readonly positionS: number;
  readonly playing: boolean;
  readonly speed: number;
  /** The speeds the replay clock offers, slowest first. */
  readonly speeds: readonly number[];
  /** False while the file is still being written (the replay follows it). */
  readonly complete: boolean;
  /** Scanning the file for marks: 0..1, 1 once every mark is known. */
  readonly scanned: number;
  readonly marks: readonly ReplayMark[];
  /** What was damaged or lost in the file, one line each. */
  readonly warnings: readonly string[];
}

export type ReplayCommand =
  | { readonly kind: 'play' }
  /**
   * `t`: where the window showed the position when Pause was pressed (seconds on the
   * SeriesPoint.t clock); the replay goes back there if it has moved on since.
   */
  | { readonly kind: 'pause'; readonly t?: number }
  | { readonly kind: 'speed'; readonly speed: number }
  /** Seconds on the SeriesPoint.t clock. */
  | { readonly kind: 'seek'; readonly t: number }
  | { readonly kind: 'step' };

export interface RecentRecording {
  readonly file: string;
  /** When loopscope last opened or wrote it, ms since the Unix epoch. */
  readonly atMs: number;
  readonly bytes: number | null;
  /** Null when it can be opened; otherwise why not (gone, unreadable). */
  readonly problem: string | null;
}

/**
 * What subscribers receive, batched (at most ~30 batches a second). `points` are the samples
 * since the previous update of that session; with `reset`, they are all the session has kept
 * and replace what the subscriber had. `revised` are points sent before, again, with the GC
 * time that has since arrived for them (GC pauses reach loopscope up to a second late): they
 * replace the points with the same `t`.
 */
export interface SessionUpdate {
  readonly kind: 'session';
  readonly view: SessionView;
  readonly points: readonly SeriesPoint[];
  readonly revised: readonly SeriesPoint[];
  readonly reset: boolean;
}

/**
 * A session as a window lists it when it does not show it (the Start screen's line). A window
 * that said what it shows (UiApi.subscribe's `shown`) gets every session's summary when it
 * changes, and SessionUpdates only for what it shows: 32 loops' whole views, ~10 times a
 * second each, cost the page its frame budget.
 */
export interface SessionSummary {
  readonly id: string;
  /** As SessionView.group. */
  readonly group: string;
  readonly pid: number;
  readonly command: readonly string[];
  readonly how: SessionView['how'];
  readonly status: SessionView['status'];
  /** A replayed session's file; null for a live one. */
  readonly file: string | null;
  /** The loops of its group seen so far, on the group's first session (0 on the others). */
  readonly loops: number;
}

export interface SessionSummaryUpdate {
  readonly kind: 'summary';
  readonly summary: SessionSummary;
  /** This window gets the session's SessionUpdates; when false, it may forget the last one it had. */
  readonly shown: boolean;
}

/** The session was closed (its window's Close, or another window's): forget it. */
export interface SessionClosed {
  readonly kind: 'closed';
  readonly id: string;
}

export type UiEvent = SessionUpdate | SessionSummaryUpdate | SessionClosed;

/** trace mode: one run of a resource's callback. Seconds on the SeriesPoint.t clock. */
export interface TimelineSlice {
  readonly asyncId: number;
  /** Its resource's type; for a resource the trace never saw made, why (trace-model's BEFORE_TRACE_TYPE, FORGOTTEN_TYPE). */
  readonly type: string;
  /** The function it called, where the probe could tell (timers, immediates, nextTicks). */
  readonly name: string | null;
  readonly startS: number;
  readonly durationMs: number;
  /** 0: called by the loop itself; 1: run inside a depth-0 callback (e.g. a nextTick); … */
  readonly depth: number;
}

/** One turn of the loop: from its first callback to the end of its last. */
export interface TimelineTurn {
  readonly startS: number;
  readonly durationMs: number;
  /** Callbacks it ran (the trace keeps a turn's first 500). */
  readonly callbacks: number;
}

/** What the timeline draws for one window of time. */
export interface TimelineView {
  readonly fromS: number;
  readonly toS: number;
  /** By start. The longest ones when the window holds more than the view's bound. */
  readonly turns: readonly TimelineTurn[];
  readonly slices: readonly TimelineSlice[];
  /** Left out of this window to keep it bounded (always the shortest ones). */
  readonly hiddenTurns: number;
  readonly hiddenSlices: number;
  /** The stretch of time the trace still holds (it keeps the latest turns); null before the first. */
  readonly extent: { readonly fromS: number; readonly toS: number } | null;
  /** How many seconds of the latest turns the trace keeps (setTraceLength). */
  readonly keepS: number;
  /** The trace's bounds (callbacks, turns) let turns go sooner than keepS: it holds less time. */
  readonly full: boolean;
  /** The first async id traced: lower ones were created before tracing started. Null before any. */
  readonly tracedFromAsyncId: number | null;
}

/** A resource in the causality tree. Seconds on the SeriesPoint.t clock. */
export interface CausalityResource {
  readonly asyncId: number;
  readonly type: string;
  /** The function it calls, where the probe could tell. */
  readonly name: string | null;
  readonly triggerId: number;
  readonly initS: number;
  readonly destroyedS: number | null;
  /** Of the first callbacks the trace keeps per resource (16). */
  readonly callbacks: number;
  readonly callbackMs: number;
}

export interface CausalityNode extends CausalityResource {
  readonly children: readonly CausalityNode[];
  /** Children left out to keep the tree bounded. */
  readonly hiddenChildren: number;
}

export interface CausalityView {
  readonly asyncId: number;
  /** From the earliest cause the trace holds down to the resource itself (the last entry). */
  readonly chain: readonly CausalityResource[];
  /** Causes left out of a long chain, between its first entry and the second. */
  readonly chainHidden: number;
  /** What created chain[0]: 1 or less is the program's main module; more, a resource the trace does not hold. */
  readonly rootTriggerId: number;
  /** The resource and what it caused, breadth first, bounded. */
  readonly tree: CausalityNode;
  /** Resources left out where the bound cut the tree (each may have caused more). */
  readonly treeHidden: number;
}

/** What a frame of the profile is, for colour and for whether it opens in the editor. */
export type ProfileFrameKind = 'own' | 'node' | 'native' | 'idle' | 'gc' | 'program' | 'probe';

export interface ProfileFrameView {
  readonly functionName: string;
  readonly url: string;
  /** The function's own position, 1-based (0: none). */
  readonly lineNumber: number;
  readonly columnNumber: number;
  readonly kind: ProfileFrameKind;
}

/** A node of the flame graph: a frame called from its parent node (0: from the top). */
export interface FlameNode {
  readonly id: number;
  readonly parent: number;
  /** Index into ProfileView.frames. */
  readonly frame: number;
  /** Samples with this node as the leaf, and under it. */
  readonly self: number;
  readonly total: number;
}

/** A row of the bottom-up table: a function, its self and total samples, its own samples by line. */
export interface FunctionRow {
  readonly frame: number;
  readonly self: number;
  readonly total: number;
  /** [line, self samples], the most first. */
  readonly lines: readonly (readonly [number, number])[];
}

/** The CPU profile of a time range. Seconds on the SeriesPoint.t clock. */
export interface ProfileView {
  readonly fromS: number;
  readonly toS: number;
  readonly sampleIntervalMs: number;
  readonly samples: number;
  /** Samples by what they were: code (JavaScript and natives), or not the program's code. */
  readonly kinds: { readonly code: number; readonly idle: number; readonly gc: number; readonly program: number; readonly probe: number };
  readonly frames: readonly ProfileFrameView[];
  /** Parents before children, siblings the most samples first. */
  readonly flame: readonly FlameNode[];
  /** Nodes left out of `flame` (the smallest), to keep it bounded. */
  readonly hiddenNodes: number;
  /** The most self samples first. */
  readonly functions: readonly FunctionRow[];
  /** The stretch of time the session holds samples for; null before the first. */
  readonly extent: { readonly fromS: number; readonly toS: number } | null;
  /** Samples over the last stretch of `extent`, for the range picker: code and idle per step. */
  readonly activity: { readonly fromS: number; readonly stepS: number; readonly code: readonly number[]; readonly idle: readonly number[] };
  readonly profiler: ProfilerView | null;
  /**
   * Time between samples with none taken, when it is a large part of the range (the main
   * thread in system calls, or without a CPU); `mostlyIn.frame` indexes `frames`.
   */
  readonly unsampled: { readonly ms: number; readonly spanMs: number; readonly mostlyIn: { readonly frame: number; readonly ms: number } | null } | null;
}

export interface UiApi {
  listProcesses(): Promise<readonly ProcessEntry[]>;
  /** Injects the probe; resolves with the new session's id once the probe is connected. */
  attach(pid: number, config?: Partial<ProbeConfig>): Promise<string>;
  /** Starts `command` (a Node program) with the probe; resolves with the session's id. */
  launch(command: readonly string[], config?: Partial<ProbeConfig>, settings?: LaunchSettings): Promise<string>;
  /** Starts the built-in demo target. */
  launchDemo(config?: Partial<ProbeConfig>): Promise<string>;
  configure(sessionId: string, config: Partial<ProbeConfig>): Promise<void>;
  /** Turns the probe off (attached) or stops the program (launched). */
  stop(sessionId: string): Promise<void>;
  /** Opens a recording for replay, paused at its start; resolves with the session's id. */
  openRecording(path: string): Promise<string>;
  /** Recordings opened or written lately, newest first. */
  recentRecordings(): Promise<readonly RecentRecording[]>;
  /** Play, pause, speed, seek and step a replayed session. */
  replay(sessionId: string, command: ReplayCommand): Promise<void>;
  /** Starts recording a live session; resolves with the file's path. */
  startRecording(sessionId: string): Promise<string>;
  stopRecording(sessionId: string): Promise<void>;
  /** Opens a stack frame's source file at its line in the user's editor. */
  openInEditor(url: string, line: number, column: number): Promise<void>;
  /** Closes a session: detaches or stops a live one, closes a replayed file. */
  close(sessionId: string): Promise<void>;
  /** trace mode: the loop turns and callbacks between two times (seconds, as SeriesPoint.t). */
  timeline(sessionId: string, fromS: number, toS: number): Promise<TimelineView>;
  /** trace mode: what caused a resource and what it caused; null when the trace does not hold it. */
  causality(sessionId: string, asyncId: number): Promise<CausalityView | null>;
  /** The CPU profile between two times (seconds, as SeriesPoint.t), live or replayed. */
  profile(sessionId: string, fromS: number, toS: number): Promise<ProfileView>;
  /** trace mode: keep the latest `seconds` of loop turns (within the trace's bounds). */
  setTraceLength(sessionId: string, seconds: number): Promise<void>;
  /** A launched program's output from line `from` on (a bounded number of lines); null when loopscope does not have it. */
  output(sessionId: string, from: number): Promise<OutputView | null>;
  /**
   * Returns the unsubscribe function. The current state of every session comes first.
   * `shown`: the session the subscribing window shows (null: none, the Start screen); it then
   * gets SessionUpdates of that session and its group's first (which lists the loops) only,
   * and SessionSummaryUpdates of every session. Without it: every session's SessionUpdates.
   */
  subscribe(listener: (events: readonly UiEvent[]) => void, shown?: string | null): () => void;
}

/** The methods callable over a transport (IPC, WebSocket): all but subscribe. */
export type UiMethod = Exclude<keyof UiApi, 'subscribe'>;

/** A file the user picked or dropped in the window (a DOM File). */
export interface PickedFile extends Blob {
  readonly name: string;
}

/**
 * What the renderer gets from its host: the UiApi, plus opening a file the user picked or
 * dropped. The web host uploads it; Electron passes its path.
 */
export interface HostApi extends UiApi {
  openRecordingFile(file: PickedFile, onProgress?: (fraction: number) => void): Promise<string>;
  /** Says which session the window shows (null: none): the host subscribes it again with that `shown`. */
  show(sessionId: string | null): void;
}

/** Transport messages (WebSocket, IPC): a call and its reply, what the window shows, and pushed event batches. */
export interface CallMessage {
  readonly id: number;
  readonly method: UiMethod;
  readonly params: readonly unknown[];
}
/** The window shows another session (HostApi.show). */
export interface ShowMessage {
  readonly show: string | null;
}
export type HostMessage =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string }
  | { readonly events: readonly UiEvent[] };
