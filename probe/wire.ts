// The loopscope wire format: framed messages between the probe (inside the target) and
// loopscope's main process. Pure: Uint8Array, DataView and TextEncoder only, so the probe,
// main and the renderer all share this one file.
//
// Frame layout (little endian):
//   u32 length   bytes that follow this field (header rest + payload)
//   u8  version  PROTOCOL_VERSION
//   u8  type     MessageType
//   u16 reserved 0
//   ... payload  (length - 4 bytes)
// The 8-byte header keeps binary payloads 8-byte aligned for Float64 columns.

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
  /** main → probe, JSON: change mode, interval, thresholds. */
  Configure: 16,
  /** main → probe, empty: turn everything off and disconnect. */
  Detach: 17,
  /** main → probe, JSON: the connection is refused, and why (e.g. a bad token). */
  Reject: 18,
} as const;
export type MessageTypeId = (typeof MessageType)[keyof typeof MessageType];

const KNOWN_TYPES = new Set<number>(Object.values(MessageType));

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
  readonly threadId: number;
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
}

/**
 * The bounds of the numeric settings, everywhere they are taken (the CLI, the UI's calls, the
 * probe's preload settings, the configure message): a heartbeat every few µs, or a threshold
 * below the beat's own jitter, would cost the target more than it tells.
 */
export const CONFIG_LIMITS = {
  intervalMs: { min: 10, max: 60_000 },
  blockThresholdMs: { min: 5, max: 600_000 },
} as const satisfies Readonly<Record<'intervalMs' | 'blockThresholdMs', { readonly min: number; readonly max: number }>>;

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
const GC_KINDS: readonly GcKind[] = ['unknown', 'minor', 'major', 'incremental', 'weakcb'];

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
}

export interface DropCounters {
  /** Frames the probe could not queue because loopscope read too slowly, by message type name. */
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
  /** Callback durations, µs, as a sparse log histogram (see log-histogram.ts). */
  readonly callbackUs: SparseHistogram;
  readonly callbackMaxUs: number;
  /** Time from a resource's creation to its first callback, µs. */
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

export interface TasksSample {
  readonly timeUs: number;
  readonly intervalUs: number;
  readonly promisesTracked: boolean;
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
    readonly maxType: string;
  };
  readonly slowCallbacks: readonly SlowCallback[];
  readonly liveSites: readonly CreationSite[];
  /** Resources not tracked because the probe's table was full. */
  readonly untracked: number;
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
}

export interface Goodbye {
  readonly reason: string;
  readonly exitCode?: number;
}

export interface Reject {
  readonly reason: string;
}

export type ProbeMessage =
  | { readonly type: 'hello'; readonly hello: Hello }
  | { readonly type: 'metrics'; readonly sample: MetricsSample }
  | { readonly type: 'blocked'; readonly report: BlockedReport }
  | { readonly type: 'drops'; readonly drops: DropCounters }
  | { readonly type: 'dictionary'; readonly entries: readonly (readonly [number, string])[] }
  | { readonly type: 'goodbye'; readonly goodbye: Goodbye }
  | { readonly type: 'tasks'; readonly sample: TasksSample }
  | { readonly type: 'taskEvents'; readonly batch: TaskEventBatch };

export type ControlMessage =
  | { readonly type: 'configure'; readonly config: Partial<ProbeConfig> }
  | { readonly type: 'detach' }
  | { readonly type: 'reject'; readonly reject: Reject };

import { LOG_BUCKETS, type SparseHistogram } from './log-histogram';

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

// ---------------------------------------------------------------------------------------
// Limits. Each is far above what a real session sends, and bounds what one connection or one
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
const MAX_JSON_BYTES: Readonly<Partial<Record<MessageTypeId, number>>> = {
  [MessageType.Hello]: MAX_HELLO_BYTES,
  [MessageType.Blocked]: MAX_BLOCKED_BYTES,
  [MessageType.Drops]: 64 * 1024,
  [MessageType.Goodbye]: 64 * 1024,
  [MessageType.Tasks]: 4 * 1024 * 1024,
};

