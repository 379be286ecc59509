// Checks a session state that comes from outside (a recording's keyframe) before anything
// uses it: the shape the reducer makes, every number finite, every wire object valid as a
// frame would be. Pure. Whenever SessionState changes shape, this changes with it (and
// KEYFRAME_VERSION in recording/keyframe.ts is bumped).

import { MAX_NAME_LENGTH, MessageType, WireError, type BlockedReport, type ProbeMessage } from '../../probe/wire';
import { encodeBlocked, encodeDrops, encodeGoodbye, encodeHello, encodeProbePause, encodeProfilerState, encodeTasks } from '../../probe/wire-json';
import { addBlock, MAX_BLOCK_GROUPS, type BlockGroup } from './blocked-groups';
import { mainSource, NO_SOURCES, type StackSourceCounts } from '../common/stack-sources';
import { countNoStack, MAX_NO_STACK_REASONS, NO_NO_STACK, UNSAID, type NoStackCounts } from './no-stack-reasons';
import { ProbeDecoder } from '../../probe/wire-decoder';
import { jsonFrame } from '../../probe/wire-framing';
import { LAG_BUCKETS } from './lag-histogram';
import { initialHeapFloor, MAX_STRETCHES, type HeapFloor } from './heap-floor';
import { initialSessionState, KEPT_NOTICES, KEPT_PROBE_PAUSES, type SessionState } from './session-state';
import type { TasksState, TypeTotals } from './tasks-state';

export class StateError extends Error {
  override readonly name = 'StateError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks `value` has the shape of `reference` (a state the reducer made): the same keys with
 * the same kinds of values, recursively. What is inside arrays and records is checked below.
 */
function sameShape(value: unknown, reference: unknown, path: string): void {
  if (reference === undefined) return;
  if (typeof reference === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new StateError(`${path} is not a number`);
  } else if (typeof reference === 'string' || typeof reference === 'boolean') {
    if (typeof value !== typeof reference) throw new StateError(`${path} is not a ${typeof reference}`);
  } else if (Array.isArray(reference)) {
    if (!Array.isArray(value)) throw new StateError(`${path} is not a list`);
  } else if (isObject(reference)) {
    if (!isObject(value)) throw new StateError(`${path} is not an object`);
    for (const key of Object.keys(reference)) sameShape(value[key], reference[key], `${path}.${key}`);
  }
}

function numbers(v: unknown, path: string, maxLength: number): number[] {
  if (!Array.isArray(v) || v.length > maxLength || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
    throw new StateError(`${path} is not a list of at most ${maxLength} non-negative numbers`);
  }
  return v as number[];
}

function number(v: unknown, path: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new StateError(`${path} is not a number`);
}

function optionalNumber(v: unknown, path: string): void {
  if (v !== undefined) number(v, path);
}

const sparse = (v: unknown, path: string): void => {
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && numbers(p, path, 2))) {
    throw new StateError(`${path} is not a histogram`);
  }
};

/** Re-validates a wire object by encoding and decoding it as a frame. */
function viaWire<T>(value: unknown, encode: (v: never) => Uint8Array, pick: (m: ProbeMessage) => T | undefined): T {
  let frame: Uint8Array;
  try {
    frame = encode(value as never);
  } catch {
    // An encoder expects the shape it is typed for; anything else is not that message.
    throw new WireError('not a message of its kind');
  }
  const message = new ProbeDecoder().decode({ type: frame[5] as never, payload: frame.subarray(8) });
  const picked = pick(message);
  if (picked === undefined) throw new WireError('unexpected message');
  return picked;
}

function checkTasks(t: TasksState): TasksState {
  for (const [type, r] of Object.entries(t.byType as Record<string, unknown>)) {
    const path = `state.tasks.byType.${type}`;
    if (!isObject(r) || r['type'] !== type) throw new StateError(`${path} is not a resource type's totals`);
    for (const key of ['created', 'destroyed', 'alive', 'callbacks', 'callbackMaxUs', 'queueMaxUs'] as const) number(r[key], `${path}.${key}`);
    sparse(r['callbackUs'], `${path}.callbackUs`);
    sparse(r['queueUs'], `${path}.queueUs`);
    numbers(r['aliveSeries'], `${path}.aliveSeries`, 10_000);
  }
  sparse(t.threadpool.queueUs, 'state.tasks.threadpool.queueUs');
  sparse(t.timers.lateUs, 'state.tasks.timers.lateUs');
  sparse(t.fanOut.perCallback, 'state.tasks.fanOut.perCallback');
  // Slow callbacks and creation sites are checked as part of a tasks sample.
  const carried = viaWire({ ...emptyTasksSample, slowCallbacks: t.slowCallbacks, liveSites: t.liveSites }, encodeTasks, (m) => (m.type === 'tasks' ? m.sample : undefined));
  return {
    ...t,
    byType: t.byType as Readonly<Record<string, TypeTotals>>,
    slowCallbacks: carried.slowCallbacks,
    liveSites: carried.liveSites,
    latest: t.latest === undefined ? undefined : viaWire(t.latest, encodeTasks, (m) => (m.type === 'tasks' ? m.sample : undefined)),
  };
}

