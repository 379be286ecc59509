// The hot messages, sent as binary: metrics samples, the dictionary of strings they refer
// to, and batches of lifecycle events in columns. Pure.

import { HEADER_BYTES, MAX_DICTIONARY_ENTRIES, MAX_DICTIONARY_LENGTH, MAX_EVENTS_PER_BATCH, MAX_GC_PER_SAMPLE, MAX_NAME_LENGTH, MAX_PERCENTILES_PER_SAMPLE, MAX_RESOURCES_PER_SAMPLE, MessageType, PROTOCOL_VERSION, TaskEventKind, WireError, WireLimitError, type GcKind, type GcPause, type MetricsSample, type ResourceCount, type TaskEventBatch } from './wire';
import { decoder, printable } from './wire-fields';
import { encoder, frame } from './wire-framing';

const GC_KINDS: readonly GcKind[] = ['unknown', 'minor', 'major', 'incremental', 'weakcb'];

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
/**
 * When a metrics sample was taken (µs on the target's clock), read without decoding the rest:
 * for looking along a stream whose dictionary one does not hold. Undefined for a short payload.
 */
export function metricsTimeUs(payload: Uint8Array): number | undefined {
  if (payload.byteLength < 24) return undefined;
  const t = new DataView(payload.buffer, payload.byteOffset, 24).getFloat64(16, true);
  return Number.isFinite(t) ? t : undefined;
}

export function decodeMetrics(payload: Uint8Array, dictionary: ReadonlyMap<number, string>): MetricsSample {
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

export function decodeDictionary(payload: Uint8Array): [number, string][] {
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
      s = printable(decoder.decode(payload.subarray(at + 8, at + 8 + len)));
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

// Task events: u32 count, u32 flags, then columns: f64 asyncId, f64 triggerId, f64 timeUs,
// u16 typeId, u8 kind, and with flag NAMED, u16 nameId (the callback's function name). Flag
// FIRST: the first batch since the hook was turned on.
const EVENT_BYTES = 8 * 3 + 2 + 1;
const NAMED = 1;
const FIRST = 2;

/** The bytes a frame of `count` task events takes, with the name column when `named`. */
export const taskEventsFrameBytes = (count: number, named = false): number => HEADER_BYTES + 8 + count * (EVENT_BYTES + (named ? 2 : 0));

/**
 * `nameIds`: the name column, sent only when given. `into`: a buffer to encode into (its
 * start, reused frame after frame: a batch's frame is hundreds of kB, which V8 would
 * otherwise allocate outside its young generation each time).
 */
export function encodeTaskEvents(count: number, kinds: Uint8Array, asyncIds: Float64Array, triggerIds: Float64Array,
  timesUs: Float64Array, typeIds: Uint16Array, nameIds?: Uint16Array, into?: ArrayBuffer, first = false): Uint8Array {
  const bytes = taskEventsFrameBytes(count, nameIds !== undefined);
  const out = into && into.byteLength >= bytes ? new Uint8Array(into, 0, bytes) : new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  // The length counts what follows it.
  view.setUint32(0, bytes - 4, true);
  view.setUint8(4, PROTOCOL_VERSION);
  view.setUint8(5, MessageType.TaskEvents);
  view.setUint32(8, count, true);
  view.setUint32(12, (nameIds ? NAMED : 0) | (first ? FIRST : 0), true);
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
  at += count;
  if (nameIds) out.set(new Uint8Array(nameIds.buffer, nameIds.byteOffset, count * 2), at);
  return out;
}

/** The strings `ids` refer to (for the events of `kind` only), each checked against the dictionary. */
function referred(ids: Uint16Array, kinds: Uint8Array, dictionary: ReadonlyMap<number, string>, what: string, column: string): Map<number, string> {
  const out = new Map<number, string>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (kinds[i] !== TaskEventKind.init || out.has(id) || (id === 0 && column === 'name')) continue;
    const s = dictionary.get(id);
    if (s === undefined) throw new WireError(`${what}: ${column} id ${id} is not in the dictionary`);
    out.set(id, s);
  }
  return out;
}

export function decodeTaskEvents(payload: Uint8Array, dictionary: ReadonlyMap<number, string>): TaskEventBatch {
  const what = 'task events';
  if (payload.byteLength < 8) throw new WireError(`${what}: payload is truncated`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const count = view.getUint32(0, true);
  const flags = view.getUint32(4, true);
  if (count > MAX_EVENTS_PER_BATCH) throw new WireError(`${what}: ${count} events in one batch, more than ${MAX_EVENTS_PER_BATCH}`);
  if ((flags & ~(NAMED | FIRST)) !== 0) throw new WireError(`${what}: unknown flags ${flags}`);
  const named = (flags & NAMED) !== 0;
  const first = (flags & FIRST) !== 0 ? { first: true } : {};
  const eventBytes = EVENT_BYTES + (named ? 2 : 0);
  if (payload.byteLength !== 8 + count * eventBytes) {
    throw new WireError(`${what}: payload is ${payload.byteLength} bytes, expected ${8 + count * eventBytes} for ${count} events`);
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
  for (let i = 0; i < count; i++) {
    if (kinds[i]! > TaskEventKind.turn) throw new WireError(`${what}: event ${i} has unknown kind ${kinds[i]}`);
    if (!Number.isFinite(timesUs[i]!) || !Number.isFinite(asyncIds[i]!) || !Number.isFinite(triggerIds[i]!)) {
      throw new WireError(`${what}: event ${i} has a non-finite number`);
    }
  }
  const types = referred(typeIds, kinds, dictionary, what, 'type');
  if (!named) return { count, kinds, asyncIds, triggerIds, timesUs, typeIds, types, ...first };
  const nameIds = new Uint16Array(body.slice(count * 27, count * 29).buffer);
  return { count, kinds, asyncIds, triggerIds, timesUs, typeIds, types, nameIds, names: referred(nameIds, kinds, dictionary, what, 'name'), ...first };
}