/** A name shortened to MAX_NAME_LENGTH, for the probe to send. */
export function clipName(s: string): string {
  return s.length <= MAX_NAME_LENGTH ? s : `${s.slice(0, MAX_NAME_LENGTH - 1)}…`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------
// Framing

function frame(type: MessageTypeId, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, 4 + payload.byteLength, true);
  view.setUint8(4, PROTOCOL_VERSION);
  view.setUint8(5, type);
  out.set(payload, HEADER_BYTES);
  return out;
}

function jsonFrame(type: MessageTypeId, value: unknown): Uint8Array {
  return frame(type, encoder.encode(JSON.stringify(value)));
}

export interface RawFrame {
  readonly type: MessageTypeId;
  readonly payload: Uint8Array;
}

/**
 * Splits a byte stream into frames. Feed it chunks as they arrive; it validates every header
 * and throws a WireError on the first bad one (the stream cannot be resynchronised after that).
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): RawFrame[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
    }
    const frames: RawFrame[] = [];
    while (this.buffered >= HEADER_BYTES) {
      const header = this.peek(HEADER_BYTES);
      const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
      const length = view.getUint32(0, true);
      const version = view.getUint8(4);
      const type = view.getUint8(5);
      if (length < 4) throw new WireError(`bad frame length ${length}: shorter than the header`);
      if (length + 4 > this.maxFrameBytes) {
        throw new WireError(`bad frame length ${length}: larger than the ${this.maxFrameBytes}-byte limit`);
      }
      if (version !== PROTOCOL_VERSION) {
        throw new WireError(`unsupported protocol version ${version} (this loopscope speaks ${PROTOCOL_VERSION})`);
      }
      if (!KNOWN_TYPES.has(type)) throw new WireError(`unknown message type ${type}`);
      if (view.getUint16(6, true) !== 0) throw new WireError('bad frame header: reserved bits are set');
      const total = 4 + length;
      if (this.buffered < total) break;
      const bytes = this.take(total);
      frames.push({ type: type as MessageTypeId, payload: bytes.subarray(HEADER_BYTES) });
    }
    return frames;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.byteLength >= n) return first;
    this.chunks = [concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }

  private take(n: number): Uint8Array {
    const bytes = this.peek(n);
    const out = bytes.subarray(0, n);
    if (bytes.byteLength === n) this.chunks.shift();
    else this.chunks[0] = bytes.subarray(n);
    this.buffered -= n;
    return out;
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// JSON messages (rare): validated field by field, nothing trusted.

function parseJson(payload: Uint8Array, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    throw new WireError(`${what}: payload is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WireError(`${what}: payload is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WireError(`${what}: payload is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function num(o: Record<string, unknown>, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new WireError(`${what}: field "${key}" must be a finite number`);
  return v;
}

function str(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new WireError(`${what}: field "${key}" must be a string`);
  return v;
}

/** A string within MAX_NAME_LENGTH. */
function nameField(o: Record<string, unknown>, key: string, what: string): string {
  const v = str(o, key, what);
  if (v.length > MAX_NAME_LENGTH) throw new WireLimitError(`${what}: field "${key}" has ${v.length} characters, more than the limit of ${MAX_NAME_LENGTH}`);
  return v;
}

function optNameField(o: Record<string, unknown>, key: string, what: string): string | undefined {
  return o[key] === undefined ? undefined : nameField(o, key, what);
}

function strArray(o: Record<string, unknown>, key: string, what: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new WireError(`${what}: field "${key}" must be an array of strings`);
  }
  return v as string[];
}