const emptyTasksSample = {
  timeUs: 0, intervalUs: 0, promisesTracked: false, types: [], untracked: 0,
  threadpool: { size: 0, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [] },
  timers: { fired: 0, lateUs: [], lateMaxUs: 0 },
  fanOut: { perCallback: [], max: 0, maxType: '' },
};

const STACK_SOURCES = new Set<unknown>([null, 'samples', 'interrupt', 'late-interrupt']);

function checkGroups(groups: readonly BlockGroup[], blocked: readonly BlockedReport[]): readonly BlockGroup[] {
  if (groups.length > MAX_BLOCK_GROUPS) throw new StateError(`state.blockGroups has more than ${MAX_BLOCK_GROUPS} groups`);
  return groups.map((g, i) => {
    const path = `state.blockGroups[${i}]`;
    if (!isObject(g) || typeof g.key !== 'string' || !STACK_SOURCES.has(g.stackSource)) throw new StateError(`${path} is not a group of blocks`);
    for (const key of ['count', 'totalUs', 'maxUs', 'longestStartUs', 'lastStartUs'] as const) number(g[key], `${path}.${key}`);
    // The stack as a blocked report's would be.
    const report = viaWire({ id: 0, state: 'ended', startUs: 0, durationUs: 0, stack: g.stack }, encodeBlocked, (m) => (m.type === 'blocked' ? m.report : undefined));
    const sources = checkSources(g.sources, g, `${path}.sources`);
    const noStack = checkNoStack(g.noStack, report.stack.length === 0 ? g.count : 0, blocked, `${path}.noStack`);
    // The badge says the counts' main source, whatever the file says beside them.
    return { ...g, stack: report.stack, sources, stackSource: mainSource(sources), noStack };
  });
}

/**
 * A group's blocks by source. Keyframes written before the counts kept only the source of the
 * group's first block: all its blocks are counted as that (all it can tell), as before.
 */
function checkSources(sources: StackSourceCounts | undefined, g: BlockGroup, path: string): StackSourceCounts {
  if (sources === undefined) return { ...NO_SOURCES, [g.stackSource ?? 'none']: g.count };
  if (!isObject(sources)) throw new StateError(`${path} is not an object`);
  let sum = 0;
  for (const key of Object.keys(NO_SOURCES) as (keyof StackSourceCounts)[]) {
    const n = sources[key];
    if (!Number.isSafeInteger(n) || n < 0) throw new StateError(`${path}.${key} is not a count of blocks`);
    sum += n;
  }
  if (sum !== g.count) throw new StateError(`${path} counts ${sum} blocks, the group ${g.count}`);
  return { samples: sources.samples, interrupt: sources.interrupt, 'late-interrupt': sources['late-interrupt'], none: sources.none };
}

/**
 * A group's blocks with no stack by why; `stackless`: how many it has (all, for a group with no
 * stack, else none). Keyframes written before the counts hold only the reasons of the stackless
 * reports the session kept (the longest): the group's other blocks count as giving none.
 */
function checkNoStack(counts: NoStackCounts | undefined, stackless: number, blocked: readonly BlockedReport[], path: string): NoStackCounts {
  if (counts === undefined) {
    const kept = blocked.filter((b) => b.state === 'ended' && b.stack.length === 0).slice(0, stackless).reduce(countNoStack, NO_NO_STACK);
    const rest = stackless - Object.values(kept).reduce((a, b) => a + b, 0);
    return rest > 0 ? { ...kept, [UNSAID]: (Object.hasOwn(kept, UNSAID) ? kept[UNSAID]! : 0) + rest } : kept;
  }
  if (!isObject(counts)) throw new StateError(`${path} is not an object`);
  const reasons = Object.keys(counts);
  if (reasons.filter((r) => r !== UNSAID).length > MAX_NO_STACK_REASONS) throw new StateError(`${path} has more than ${MAX_NO_STACK_REASONS} reasons`);
  let sum = 0;
  for (const reason of reasons) {
    if (reason.length > MAX_NAME_LENGTH) throw new StateError(`${path} has a reason longer than ${MAX_NAME_LENGTH} characters`);
    const n = counts[reason];
    if (!Number.isSafeInteger(n) || n! <= 0) throw new StateError(`${path} has a count that is not a count of blocks`);
    sum += n!;
  }
  if (sum !== stackless) throw new StateError(`${path} counts ${sum} blocks with no stack, the group ${stackless}`);
  return counts;
}

