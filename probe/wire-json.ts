// The rare messages, sent as JSON: their encoders, and their parsers, field by field. Pure.

import { clipName, CONFIG_LIMITS, GC_SOURCES, HEADER_BYTES, MAX_BLOCKED_BYTES, MAX_CREATED_STACKS, MAX_NAME_LENGTH, MAX_OTHER_STACKS, MessageType, NOTICE_KINDS, PROMISE_SKIPPINGS, UNFOLLOWED_CAUSES, WireError, WireLimitError, type BlockedReport, type BlockSampleKinds, type DropCounters, type GcSourceState, type Goodbye, type Hello, type LineSource, type Notice, type ProbeConfig, type ProbePause, type ProfilerState, type Reject, type StackSource, type TasksSample } from './wire';
import { arrayOf, bool, mode, nameField, num, obj, optNameField, optOneOf, parseFrames, parseJson, printable, sparse, str, strArray } from './wire-fields';
import { frame, jsonFrame } from './wire-framing';

function parseConfig(o: Record<string, unknown>, what: string): ProbeConfig {
  return {
    mode: mode(o['mode'], what),
    promises: bool(o, 'promises', what),
    intervalMs: num(o, 'intervalMs', what),
    blockThresholdMs: num(o, 'blockThresholdMs', what),
    // Probes before the sampler had none: their hellos say nothing of it.
    ...(o['profile'] === undefined ? {} : { profile: bool(o, 'profile', what) }),
    ...(o['sampleIntervalMs'] === undefined ? {} : { sampleIntervalMs: num(o, 'sampleIntervalMs', what) }),
  };
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, values: readonly T[], what: string): T {
  const v = o[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new WireError(`${what}: field "${key}" must be one of ${values.join(', ')}`);
  return v as T;
}

const STACK_SOURCES: readonly StackSource[] = ['samples', 'interrupt', 'late-interrupt'];
const LINE_SOURCES: readonly LineSource[] = ['samples', 'interrupt', 'source', 'function'];

/** The fields the sampler added to blocked reports; each absent from older probes' reports. */
function parseSampled(o: Record<string, unknown>, what: string): Partial<BlockedReport> {
  const count = (key: string): number => {
    const v = num(o, key, what);
    if (v < 0 || !Number.isInteger(v)) throw new WireError(`${what}: field "${key}" must be a count`);
    return v;
  };
  const out: { -readonly [K in keyof BlockedReport]?: BlockedReport[K] } = {};
  if (o['stackSource'] !== undefined) out.stackSource = oneOf(o, 'stackSource', STACK_SOURCES, what);
  if (o['lineSource'] !== undefined) out.lineSource = oneOf(o, 'lineSource', LINE_SOURCES, what);
  if (o['samples'] !== undefined) out.samples = count('samples');
  if (o['sampled'] !== undefined) out.sampled = count('sampled');
  if (o['sampleKinds'] !== undefined) {
    const k = obj(o, 'sampleKinds', what);
    const kinds: BlockSampleKinds = { gc: num(k, 'gc', what), idle: num(k, 'idle', what), program: num(k, 'program', what), probe: num(k, 'probe', what) };
    out.sampleKinds = kinds;
  }
  if (o['unsampled'] !== undefined) out.unsampled = nameField(o, 'unsampled', what);
  if (o['otherStacks'] !== undefined) {
    out.otherStacks = arrayOf(o['otherStacks'], `${what}.otherStacks`, MAX_OTHER_STACKS, (s, w) => ({ stack: parseFrames(s['stack'], w), samples: num(s, 'samples', w) }));
  }
  return out;
}

export function parseHello(payload: Uint8Array): Hello {
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
    threadName: optNameField(o, 'threadName', what),
    timeOriginMs: num(o, 'timeOriginMs', what),
    config: parseConfig(obj(o, 'config', what), `${what}.config`),
    loadedBy,
    stackUnavailable: optNameField(o, 'stackUnavailable', what),
  };
}

export function parseBlocked(payload: Uint8Array): BlockedReport {
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
    ...parseSampled(o, what),
  };
}

export function parseProbePause(payload: Uint8Array): ProbePause {
  const what = 'probe pause';
  const o = parseJson(payload, what);
  const durationUs = num(o, 'durationUs', what);
  if (durationUs < 0) throw new WireError(`${what}: negative duration`);
  return { what: nameField(o, 'what', what), startUs: num(o, 'startUs', what), durationUs };
}

export function parseProfilerState(payload: Uint8Array): ProfilerState {
  const what = 'profiler state';
  const o = parseJson(payload, what);
  const intervalMs = num(o, 'intervalMs', what);
  const { min, max } = CONFIG_LIMITS.sampleIntervalMs;
  if (intervalMs < min || intervalMs > max) throw new WireError(`${what}: field "intervalMs" must be from ${min} to ${max}`);
  const reason = optNameField(o, 'reason', what);
  return { state: oneOf(o, 'state', ['on', 'off', 'paused'] as const, what), intervalMs, ...(reason === undefined ? {} : { reason }) };
}

export function parseGcSource(payload: Uint8Array): GcSourceState {
  const what = 'GC source';
  const o = parseJson(payload, what);
  const reason = optNameField(o, 'reason', what);
  return { source: oneOf(o, 'source', GC_SOURCES, what), ...(reason === undefined ? {} : { reason }) };
}

