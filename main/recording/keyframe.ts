// Keyframes: the session state at a point in the recording, so that seeking does not have to
// re-reduce everything before it. Pure.
//
// A keyframe holds the state as JSON, but not the recent samples the views keep beside it (up
// to 6000, which would make every keyframe megabytes): it says instead how many were kept and
// where in the file they are, and seeking decodes them again from there.
// The decoder's dictionaries (ids the frames refer to) travel with it: the strings, and the CPU
// profile's frames and stack nodes (keyframes from before the sampler have none). A keyframe
// holds this for every loop of the session.
//
// A keyframe is only a cache of what reducing the frames gives; a reader that cannot use one
// (damaged, or from a loopscope whose state had another shape) reduces from an earlier one.

import { WireError, type ProfileDictionary } from '../../probe/wire';
import { parsePrintableJson } from '../../probe/wire-fields';
import type { SessionState } from '../session/session-state';
import { parseSessionState, StateError } from '../session/state-check';
import { RECENT_SAMPLES } from '../session/sample-ring';
import { MAX_LOOPS, type Parsed } from './format';

/** Bumped whenever the shape of what a keyframe stores changes (2: one entry per loop). */
export const KEYFRAME_VERSION = 2;

/**
 * Where `recent`'s samples are, oldest first: a samples chunk (copies of metrics frames, when
 * they were spread thin among bulk data), or a range of frames chunks to read metrics from.
 */
export type RecentPart = { readonly samplesAt: number } | { readonly framesFrom: number; readonly framesTo: number };

/** One loop at the keyframe. */
export interface LoopKeyframe {
  /** The loop number its frames carry. */
  readonly loop: number;
  /** The state; the samples the views keep beside it (`recent`) are read again from the frames. */
  readonly state: SessionState;
  readonly recentCount: number;
  /** Where its samples are: a range of chunks holds every loop's frames, a samples chunk only this loop's. */
  readonly recentParts: readonly RecentPart[];
  readonly dictionary: readonly (readonly [number, string])[];
  /** Checked by the decoder when a player restores it, as a frame's would be. */
  readonly profile?: ProfileDictionary;
}

export interface Keyframe {
  /** Every loop that had said hello, by loop number. */
  readonly loops: readonly LoopKeyframe[];
}

/**
 * More parts than this cannot be needed for RECENT_SAMPLES samples in blocks of 100, as
 * writers before the snapshots made them (plus strays); writers since make 5 at most.
 */
const MAX_RECENT_PARTS = 128;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeKeyframe(k: Keyframe): Uint8Array {
  return encoder.encode(JSON.stringify({
    v: KEYFRAME_VERSION,
    loops: k.loops.map((l) => ({
      loop: l.loop, recentCount: l.recentCount, recentParts: l.recentParts, dictionary: l.dictionary, state: l.state,
      ...(l.profile ? { profile: l.profile } : {}),
    })),
  }));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseKeyframe(bytes: Uint8Array): Parsed<Keyframe> {
  let o: unknown;
  try {
    o = parsePrintableJson(decoder.decode(bytes));
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (!isObject(o)) return { ok: false, reason: 'not an object' };
  // Version 1 (files of format version 1) held the one loop's fields at the top.
  if (o['v'] === 1) {
    const only = parseLoop({ ...o, loop: 0 });
    return only.ok ? { ok: true, value: { loops: [only.value] } } : only;
  }
  if (o['v'] !== KEYFRAME_VERSION) return { ok: false, reason: `keyframe version ${String(o['v'])}, this loopscope reads ${KEYFRAME_VERSION}` };
  const { loops } = o;
  if (!Array.isArray(loops) || loops.length > MAX_LOOPS) return { ok: false, reason: 'bad loops' };
  const out: LoopKeyframe[] = [];
  for (const entry of loops as unknown[]) {
    const parsed = isObject(entry) ? parseLoop(entry) : { ok: false as const, reason: 'a loop that is not an object' };
    if (!parsed.ok) return parsed;
    if (out.length > 0 && parsed.value.loop <= out[out.length - 1]!.loop) return { ok: false, reason: 'loops out of order' };
    out.push(parsed.value);
  }
  return { ok: true, value: { loops: out } };
}

/** No part of the file in two parts: a seek reads each chunk once at most (a crafted keyframe could make it read the file over and over). */
function eachReadOnce(parts: readonly RecentPart[]): boolean {
  const samples = parts.flatMap((p) => ('samplesAt' in p ? [p.samplesAt] : []));
  if (new Set(samples).size !== samples.length) return false;
  const ranges = parts.flatMap((p) => ('framesFrom' in p ? [p] : [])).sort((a, b) => a.framesFrom - b.framesFrom);
  return ranges.every((r, i) => i === 0 || r.framesFrom >= ranges[i - 1]!.framesTo);
}

function parseLoop(o: Record<string, unknown>): Parsed<LoopKeyframe> {
  const { loop, recentCount, recentParts, dictionary, state, profile } = o;
  if (typeof loop !== 'number' || !Number.isInteger(loop) || loop < 0 || loop >= MAX_LOOPS) return { ok: false, reason: 'bad loop number' };
  if (typeof recentCount !== 'number' || !Number.isInteger(recentCount) || recentCount < 0 || recentCount > RECENT_SAMPLES) return { ok: false, reason: 'bad recent count' };
  const offset = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!Array.isArray(recentParts) || recentParts.length > MAX_RECENT_PARTS || !recentParts.every((p: unknown) => isObject(p)
    && (offset(p['samplesAt']) || (offset(p['framesFrom']) && offset(p['framesTo']) && (p['framesFrom'] as number) <= (p['framesTo'] as number))))
    || !eachReadOnce(recentParts as RecentPart[])) {
    return { ok: false, reason: 'bad recent parts' };
  }
  if (!Array.isArray(dictionary) || !dictionary.every((e: unknown) => Array.isArray(e) && e.length === 2 && Number.isInteger(e[0]) && e[0] >= 0 && e[0] <= 0xffffffff && typeof e[1] === 'string')) {
    return { ok: false, reason: 'bad dictionary' };
  }
  if (profile !== undefined && !(isObject(profile) && typeof profile['reset'] === 'boolean' && Array.isArray(profile['frames']) && Array.isArray(profile['nodes']))) {
    return { ok: false, reason: 'bad profile dictionary' };
  }
  try {
    return {
      ok: true,
      value: {
        loop, state: parseSessionState(state), recentCount, recentParts: recentParts as RecentPart[], dictionary: dictionary as [number, string][],
        ...(profile === undefined ? {} : { profile: profile as unknown as ProfileDictionary }),
      },
    };
  } catch (err) {
    if (err instanceof StateError || err instanceof WireError) return { ok: false, reason: err.message };
    throw err;
  }
}