function obj(o: Record<string, unknown>, key: string, what: string): Record<string, unknown> {
  const v = o[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError(`${what}: field "${key}" must be an object`);
  return v as Record<string, unknown>;
}

function mode(v: unknown, what: string): ProbeMode {
  if (typeof v !== 'string' || !(PROBE_MODES as readonly string[]).includes(v)) {
    throw new WireError(`${what}: mode must be one of ${PROBE_MODES.join(', ')}`);
  }
  return v as ProbeMode;
}

function bool(o: Record<string, unknown>, key: string, what: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new WireError(`${what}: field "${key}" must be true or false`);
  return v;
}

function parseConfig(o: Record<string, unknown>, what: string): ProbeConfig {
  return {
    mode: mode(o['mode'], what),
    promises: bool(o, 'promises', what),
    intervalMs: num(o, 'intervalMs', what),
    blockThresholdMs: num(o, 'blockThresholdMs', what),
  };
}

function parseHello(payload: Uint8Array): Hello {
  const what = 'hello';
  const o = parseJson(payload, what);
  const loadedBy = o['loadedBy'];
  if (loadedBy !== 'preload' && loadedBy !== 'inject') throw new WireError(`${what}: field "loadedBy" must be "preload" or "inject"`);
  return {
    protocol: num(o, 'protocol', what),
    token: str(o, 'token', what),
    probeVersion: str(o, 'probeVersion', what),
    pid: num(o, 'pid', what),
    ppid: num(o, 'ppid', what),
    nodeVersion: str(o, 'nodeVersion', what),
    platform: str(o, 'platform', what),
    arch: str(o, 'arch', what),
    argv: strArray(o, 'argv', what),
    execArgv: strArray(o, 'execArgv', what),
    title: str(o, 'title', what),
    cwd: str(o, 'cwd', what),
    threadId: num(o, 'threadId', what),
    timeOriginMs: num(o, 'timeOriginMs', what),
    config: parseConfig(obj(o, 'config', what), `${what}.config`),
    loadedBy,
    stackUnavailable: optNameField(o, 'stackUnavailable', what),
  };
}

function parseFrames(v: unknown, what: string): StackFrame[] {
  if (!Array.isArray(v)) throw new WireError(`${what}: field "stack" must be an array`);
  if (v.length > MAX_STACK_FRAMES) throw new WireLimitError(`${what}: stack has ${v.length} frames, more than the limit of ${MAX_STACK_FRAMES}`);
  return v.map((f: unknown, i) => {
    if (typeof f !== 'object' || f === null) throw new WireError(`${what}: stack frame ${i} is not an object`);
    const o = f as Record<string, unknown>;
    const w = `${what}.stack[${i}]`;
    return {
      functionName: nameField(o, 'functionName', w),
      url: nameField(o, 'url', w),
      lineNumber: num(o, 'lineNumber', w),
      columnNumber: num(o, 'columnNumber', w),
    };
  });
}

export const MAX_STACK_FRAMES = 64;

function parseBlocked(payload: Uint8Array): BlockedReport {
  const what = 'blocked report';
  const o = parseJson(payload, what);
  const state = o['state'];
  if (state !== 'ongoing' && state !== 'ended' && state !== 'cancelled') {
    throw new WireError(`${what}: field "state" must be "ongoing", "ended" or "cancelled"`);
  }
  const durationUs = num(o, 'durationUs', what);
  if (durationUs < 0) throw new WireError(`${what}: negative duration`);
  return {
    id: num(o, 'id', what),
    state,
    startUs: num(o, 'startUs', what),
    durationUs,
    stack: parseFrames(o['stack'], what),
    stackError: optNameField(o, 'stackError', what),
  };
}

function parseDrops(payload: Uint8Array): DropCounters {
  const what = 'drop counters';
  const o = parseJson(payload, what);
  const frames = obj(o, 'frames', what);
  const keys = Object.keys(frames);
  // One counter per message type at most.
  if (keys.length > 256) throw new WireLimitError(`${what}: ${keys.length} counters, more than the limit of 256`);
  const out: Record<string, number> = {};
  for (const key of keys) {
    if (key.length > MAX_NAME_LENGTH) throw new WireLimitError(`${what}: a counter's name has ${key.length} characters, more than the limit of ${MAX_NAME_LENGTH}`);
    out[key] = num(frames, key, `${what}.frames`);
  }
  return { frames: out, bytes: num(o, 'bytes', what) };
}

function parseGoodbye(payload: Uint8Array): Goodbye {
  const what = 'goodbye';
  const o = parseJson(payload, what);
  const exitCode = o['exitCode'] === undefined ? undefined : num(o, 'exitCode', what);
  return { reason: nameField(o, 'reason', what), exitCode };
}

// ---------------------------------------------------------------------------------------
// Binary messages: metrics and the dictionary.

// 20 values, then 1 reserved slot for a later field.
const METRICS_FIXED_F64 = 21;

/** Encodes a metrics sample; resource types are sent as dictionary ids. */
export function encodeMetrics(s: MetricsSample, typeIds: readonly number[]): Uint8Array {
  const n = METRICS_FIXED_F64 + s.gc.length * 3 + s.resources.length * 2 + s.lag.percentiles.length * 2;
  const payload = new Uint8Array(16 + n * 8);
  const view = new DataView(payload.buffer);
  view.setUint32(0, s.gc.length, true);
  view.setUint32(4, s.resources.length, true);
  view.setUint32(8, s.lag.percentiles.length, true);
  let at = 16;
  const put = (v: number): void => {
    view.setFloat64(at, v, true);
    at += 8;
  };
  const l = s.lag;
  for (const v of [s.timeUs, s.intervalUs, l.minUs, l.meanUs, l.p50Us, l.p90Us, l.p99Us, l.maxUs, l.count, l.stallMaxUs,
    s.utilization, s.cpuUserUs, s.cpuSystemUs, s.rssBytes, s.heapUsedBytes, s.heapTotalBytes, s.externalBytes,
    s.arrayBuffersBytes, s.probeMainUs, s.probeWorkerUs, 0]) put(v);
  for (const g of s.gc) {
    put(GC_KINDS.indexOf(g.kind));
    put(g.startUs);
    put(g.durationUs);
  }
  s.resources.forEach((r, i) => {
    put(typeIds[i]!);
    put(r.count);
  });
  for (const [p, v] of l.percentiles) {
    put(p);
    put(v);
  }
  return frame(MessageType.Metrics, payload);
}

/** A finite f64 at `at` (NaN and ±Infinity are rejected: nothing from the wire is trusted). */
function finiteF64(view: DataView, at: number, what: string): number {
  const v = view.getFloat64(at, true);
  if (v - v !== 0) throw new WireError(`${what}: non-finite number at byte ${at}`);
  return v;
}

// Straight-line reads at fixed offsets: replay decodes thousands of samples per seek, and a
// reader function per value (or an array of them) cost several times the decoding itself.
function decodeMetrics(payload: Uint8Array, dictionary: ReadonlyMap<number, string>): MetricsSample {
  const what = 'metrics';
  if (payload.byteLength < 16) throw new WireError(`${what}: payload of ${payload.byteLength} bytes is truncated`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const gcCount = view.getUint32(0, true);
  const resCount = view.getUint32(4, true);
  const pctCount = view.getUint32(8, true);
  const expected = 16 + (METRICS_FIXED_F64 + gcCount * 3 + resCount * 2 + pctCount * 2) * 8;
  if (payload.byteLength !== expected) {
    throw new WireError(`${what}: payload is ${payload.byteLength} bytes, expected ${expected} for ${gcCount} GC pauses, ${resCount} resource types and ${pctCount} percentiles`);
  }
  if (gcCount > MAX_GC_PER_SAMPLE || resCount > MAX_RESOURCES_PER_SAMPLE || pctCount > MAX_PERCENTILES_PER_SAMPLE) {
    throw new WireLimitError(`${what}: ${gcCount} GC pauses, ${resCount} resource types and ${pctCount} percentiles, more than the limits of ${MAX_GC_PER_SAMPLE}, ${MAX_RESOURCES_PER_SAMPLE} and ${MAX_PERCENTILES_PER_SAMPLE}`);
  }
  // The 20 fixed values, in the order encodeMetrics writes them; the reserved slot after
  // them is not read (probes before the probe's own times wrote 0 there, as in all three).
  const f = (i: number): number => finiteF64(view, 16 + i * 8, what);
  const timeUs = f(0);
  const intervalUs = f(1);
  const minUs = f(2);
  const meanUs = f(3);
  const p50Us = f(4);
  const p90Us = f(5);
  const p99Us = f(6);
  const maxUs = f(7);
  const count = f(8);
  const stallMaxUs = f(9);
  const utilization = f(10);
  const cpuUserUs = f(11);
  const cpuSystemUs = f(12);
  const rssBytes = f(13);
  const heapUsedBytes = f(14);
  const heapTotalBytes = f(15);
  const externalBytes = f(16);
  const arrayBuffersBytes = f(17);
  const probeMainUs = f(18);
  const probeWorkerUs = f(19);
  let at = 16 + METRICS_FIXED_F64 * 8;
  const gc: GcPause[] = new Array(gcCount);
  for (let i = 0; i < gcCount; i++, at += 24) {
    const kind = GC_KINDS[finiteF64(view, at, what)] ?? 'unknown';
    gc[i] = { kind, startUs: finiteF64(view, at + 8, what), durationUs: finiteF64(view, at + 16, what) };
  }
  const resources: ResourceCount[] = new Array(resCount);
  for (let i = 0; i < resCount; i++, at += 16) {
    const id = finiteF64(view, at, what);
    const type = dictionary.get(id);
    if (type === undefined) throw new WireError(`${what}: resource type id ${id} is not in the dictionary`);
    resources[i] = { type, count: finiteF64(view, at + 8, what) };
  }
  const percentiles: [number, number][] = new Array(pctCount);
  for (let i = 0; i < pctCount; i++, at += 16) percentiles[i] = [finiteF64(view, at, what), finiteF64(view, at + 8, what)];
  return {
    timeUs, intervalUs, utilization, cpuUserUs, cpuSystemUs, rssBytes, heapUsedBytes, heapTotalBytes, externalBytes, arrayBuffersBytes,
    lag: { minUs, meanUs, p50Us, p90Us, p99Us, maxUs, count, stallMaxUs, percentiles },
    gc, resources, probeMainUs, probeWorkerUs,
  };
}

/** Dictionary frame: u32 count, then per entry u32 id, u32 byte length, utf-8 bytes. */
export function encodeDictionary(entries: readonly (readonly [number, string])[]): Uint8Array {
  const encoded = entries.map(([id, s]) => [id, encoder.encode(s)] as const);
  const size = 4 + encoded.reduce((n, [, b]) => n + 8 + b.byteLength, 0);
  const payload = new Uint8Array(size);
  const view = new DataView(payload.buffer);
  view.setUint32(0, encoded.length, true);
  let at = 4;
  for (const [id, bytes] of encoded) {
    view.setUint32(at, id, true);
    view.setUint32(at + 4, bytes.byteLength, true);
    payload.set(bytes, at + 8);
    at += 8 + bytes.byteLength;
  }
  return frame(MessageType.Dictionary, payload);
}

function decodeDictionary(payload: Uint8Array): [number, string][] {
  const what = 'dictionary';
  if (payload.byteLength < 4) throw new WireError(`${what}: payload is truncated`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const count = view.getUint32(0, true);
  if (count > (payload.byteLength - 4) / 8) throw new WireError(`${what}: ${count} entries cannot fit in ${payload.byteLength} bytes`);
  if (count > MAX_DICTIONARY_ENTRIES) throw new WireLimitError(`${what}: more than the limit of ${MAX_DICTIONARY_ENTRIES} entries`);
  const entries: [number, string][] = [];
  let length = 0;
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 8 > payload.byteLength) throw new WireError(`${what}: entry ${i} of ${count} is truncated`);
    const id = view.getUint32(at, true);
    const len = view.getUint32(at + 4, true);
    if (at + 8 + len > payload.byteLength) throw new WireError(`${what}: entry ${i} says ${len} bytes but the payload ends first`);
    // UTF-8 takes at most 3 bytes per UTF-16 character: checked before decoding, then exactly.
    if (len > 3 * MAX_NAME_LENGTH) throw new WireLimitError(`${what}: entry ${i} has ${len} bytes, more than the limit of ${MAX_NAME_LENGTH} characters`);
    let s: string;
    try {
      s = decoder.decode(payload.subarray(at + 8, at + 8 + len));
    } catch {
      throw new WireError(`${what}: entry ${i} is not valid UTF-8`);
    }
    if (s.length > MAX_NAME_LENGTH) throw new WireLimitError(`${what}: entry ${i} has ${s.length} characters, more than the limit of ${MAX_NAME_LENGTH}`);
    length += s.length;
    if (length > MAX_DICTIONARY_LENGTH) throw new WireLimitError(`${what}: more than the limit of ${MAX_DICTIONARY_LENGTH} characters in all`);
    entries.push([id, s]);
    at += 8 + len;
  }
  if (at !== payload.byteLength) throw new WireError(`${what}: ${payload.byteLength - at} stray bytes after ${count} entries`);
  return entries;
}

// Task events: u32 count, u32 reserved, then columns: f64 asyncId, f64 triggerId, f64 timeUs,
// u16 typeId, u8 kind.
const EVENT_BYTES = 8 * 3 + 2 + 1;
export const MAX_EVENTS_PER_BATCH = 65_536;

export function encodeTaskEvents(count: number, kinds: Uint8Array, asyncIds: Float64Array, triggerIds: Float64Array,
  timesUs: Float64Array, typeIds: Uint16Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + 8 + count * EVENT_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, 4 + 8 + count * EVENT_BYTES, true);
  view.setUint8(4, PROTOCOL_VERSION);
  view.setUint8(5, MessageType.TaskEvents);
  view.setUint32(8, count, true);
  let at = HEADER_BYTES + 8;
  // The frame starts 8-aligned in its own buffer, so the f64 columns can be copied whole.
  new Float64Array(out.buffer, at, count).set(asyncIds.subarray(0, count));
  at += count * 8;
  new Float64Array(out.buffer, at, count).set(triggerIds.subarray(0, count));
  at += count * 8;
  new Float64Array(out.buffer, at, count).set(timesUs.subarray(0, count));
  at += count * 8;
  new Uint8Array(out.buffer, at, count * 2).set(new Uint8Array(typeIds.buffer, typeIds.byteOffset, count * 2));
  at += count * 2;
  out.set(kinds.subarray(0, count), at);
  return out;
}

