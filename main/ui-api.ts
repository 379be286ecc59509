// The one contract between loopscope's main side and the UI (renderer/). Both hosts, the
// Electron preload and the web host's WebSocket client, hand the renderer an object of this
// shape, and main/ui-backend.ts implements it in plain Node. Types only: the renderer imports
// this file, so it must never pull in runtime code or Node APIs.

import type { ProbeConfig, ProbeMode, StackFrame } from '../probe/wire';

export type { ProbeConfig, ProbeMode, StackFrame };

/** One row of the Start screen's process list (what `loopscope ps` knows). */
export interface ProcessEntry {
  readonly pid: number;
  readonly command: readonly string[];
  readonly nodeVersion: string | null;
  readonly attachable: boolean;
  /** Why not, when not attachable. */
  readonly reason: string | null;
}

/** One metrics interval, as the charts draw it. Times in seconds since the session began. */
export interface SeriesPoint {
  readonly t: number;
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
  readonly stack: readonly StackFrame[];
  readonly stackError: string | null;
}

export interface TaskRow {
  readonly type: string;
  readonly created: number;
  readonly destroyed: number;
  readonly alive: number;
  readonly callbacks: number;
  readonly callbackP50Ms: number;
  readonly callbackP99Ms: number;
  readonly callbackMaxMs: number;
}

/** Everything about a session except its series, which travels as appended points. */
export interface SessionView {
  readonly id: string;
  readonly pid: number;
  readonly nodeVersion: string;
  readonly command: readonly string[];
  readonly how: 'attach' | 'launch';
  readonly config: ProbeConfig;
  /** live: the probe is connected; ended: it went away (`error` says why, if not cleanly). */
  readonly status: 'live' | 'ended';
  readonly error: string | null;
  readonly dropped: { readonly frames: number; readonly bytes: number };
  readonly blockedCount: number;
  /** Longest first. */
  readonly blocked: readonly BlockedView[];
  readonly resources: readonly { readonly type: string; readonly count: number }[];
  /** tasks and trace modes, once a tasks sample has come. */
  readonly tasks: readonly TaskRow[] | null;
}

/**
 * What subscribers receive, batched (at most ~30 batches a second). `points` are the samples
 * since the previous update of that session; with `reset`, they are all the session has kept
 * and replace what the subscriber had.
 */
export interface SessionUpdate {
  readonly kind: 'session';
  readonly view: SessionView;
  readonly points: readonly SeriesPoint[];
  readonly reset: boolean;
}

export type UiEvent = SessionUpdate;

export interface UiApi {
  listProcesses(): Promise<readonly ProcessEntry[]>;
  /** Injects the probe; resolves with the new session's id once the probe is connected. */
  attach(pid: number, config?: Partial<ProbeConfig>): Promise<string>;
  /** Starts `command` (a Node program) with the probe; resolves with the session's id. */
  launch(command: readonly string[], config?: Partial<ProbeConfig>): Promise<string>;
  /** Starts the built-in demo target. */
  launchDemo(config?: Partial<ProbeConfig>): Promise<string>;
  configure(sessionId: string, config: Partial<ProbeConfig>): Promise<void>;
  /** Turns the probe off (attached) or stops the program (launched). */
  stop(sessionId: string): Promise<void>;
  /** Returns the unsubscribe function. The current state of every session comes first. */
  subscribe(listener: (events: readonly UiEvent[]) => void): () => void;
}

/** The methods callable over a transport (IPC, WebSocket): all but subscribe. */
export type UiMethod = Exclude<keyof UiApi, 'subscribe'>;

/** Transport messages (WebSocket, IPC): a call and its reply, and pushed event batches. */
export interface CallMessage {
  readonly id: number;
  readonly method: UiMethod;
  readonly params: readonly unknown[];
}
export type HostMessage =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string }
  | { readonly events: readonly UiEvent[] };