export function parseNotice(payload: Uint8Array): Notice {
  const what = 'notice';
  const o = parseJson(payload, what);
  const kind = oneOf(o, 'kind', NOTICE_KINDS, what);
  switch (kind) {
    case 'worker-unfollowed': {
      const threadId = num(o, 'threadId', what);
      // Worker threads are numbered from 1; 0 is the main thread, which is never unfollowed.
      if (!Number.isInteger(threadId) || threadId < 1) throw new WireError(`${what}: field "threadId" must be a worker's thread id (an integer from 1)`);
      return {
        kind,
        timeUs: num(o, 'timeUs', what),
        threadId,
        name: nameField(o, 'name', what),
        cause: oneOf(o, 'cause', UNFOLLOWED_CAUSES, what),
        reason: nameField(o, 'reason', what),
      };
    }
  }
}

export function parseDrops(payload: Uint8Array): DropCounters {
  const what = 'drop counters';
  const o = parseJson(payload, what);
  const frames = obj(o, 'frames', what);
  const keys = Object.keys(frames);
  // One counter per message type at most.
  if (keys.length > 256) throw new WireLimitError(`${what}: ${keys.length} counters, more than the limit of 256`);
  const out: Record<string, number> = {};
  for (const key of keys) {
    if (key.length > MAX_NAME_LENGTH) throw new WireLimitError(`${what}: a counter's name has ${key.length} characters, more than the limit of ${MAX_NAME_LENGTH}`);
    // A key is no string value: the parse left it as it came.
    out[printable(key)] = num(frames, key, `${what}.frames`);
  }
  return { frames: out, bytes: num(o, 'bytes', what) };
}

export function parseGoodbye(payload: Uint8Array): Goodbye {
  const what = 'goodbye';
  const o = parseJson(payload, what);
  const exitCode = o['exitCode'] === undefined ? undefined : num(o, 'exitCode', what);
  return { reason: nameField(o, 'reason', what), exitCode };
}

export function parseTasks(payload: Uint8Array): TasksSample {
  const what = 'tasks';
  const o = parseJson(payload, what);
  const pool = obj(o, 'threadpool', what);
  const timers = obj(o, 'timers', what);
  const fan = obj(o, 'fanOut', what);
  return {
    timeUs: num(o, 'timeUs', what),
    intervalUs: num(o, 'intervalUs', what),
    promisesTracked: bool(o, 'promisesTracked', what),
    promiseSkipping: optOneOf(o, 'promiseSkipping', PROMISE_SKIPPINGS, what),
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
    ...(o['fromEvents'] === undefined ? {} : { fromEvents: parseFromEvents(obj(o, 'fromEvents', what), `${what}.fromEvents`) }),
  };
}

function parseFromEvents(o: Record<string, unknown>, what: string): NonNullable<TasksSample['fromEvents']> {
  return { stacks: arrayOf(o['stacks'], `${what}.stacks`, MAX_CREATED_STACKS, (c, w) => ({ asyncId: num(c, 'asyncId', w), stack: parseFrames(c['stack'], w) })) };
}

export const encodeHello = (h: Hello): Uint8Array => jsonFrame(MessageType.Hello, h);

/**
 * A report too large for MAX_BLOCKED_BYTES (only names near their limit make one) loses its
 * other stacks first, then its stack's outer half, again if need be.
 */
export function encodeBlocked(r: BlockedReport): Uint8Array {
  let frame = jsonFrame(MessageType.Blocked, r);
  if (frame.byteLength - HEADER_BYTES <= MAX_BLOCKED_BYTES || r.otherStacks === undefined) return shortenStack(r, frame);
  const { otherStacks: _dropped, ...rest } = r;
  frame = jsonFrame(MessageType.Blocked, rest);
  return shortenStack(rest, frame);
}

function shortenStack(r: BlockedReport, encoded: Uint8Array): Uint8Array {
  let frame = encoded;
  for (let keep = r.stack.length >> 1; frame.byteLength - HEADER_BYTES > MAX_BLOCKED_BYTES && keep < r.stack.length; keep >>= 1) {
    frame = jsonFrame(MessageType.Blocked, { ...r, stack: r.stack.slice(0, keep) });
    if (keep === 0) break;
  }
  return frame;
}

export const encodeProbePause = (p: ProbePause): Uint8Array => jsonFrame(MessageType.ProbePause, p);

export const encodeProfilerState = (p: ProfilerState): Uint8Array => jsonFrame(MessageType.ProfilerState, p);

/** The probe clips the names it did not make (a worker's name, an error's text) to the wire's limit. */
export const encodeNotice = (n: Notice): Uint8Array => jsonFrame(MessageType.Notice, { ...n, name: clipName(n.name), reason: clipName(n.reason) });

export const encodeGcSource = (g: GcSourceState): Uint8Array => jsonFrame(MessageType.GcSource, g.reason === undefined ? g : { ...g, reason: clipName(g.reason) });

export const encodeDrops = (d: DropCounters): Uint8Array => jsonFrame(MessageType.Drops, d);

export const encodeGoodbye = (g: Goodbye): Uint8Array => jsonFrame(MessageType.Goodbye, g);

export const encodeTasks = (t: TasksSample): Uint8Array => jsonFrame(MessageType.Tasks, t);

export const encodeConfigure = (c: Partial<ProbeConfig>): Uint8Array => jsonFrame(MessageType.Configure, c);

export const encodeDetach = (): Uint8Array => frame(MessageType.Detach, new Uint8Array(0));

export const encodeReject = (r: Reject): Uint8Array => jsonFrame(MessageType.Reject, r);