function decodeTaskEvents(payload: Uint8Array, dictionary: ReadonlyMap<number, string>): TaskEventBatch {
  const what = 'task events';
  if (payload.byteLength < 8) throw new WireError(`${what}: payload is truncated`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const count = view.getUint32(0, true);
  if (count > MAX_EVENTS_PER_BATCH) throw new WireError(`${what}: ${count} events in one batch, more than ${MAX_EVENTS_PER_BATCH}`);
  if (payload.byteLength !== 8 + count * EVENT_BYTES) {
    throw new WireError(`${what}: payload is ${payload.byteLength} bytes, expected ${8 + count * EVENT_BYTES} for ${count} events`);
  }
  // Copy into aligned arrays: the payload may sit at any offset in the received chunk (and
  // a Node Buffer's slice() would not copy, so copy explicitly).
  const body = new Uint8Array(payload.byteLength - 8);
  body.set(payload.subarray(8));
  const asyncIds = new Float64Array(body.buffer, 0, count);
  const triggerIds = new Float64Array(body.buffer, count * 8, count);
  const timesUs = new Float64Array(body.buffer, count * 16, count);
  const typeIds = new Uint16Array(body.slice(count * 24, count * 26).buffer);
  const kinds = body.subarray(count * 26, count * 27);
  const types = new Map<number, string>();
  for (let i = 0; i < count; i++) {
    const kind = kinds[i]!;
    if (kind > TaskEventKind.turn) throw new WireError(`${what}: event ${i} has unknown kind ${kind}`);
    if (!Number.isFinite(timesUs[i]!) || !Number.isFinite(asyncIds[i]!) || !Number.isFinite(triggerIds[i]!)) {
      throw new WireError(`${what}: event ${i} has a non-finite number`);
    }
    if (kind === TaskEventKind.init && !types.has(typeIds[i]!)) {
      const name = dictionary.get(typeIds[i]!);
      if (name === undefined) throw new WireError(`${what}: type id ${typeIds[i]} is not in the dictionary`);
      types.set(typeIds[i]!, name);
    }
  }
  return { count, kinds, asyncIds, triggerIds, timesUs, typeIds, types };
}

function sparse(v: unknown, what: string): [number, number][] {
  if (!Array.isArray(v)) throw new WireError(`${what} must be an array`);
  if (v.length > LOG_BUCKETS) throw new WireLimitError(`${what} has ${v.length} buckets, more than the ${LOG_BUCKETS} there are`);
  return v.map((pair: unknown) => {
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
      throw new WireError(`${what} must hold [bucket, count] pairs of non-negative numbers`);
    }
    // Merged histograms are keyed by bucket: any other key would grow them without bound.
    if (!Number.isInteger(pair[0]) || (pair[0] as number) >= LOG_BUCKETS) throw new WireError(`${what} has a bucket ${String(pair[0])} that does not exist`);
    return [pair[0] as number, pair[1] as number];
  });
}

