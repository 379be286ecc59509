// The recording's index: where its keyframes are, and how the recording ended. Written as the
// last chunk of a cleanly closed file; without it, found from the keyframes' trails (each
// keyframe lists the ones before it) or rebuilt by scanning chunk headers. Pure.

import type { Parsed } from './format';
import { parsePrintableJson } from '../../probe/wire-fields';

export interface KeyframeEntry {
  /** File offset of the keyframe chunk. */
  readonly offset: number;
  /** Frames before the keyframe: the state it holds is the one after frame seq - 1. */
  readonly seq: number;
  /** Time of the last frame before it, ms since the recording's start. */
  readonly timeMs: number;
}

/** How the recorded session ended, as the recorder was told it at close. */
export interface RecordingEnding {
  readonly exitCode: number | null;
  readonly warnings: readonly string[];
}

export interface IndexInfo {
  /** Frames in the file. */
  readonly frames: number;
  /** Time of the last frame, ms since the start. */
  readonly endMs: number;
  /** When the recorder was closed, ms since the start. */
  readonly closedAtMs: number;
  /** Where the data chunks end (the index chunk's offset). */
  readonly dataEnd: number;
  readonly ending: RecordingEnding | undefined;
}

const ENTRY_BYTES = 24;
/**
 * Each keyframe lists the ones before it, up to this many (its trail): a file without an index
 * finds them all from the last one in a few reads, instead of reading every chunk header.
 */
export const KEYFRAME_TRAIL = 16;
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** u32 JSON length, the JSON info, then the keyframe entries (below). */
export function encodeIndex(info: IndexInfo, keyframes: readonly KeyframeEntry[]): Uint8Array {
  const json = encoder.encode(JSON.stringify(info));
  const entries = encodeKeyframeEntries(keyframes);
  const out = new Uint8Array(4 + json.length + entries.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(entries, 4 + json.length);
  return out;
}

/** u32 entry count, then per keyframe f64 offset, seq, timeMs. */
export function encodeKeyframeEntries(keyframes: readonly KeyframeEntry[]): Uint8Array {
  const out = new Uint8Array(4 + keyframes.length * ENTRY_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, keyframes.length, true);
  let at = 4;
  for (const k of keyframes) {
    v.setFloat64(at, k.offset, true);
    v.setFloat64(at + 8, k.seq, true);
    v.setFloat64(at + 16, k.timeMs, true);
    at += ENTRY_BYTES;
  }
  return out;
}

/**
 * Keyframe entries, checked to lie in [dataStart, dataEnd) of the file, strictly in order, and
 * (for a keyframe's trail) before the keyframe that holds them.
 */
export function parseKeyframeEntries(bytes: Uint8Array, dataStart: number, dataEnd: number, before?: KeyframeEntry): Parsed<KeyframeEntry[]> {
  const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
  if (bytes.length < 4) return bad('cut short');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = v.getUint32(0, true);
  if (bytes.length - 4 !== count * ENTRY_BYTES) return bad('entry count does not match its length');
  const keyframes: KeyframeEntry[] = [];
  for (let i = 0, at = 4; i < count; i++, at += ENTRY_BYTES) {
    const k = { offset: v.getFloat64(at, true), seq: v.getFloat64(at + 8, true), timeMs: v.getFloat64(at + 16, true) };
    const prev = keyframes[keyframes.length - 1];
    if (!Number.isInteger(k.offset) || k.offset < dataStart || k.offset >= dataEnd || !Number.isInteger(k.seq) || k.seq < 0 || !finite(k.timeMs)) return bad(`keyframe ${i} is impossible`);
    if (prev && (k.offset <= prev.offset || k.seq < prev.seq || k.timeMs < prev.timeMs)) return bad(`keyframe ${i} is out of order`);
    keyframes.push(k);
  }
  const last = keyframes[keyframes.length - 1];
  if (last && before && (last.offset >= before.offset || last.seq > before.seq || last.timeMs > before.timeMs)) return bad('a keyframe\'s trail does not lead up to it');
  return { ok: true, value: keyframes };
}

function parseEnding(v: unknown): RecordingEnding | undefined | false {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) return false;
  const { exitCode, warnings } = v as Record<string, unknown>;
  if (!(exitCode === null || (Number.isInteger(exitCode)))) return false;
  if (!Array.isArray(warnings) || warnings.length > 1000 || !warnings.every((w) => typeof w === 'string')) return false;
  return { exitCode: exitCode as number | null, warnings };
}

/** Validates the index against the file it came from: every keyframe inside the data, in order. */
export function parseIndex(bytes: Uint8Array, dataStart: number): Parsed<{ info: IndexInfo; keyframes: KeyframeEntry[] }> {
  const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
  if (bytes.length < 8) return bad('cut short');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + jsonLength + 4 > bytes.length) return bad('cut short');
  let o: Record<string, unknown>;
  try {
    const parsed = parsePrintableJson(decoder.decode(bytes.subarray(4, 4 + jsonLength)));
    if (typeof parsed !== 'object' || parsed === null) return bad('not an object');
    o = parsed as Record<string, unknown>;
  } catch {
    return bad('not valid JSON');
  }
  const { frames, endMs, closedAtMs, dataEnd } = o;
  const ending = parseEnding(o['ending']);
  if (!finite(frames) || !finite(endMs) || !finite(closedAtMs) || !finite(dataEnd) || ending === false || dataEnd < dataStart) return bad('bad info');
  const keyframes = parseKeyframeEntries(bytes.subarray(4 + jsonLength), dataStart, dataEnd);
  if (!keyframes.ok) return keyframes;
  return { ok: true, value: { info: { frames, endMs, closedAtMs, dataEnd, ending }, keyframes: keyframes.value } };
}

/** The last keyframe at or before `timeMs`, by binary search; undefined when none is. */
export function keyframeAtOrBefore(keyframes: readonly KeyframeEntry[], timeMs: number): number | undefined {
  let lo = 0;
  let hi = keyframes.length - 1;
  let found: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (keyframes[mid]!.timeMs <= timeMs) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