/**
 * What a keyframe written before the sampler lacks: its blocks grouped (from the reports it
 * kept), no pauses of the probe's own, no sampler.
 */
function withNewFields(value: unknown): unknown {
  if (!isObject(value) || value['blockGroups'] !== undefined || !Array.isArray(value['blocked'])) return value;
  let grouped = { groups: [] as readonly BlockGroup[], overflow: 0 };
  for (const b of value['blocked'] as unknown[]) {
    if (isObject(b) && b['state'] === 'ended' && Array.isArray(b['stack']) && typeof b['durationUs'] === 'number' && typeof b['startUs'] === 'number') {
      grouped = addBlock(grouped.groups, grouped.overflow, b as never);
    }
  }
  return { ...value, blockGroups: grouped.groups, ungroupedBlocks: grouped.overflow, probePauses: [] };
}

/** Keyframes written before notices have none. */
function withNotices(value: unknown): unknown {
  return isObject(value) && value['notices'] === undefined ? { ...value, notices: [] } : value;
}

/** Keyframes written before the heap's floor was kept start it afresh. */
function withHeapFloor(value: unknown): unknown {
  if (!isObject(value) || !isObject(value['totals']) || value['totals']['heapFloor'] !== undefined) return value;
  return { ...value, totals: { ...value['totals'], heapFloor: initialHeapFloor } };
}

function checkHeapFloor(h: HeapFloor): HeapFloor {
  optionalNumber(h.startUs, 'state.totals.heapFloor.startUs');
  if (!(h.stretchUs > 0)) throw new StateError('state.totals.heapFloor.stretchUs is not positive');
  if (h.floors.length > MAX_STRETCHES || !h.floors.every((f) => f === null || (typeof f === 'number' && Number.isFinite(f) && f >= 0))) {
    throw new StateError(`state.totals.heapFloor.floors is not a list of at most ${MAX_STRETCHES} sizes`);
  }
  return h;
}

/** The state in `value`, checked through and through; throws a StateError or WireError saying what is wrong. */
export function parseSessionState(value: unknown): SessionState {
  const migrated = withHeapFloor(withNotices(withNewFields(value)));
  sameShape(migrated, initialSessionState, 'state');
  const s = migrated as SessionState;
  optionalNumber(s.totals.firstSampleUs, 'state.totals.firstSampleUs');
  optionalNumber(s.totals.lastSampleUs, 'state.totals.lastSampleUs');
  if (numbers(s.totals.lag.counts, 'state.totals.lag.counts', LAG_BUCKETS).length !== LAG_BUCKETS) {
    throw new StateError(`state.totals.lag.counts does not have ${LAG_BUCKETS} buckets`);
  }
  const blocked = s.blocked.map((b) => viaWire(b, encodeBlocked, (m) => (m.type === 'blocked' ? m.report : undefined)));
  return {
    ...s,
    totals: { ...s.totals, heapFloor: checkHeapFloor(s.totals.heapFloor) },
    hello: s.hello === undefined ? undefined : viaWire(s.hello, encodeHello, (m) => (m.type === 'hello' ? m.hello : undefined)),
    goodbye: s.goodbye === undefined ? undefined : viaWire(s.goodbye, encodeGoodbye, (m) => (m.type === 'goodbye' ? m.goodbye : undefined)),
    drops: viaWire(s.drops, encodeDrops, (m) => (m.type === 'drops' ? m.drops : undefined)),
    blocked,
    tasks: checkTasks(s.tasks),
    blockGroups: checkGroups(s.blockGroups, blocked),
    probePauses: s.probePauses.slice(0, KEPT_PROBE_PAUSES).map((p) => viaWire(p, encodeProbePause, (m) => (m.type === 'probePause' ? m.pause : undefined))),
    profiler: s.profiler === undefined ? undefined : viaWire(s.profiler, encodeProfilerState, (m) => (m.type === 'profilerState' ? m.profiler : undefined)),
    // Framed as stored, not by encodeNotice: that clips names as the probe does, and a name too
    // long in a keyframe is as wrong as in a frame.
    notices: s.notices.slice(0, KEPT_NOTICES).map((n) => viaWire(n, (v: unknown) => jsonFrame(MessageType.Notice, v), (m) => (m.type === 'notice' ? m.notice : undefined))),
    // Keyframes written before it have none: the loop's source is then not known.
    gcSource: s.gcSource === undefined ? undefined : viaWire(s.gcSource, (v: unknown) => jsonFrame(MessageType.GcSource, v), (m) => (m.type === 'gcSource' ? m.gc : undefined)),
  };
}