function arrayOf<T>(v: unknown, what: string, max: number, each: (o: Record<string, unknown>, w: string) => T): T[] {
  if (!Array.isArray(v)) throw new WireError(`${what} must be an array`);
  if (v.length > max) throw new WireLimitError(`${what} has ${v.length} entries, more than the limit of ${max}`);
  return v.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new WireError(`${what}[${i}] must be an object`);
    return each(item as Record<string, unknown>, `${what}[${i}]`);
  });
}

function parseTasks(payload: Uint8Array): TasksSample {
  const what = 'tasks';
  const o = parseJson(payload, what);
  const pool = obj(o, 'threadpool', what);
  const timers = obj(o, 'timers', what);
  const fan = obj(o, 'fanOut', what);
  return {
    timeUs: num(o, 'timeUs', what),
    intervalUs: num(o, 'intervalUs', what),
    promisesTracked: bool(o, 'promisesTracked', what),
    untracked: num(o, 'untracked', what),
    types: arrayOf(o['types'], `${what}.types`, 10_000, (t, w) => ({
      type: nameField(t, 'type', w), created: num(t, 'created', w), destroyed: num(t, 'destroyed', w), alive: num(t, 'alive', w),
      callbacks: num(t, 'callbacks', w), callbackUs: sparse(t['callbackUs'], `${w}.callbackUs`), callbackMaxUs: num(t, 'callbackMaxUs', w),
      queueUs: sparse(t['queueUs'], `${w}.queueUs`), queueMaxUs: num(t, 'queueMaxUs', w),
    })),
    threadpool: {
      size: num(pool, 'size', what), maxInFlight: num(pool, 'maxInFlight', what), maxQueued: num(pool, 'maxQueued', what),
      completed: num(pool, 'completed', what), queueUs: sparse(pool['queueUs'], `${what}.threadpool.queueUs`),
    },
    timers: { fired: num(timers, 'fired', what), lateUs: sparse(timers['lateUs'], `${what}.timers.lateUs`), lateMaxUs: num(timers, 'lateMaxUs', what) },
    fanOut: { perCallback: sparse(fan['perCallback'], `${what}.fanOut.perCallback`), max: num(fan, 'max', what), maxType: nameField(fan, 'maxType', what) },
    slowCallbacks: arrayOf(o['slowCallbacks'], `${what}.slowCallbacks`, 1000, (c, w) => ({
      type: nameField(c, 'type', w), asyncId: num(c, 'asyncId', w), startUs: num(c, 'startUs', w), durationUs: num(c, 'durationUs', w),
      initStack: parseFrames(c['initStack'], w),
    })),
    liveSites: arrayOf(o['liveSites'], `${what}.liveSites`, 1000, (c, w) => ({
      type: nameField(c, 'type', w), sampledAlive: num(c, 'sampledAlive', w), stack: parseFrames(c['stack'], w),
    })),
  };
}

