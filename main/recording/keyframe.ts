// Keyframes: the session state at a point in the recording, so that seeking does not have to
// re-reduce everything before it. Pure.
//
// A keyframe holds the state as JSON, except `recent` (up to 6000 metrics samples, which would
// make every keyframe megabytes): it says instead how many samples `recent` held and where in
// the file they are, and seeking decodes them again from there.
// The decoder's dictionary (ids the frames refer to) travels with it.
//
// A keyframe is only a cache of what reducing the frames gives; a reader that cannot use one
// (damaged, or from a loopscope whose state had another shape) reduces from an earlier one.

import {
  encodeBlocked, encodeDrops, encodeGoodbye, encodeHello, encodeTasks, ProbeDecoder, WireError,
  type ProbeMessage,
} from '../../probe/wire';
import { initialSessionState, type SessionState } from '../session/session-state';
import type { Parsed } from './format';

/** Bumped whenever the shape of what a keyframe stores changes. */
export const KEYFRAME_VERSION = 1;

/**
 * Where `recent`'s samples are, oldest first: a samples chunk (copies of metrics frames, when
 * they were spread thin among bulk data), or a range of frames chunks to read metrics from.
 */
export type RecentPart = { readonly samplesAt: number } | { readonly framesFrom: number; readonly framesTo: number };

export interface Keyframe {
  /** The state, with `recent` still to be filled in from the frames. */
  readonly state: SessionState;
  readonly recentCount: number;
  readonly recentParts: readonly RecentPart[];
  readonly dictionary: readonly (readonly [number, string])[];
}

/** More parts than this cannot be needed for 6000 samples in blocks of 100 (plus strays). */
const MAX_RECENT_PARTS = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeKeyframe(k: Keyframe): Uint8Array {
  const { recent: _recent, ...rest } = k.state;
  return encoder.encode(JSON.stringify({
    v: KEYFRAME_VERSION, recentCount: k.recentCount, recentParts: k.recentParts, dictionary: k.dictionary, state: rest,
  }));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks `value` has the shape of `reference` (a state the reducer made): the same keys with
 * the same kinds of values, recursively. Arrays and records of entries are only checked to be
 * arrays and objects here; what is inside them is checked by decoding it (below) or by the
 * reader trying the state on the views before it trusts it.
 */
function sameShape(value: unknown, reference: unknown, path: string): string | undefined {
  if (reference === undefined) return undefined;
  if (typeof reference === 'number') return typeof value === 'number' && Number.isFinite(value) ? undefined : `${path} is not a number`;
  if (typeof reference === 'string' || typeof reference === 'boolean') return typeof value === typeof reference ? undefined : `${path} is not a ${typeof reference}`;
  if (Array.isArray(reference)) return Array.isArray(value) ? undefined : `${path} is not a list`;
  if (isObject(reference)) {
    if (!isObject(value)) return `${path} is not an object`;
    for (const key of Object.keys(reference)) {
      const problem = sameShape(value[key], reference[key], `${path}.${key}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Re-validates a wire object stored in the keyframe by encoding and decoding it as a frame. */
function viaWire<T>(value: unknown, encode: (v: never) => Uint8Array, pick: (m: ProbeMessage) => T | undefined): T {
  const frame = encode(value as never);
  const type = frame[5]!;
  const message = new ProbeDecoder().decode({ type: type as never, payload: frame.subarray(8) });
  const picked = pick(message);
  if (picked === undefined) throw new WireError('unexpected message');
  return picked;
}

export function parseKeyframe(bytes: Uint8Array): Parsed<Keyframe> {
  let o: unknown;
  try {
    o = JSON.parse(decoder.decode(bytes));
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (!isObject(o)) return { ok: false, reason: 'not an object' };
  if (o['v'] !== KEYFRAME_VERSION) return { ok: false, reason: `keyframe version ${String(o['v'])}, this loopscope reads ${KEYFRAME_VERSION}` };
  const { recentCount, recentParts, dictionary, state } = o;
  if (typeof recentCount !== 'number' || !Number.isInteger(recentCount) || recentCount < 0) return { ok: false, reason: 'bad recent count' };
  const offset = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!Array.isArray(recentParts) || recentParts.length > MAX_RECENT_PARTS || !recentParts.every((p: unknown) => isObject(p)
    && (offset(p['samplesAt']) || (offset(p['framesFrom']) && offset(p['framesTo']) && (p['framesFrom'] as number) <= (p['framesTo'] as number))))) {
    return { ok: false, reason: 'bad recent parts' };
  }
  if (!Array.isArray(dictionary) || !dictionary.every((e: unknown) => Array.isArray(e) && e.length === 2 && Number.isInteger(e[0]) && e[0] >= 0 && e[0] <= 0xffffffff && typeof e[1] === 'string')) {
    return { ok: false, reason: 'bad dictionary' };
  }
  const { recent: _recent, ...reference } = initialSessionState;
  const problem = sameShape(state, reference, 'state');
  if (problem) return { ok: false, reason: problem };
  const s = state as Record<string, unknown> & Omit<SessionState, 'recent'>;
  try {
    const tasks = s.tasks as SessionState['tasks'];
    const restored: SessionState = {
      ...s,
      recent: [],
      hello: s.hello === undefined ? undefined : viaWire(s.hello, encodeHello, (m) => (m.type === 'hello' ? m.hello : undefined)),
      goodbye: s.goodbye === undefined ? undefined : viaWire(s.goodbye, encodeGoodbye, (m) => (m.type === 'goodbye' ? m.goodbye : undefined)),
      drops: viaWire(s.drops, encodeDrops, (m) => (m.type === 'drops' ? m.drops : undefined)),
      blocked: s.blocked.map((b) => viaWire(b, encodeBlocked, (m) => (m.type === 'blocked' ? m.report : undefined))),
      tasks: tasks.latest === undefined ? tasks : { ...tasks, latest: viaWire(tasks.latest, encodeTasks, (m) => (m.type === 'tasks' ? m.sample : undefined)) },
    };
    return { ok: true, value: { state: restored, recentCount, recentParts: recentParts as RecentPart[], dictionary: dictionary as [number, string][] } };
  } catch (err) {
    return { ok: false, reason: err instanceof WireError ? err.message : 'malformed state' };
  }
}