// ---------------------------------------------------------------------------------------
// Public encoders for the JSON messages.

export const encodeHello = (h: Hello): Uint8Array => jsonFrame(MessageType.Hello, h);

/** A stack too large for MAX_BLOCKED_BYTES (only names near their limit make one) loses its outer half, again if need be. */
export function encodeBlocked(r: BlockedReport): Uint8Array {
  let frame = jsonFrame(MessageType.Blocked, r);
  for (let keep = r.stack.length >> 1; frame.byteLength - HEADER_BYTES > MAX_BLOCKED_BYTES && keep < r.stack.length; keep >>= 1) {
    frame = jsonFrame(MessageType.Blocked, { ...r, stack: r.stack.slice(0, keep) });
    if (keep === 0) break;
  }
  return frame;
}
export const encodeDrops = (d: DropCounters): Uint8Array => jsonFrame(MessageType.Drops, d);
export const encodeGoodbye = (g: Goodbye): Uint8Array => jsonFrame(MessageType.Goodbye, g);
export const encodeTasks = (t: TasksSample): Uint8Array => jsonFrame(MessageType.Tasks, t);
export const encodeConfigure = (c: Partial<ProbeConfig>): Uint8Array => jsonFrame(MessageType.Configure, c);
export const encodeDetach = (): Uint8Array => frame(MessageType.Detach, new Uint8Array(0));
export const encodeReject = (r: Reject): Uint8Array => jsonFrame(MessageType.Reject, r);

/** Name of a message type, for drop counters and errors. */
export function messageTypeName(type: number): string {
  for (const [name, id] of Object.entries(MessageType)) if (id === type) return name;
  return `type ${type}`;
}

/**
 * Decodes probe → main frames. Stateful only in the dictionary, which frames refer to by id.
 */
export class ProbeDecoder {
  private readonly dictionary = new Map<number, string>();
  private dictionaryLength = 0;

  decode(f: RawFrame): ProbeMessage {
    const limit = MAX_JSON_BYTES[f.type];
    if (limit !== undefined && f.payload.byteLength > limit) {
      throw new WireLimitError(`a ${messageTypeName(f.type)} frame of ${f.payload.byteLength} bytes, more than the limit of ${limit} for its kind`);
    }
    switch (f.type) {
      case MessageType.Hello:
        return { type: 'hello', hello: parseHello(f.payload) };
      case MessageType.Metrics:
        return { type: 'metrics', sample: decodeMetrics(f.payload, this.dictionary) };
      case MessageType.Blocked:
        return { type: 'blocked', report: parseBlocked(f.payload) };
      case MessageType.Drops:
        return { type: 'drops', drops: parseDrops(f.payload) };
      case MessageType.Dictionary: {
        const entries = decodeDictionary(f.payload);
        // The totals once these are in (an entry may replace one with its id).
        const next = new Map<number, string>();
        let length = this.dictionaryLength;
        for (const [id, s] of entries) {
          length += s.length - ((next.has(id) ? next.get(id) : this.dictionary.get(id))?.length ?? 0);
          next.set(id, s);
        }
        const size = this.dictionary.size + [...next.keys()].filter((id) => !this.dictionary.has(id)).length;
        if (size > MAX_DICTIONARY_ENTRIES) throw new WireLimitError(`dictionary: more than the limit of ${MAX_DICTIONARY_ENTRIES} entries`);
        if (length > MAX_DICTIONARY_LENGTH) throw new WireLimitError(`dictionary: more than the limit of ${MAX_DICTIONARY_LENGTH} characters in all`);
        for (const [id, s] of next) this.dictionary.set(id, s);
        this.dictionaryLength = length;
        return { type: 'dictionary', entries };
      }
      case MessageType.Goodbye:
        return { type: 'goodbye', goodbye: parseGoodbye(f.payload) };
      case MessageType.Tasks:
        return { type: 'tasks', sample: parseTasks(f.payload) };
      case MessageType.TaskEvents:
        return { type: 'taskEvents', batch: decodeTaskEvents(f.payload, this.dictionary) };
      default:
        throw new WireError(`message type ${messageTypeName(f.type)} is not sent by a probe`);
    }
  }
}

/** Decodes main → probe frames. */
export function decodeControl(f: RawFrame): ControlMessage {
  switch (f.type) {
    case MessageType.Configure: {
      const what = 'configure';
      const o = parseJson(f.payload, what);
      const config: { mode?: ProbeMode; promises?: boolean; intervalMs?: number; blockThresholdMs?: number } = {};
      if (o['mode'] !== undefined) config.mode = mode(o['mode'], what);
      if (o['promises'] !== undefined) config.promises = bool(o, 'promises', what);
      for (const key of ['intervalMs', 'blockThresholdMs'] as const) {
        if (o[key] === undefined) continue;
        const { min, max } = CONFIG_LIMITS[key];
        const value = num(o, key, what);
        if (value < min || value > max) throw new WireError(`${what}: field "${key}" must be from ${min} to ${max}`);
        config[key] = value;
      }
      return { type: 'configure', config };
    }
    case MessageType.Detach:
      if (f.payload.byteLength !== 0) throw new WireError('detach: payload must be empty');
      return { type: 'detach' };
    case MessageType.Reject:
      return { type: 'reject', reject: { reason: str(parseJson(f.payload, 'reject'), 'reason', 'reject') } };
    default:
      throw new WireError(`message type ${messageTypeName(f.type)} is not sent by loopscope`);
  }
}
