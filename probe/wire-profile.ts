// The CPU sampler's messages, binary: the profile's dictionary (call frames and stack nodes,
// each sent once) and the harvests of samples that refer to its nodes by id. Pure.
//
// A stack is sent as one node id per sample, as V8 builds its profiles: a node is a frame
// called from its parent node. So a harvest of a busy second at 20 ms is 50 node ids and 50
// time offsets (400 bytes), whatever the depth of its stacks.
//
// ProfileDictionary payload (little endian):
//   u32 flags (bit 0: reset: forget every frame and node before these), u32 frames, u32 nodes,
//   u32 reserved;
//   per frame: u32 id, u8 kind, u8 0, u16 0, u32 line, u32 column, u32 name bytes, u32 url
//   bytes, then the name and the url (UTF-8);
//   per node: u32 id, u32 parent (0: a root), u32 frame id.
// ProfileSamples payload:
//   f64 fromUs, f64 toUs, u32 intervalUs, u32 samples, u32 line ticks, u32 reserved;
//   samples × u32 node id; samples × u32 µs after fromUs (increasing); line ticks × (u32 node
//   id, u32 line, u32 samples).

import { MAX_NAME_LENGTH, MAX_PROFILE_FRAMES, MAX_PROFILE_NODES, MAX_PROFILE_TEXT, MAX_SAMPLES_PER_BATCH, MessageType, PROFILE_FRAME_KINDS, WireError, WireLimitError, type ProfileBatch, type ProfileDictionary, type ProfileFrame } from './wire';
import { decoder, printable } from './wire-fields';
import { encoder, frame } from './wire-framing';

const DICTIONARY_HEADER = 16;
const FRAME_FIXED = 24;
const NODE_BYTES = 12;
const SAMPLES_HEADER = 32;

export function encodeProfileDictionary(d: ProfileDictionary): Uint8Array {
  const texts = d.frames.map(([, f]) => [encoder.encode(f.functionName), encoder.encode(f.url)] as const);
  const size = DICTIONARY_HEADER + texts.reduce((n, [name, url]) => n + FRAME_FIXED + name.byteLength + url.byteLength, 0) + d.nodes.length * NODE_BYTES;
  const payload = new Uint8Array(size);
  const view = new DataView(payload.buffer);
  view.setUint32(0, d.reset ? 1 : 0, true);
  view.setUint32(4, d.frames.length, true);
  view.setUint32(8, d.nodes.length, true);
  let at = DICTIONARY_HEADER;
  d.frames.forEach(([id, f], i) => {
    const [name, url] = texts[i]!;
    view.setUint32(at, id, true);
    view.setUint8(at + 4, PROFILE_FRAME_KINDS.indexOf(f.kind));
    view.setUint32(at + 8, f.lineNumber, true);
    view.setUint32(at + 12, f.columnNumber, true);
    view.setUint32(at + 16, name.byteLength, true);
    view.setUint32(at + 20, url.byteLength, true);
    payload.set(name, at + FRAME_FIXED);
    payload.set(url, at + FRAME_FIXED + name.byteLength);
    at += FRAME_FIXED + name.byteLength + url.byteLength;
  });
  for (const [id, parent, frameId] of d.nodes) {
    view.setUint32(at, id, true);
    view.setUint32(at + 4, parent, true);
    view.setUint32(at + 8, frameId, true);
    at += NODE_BYTES;
  }
  return frame(MessageType.ProfileDictionary, payload);
}

function text(payload: Uint8Array, at: number, length: number, what: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 character: checked before decoding, then exactly.
  if (length > 3 * MAX_NAME_LENGTH) throw new WireLimitError(`${what}: a name of ${length} bytes, more than the limit of ${MAX_NAME_LENGTH} characters`);
  let s: string;
  try {
    s = printable(decoder.decode(payload.subarray(at, at + length)));
  } catch {
    throw new WireError(`${what}: a name is not valid UTF-8`);
  }
  if (s.length > MAX_NAME_LENGTH) throw new WireLimitError(`${what}: a name of ${s.length} characters, more than the limit of ${MAX_NAME_LENGTH}`);
  return s;
}

/** The dictionary's entries as written; the references between them are checked by ProfileTables. */
export function decodeProfileDictionary(payload: Uint8Array): ProfileDictionary {
  const what = 'profile dictionary';
  if (payload.byteLength < DICTIONARY_HEADER) throw new WireError(`${what}: payload is truncated`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const flags = view.getUint32(0, true);
  const frameCount = view.getUint32(4, true);
  const nodeCount = view.getUint32(8, true);
  if (flags > 1) throw new WireError(`${what}: unknown flags ${flags}`);
  if (frameCount > MAX_PROFILE_FRAMES || nodeCount > MAX_PROFILE_NODES) {
    throw new WireLimitError(`${what}: ${frameCount} frames and ${nodeCount} nodes, more than the limits of ${MAX_PROFILE_FRAMES} and ${MAX_PROFILE_NODES}`);
  }
  if (DICTIONARY_HEADER + frameCount * FRAME_FIXED + nodeCount * NODE_BYTES > payload.byteLength) {
    throw new WireError(`${what}: ${frameCount} frames and ${nodeCount} nodes cannot fit in ${payload.byteLength} bytes`);
  }
  const frames: [number, ProfileFrame][] = [];
  let at = DICTIONARY_HEADER;
  for (let i = 0; i < frameCount; i++) {
    if (at + FRAME_FIXED > payload.byteLength) throw new WireError(`${what}: frame ${i} of ${frameCount} is truncated`);
    const kind = PROFILE_FRAME_KINDS[view.getUint8(at + 4)];
    if (kind === undefined) throw new WireError(`${what}: frame ${i} has an unknown kind ${view.getUint8(at + 4)}`);
    const nameBytes = view.getUint32(at + 16, true);
    const urlBytes = view.getUint32(at + 20, true);
    if (at + FRAME_FIXED + nameBytes + urlBytes > payload.byteLength) throw new WireError(`${what}: frame ${i} says ${nameBytes + urlBytes} bytes of names but the payload ends first`);
    frames.push([view.getUint32(at, true), {
      functionName: text(payload, at + FRAME_FIXED, nameBytes, what),
      url: text(payload, at + FRAME_FIXED + nameBytes, urlBytes, what),
      lineNumber: view.getUint32(at + 8, true),
      columnNumber: view.getUint32(at + 12, true),
      kind,
    }]);
    at += FRAME_FIXED + nameBytes + urlBytes;
  }
  if (at + nodeCount * NODE_BYTES !== payload.byteLength) throw new WireError(`${what}: ${payload.byteLength - at} bytes after ${frameCount} frames, for ${nodeCount} nodes of ${NODE_BYTES}`);
  const nodes: [number, number, number][] = new Array(nodeCount);
  for (let i = 0; i < nodeCount; i++, at += NODE_BYTES) nodes[i] = [view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true)];
  return { reset: flags === 1, frames, nodes };
}

export function encodeProfileSamples(b: ProfileBatch): Uint8Array {
  const payload = new Uint8Array(SAMPLES_HEADER + b.count * 8 + b.lineTicks.length * 4);
  const view = new DataView(payload.buffer);
  view.setFloat64(0, b.fromUs, true);
  view.setFloat64(8, b.toUs, true);
  view.setUint32(16, b.intervalUs, true);
  view.setUint32(20, b.count, true);
  view.setUint32(24, b.lineTicks.length / 3, true);
  let at = SAMPLES_HEADER;
  for (let i = 0; i < b.count; i++, at += 4) view.setUint32(at, b.nodeIds[i]!, true);
  for (let i = 0; i < b.count; i++, at += 4) view.setUint32(at, Math.round(b.timesUs[i]! - b.fromUs), true);
  for (let i = 0; i < b.lineTicks.length; i++, at += 4) view.setUint32(at, b.lineTicks[i]!, true);
  return frame(MessageType.ProfileSamples, payload);
}

/** `hasNode`: whether the dictionary so far holds a node id (samples may refer to no other). */
export function decodeProfileSamples(payload: Uint8Array, hasNode: (id: number) => boolean): ProfileBatch {
  const what = 'profile samples';
  if (payload.byteLength < SAMPLES_HEADER) throw new WireError(`${what}: payload is truncated`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const fromUs = view.getFloat64(0, true);
  const toUs = view.getFloat64(8, true);
  const intervalUs = view.getUint32(16, true);
  const count = view.getUint32(20, true);
  const ticks = view.getUint32(24, true);
  if (!Number.isFinite(fromUs) || !Number.isFinite(toUs) || toUs < fromUs) throw new WireError(`${what}: bad time range`);
  if (count > MAX_SAMPLES_PER_BATCH || ticks > MAX_SAMPLES_PER_BATCH) throw new WireLimitError(`${what}: ${count} samples and ${ticks} line ticks, more than the limit of ${MAX_SAMPLES_PER_BATCH}`);
  if (payload.byteLength !== SAMPLES_HEADER + count * 8 + ticks * 12) {
    throw new WireError(`${what}: payload is ${payload.byteLength} bytes, expected ${SAMPLES_HEADER + count * 8 + ticks * 12} for ${count} samples and ${ticks} line ticks`);
  }
  const nodeIds = new Uint32Array(count);
  const timesUs = new Float64Array(count);
  let at = SAMPLES_HEADER;
  for (let i = 0; i < count; i++, at += 4) {
    const id = view.getUint32(at, true);
    if (!hasNode(id)) throw new WireError(`${what}: sample ${i} refers to node ${id}, which is not in the dictionary`);
    nodeIds[i] = id;
  }
  let last = -1;
  for (let i = 0; i < count; i++, at += 4) {
    const offset = view.getUint32(at, true);
    if (offset <= last || fromUs + offset > toUs) throw new WireError(`${what}: sample ${i}'s time is out of order or out of range`);
    last = offset;
    timesUs[i] = fromUs + offset;
  }
  const lineTicks = new Uint32Array(ticks * 3);
  for (let i = 0; i < ticks * 3; i++, at += 4) lineTicks[i] = view.getUint32(at, true);
  for (let i = 0; i < ticks * 3; i += 3) if (!hasNode(lineTicks[i]!)) throw new WireError(`${what}: a line tick refers to node ${lineTicks[i]}, which is not in the dictionary`);
  return { fromUs, toUs, intervalUs, count, nodeIds, timesUs, lineTicks };
}

/**
 * The profile's dictionary as the decoder holds it: what samples may refer to, within the
 * limits, from the last reset on. Its whole content, as one dictionary, restores a decoder
 * (a recording's keyframe).
 */
export class ProfileTables {
  private readonly frames = new Map<number, ProfileFrame>();
  /** node id → [parent, frame id] */
  private readonly nodes = new Map<number, readonly [number, number]>();
  private textLength = 0;

  hasNode = (id: number): boolean => this.nodes.has(id);

  /** Checks `d` against what is held, then takes it in; throws a WireError, taking nothing, when it does not fit. */
  add(d: ProfileDictionary): void {
    const what = 'profile dictionary';
    // Checked against what is held (nothing, after a reset) and what this adds, before any of it is taken.
    const heldFrames = d.reset ? undefined : this.frames;
    const heldNodes = d.reset ? undefined : this.nodes;
    const newFrames = new Map<number, ProfileFrame>();
    let textLength = d.reset ? 0 : this.textLength;
    for (const [id, f] of d.frames) {
      const old = newFrames.get(id) ?? heldFrames?.get(id);
      textLength += f.functionName.length + f.url.length - (old ? old.functionName.length + old.url.length : 0);
      newFrames.set(id, f);
    }
    const frameCount = (heldFrames?.size ?? 0) + [...newFrames.keys()].filter((id) => !heldFrames?.has(id)).length;
    if (frameCount > MAX_PROFILE_FRAMES || textLength > MAX_PROFILE_TEXT) throw new WireLimitError(`${what}: more than the limits of ${MAX_PROFILE_FRAMES} frames and ${MAX_PROFILE_TEXT} characters`);
    const newNodes = new Map<number, readonly [number, number]>();
    for (const [id, parent, frameId] of d.nodes) {
      if (id === 0) throw new WireError(`${what}: node id 0 is reserved for "no parent"`);
      // Parents come first and a node is never redefined, so no chain of parents can loop.
      if (newNodes.has(id) || heldNodes?.has(id)) throw new WireError(`${what}: node ${id} is defined twice`);
      if (!newFrames.has(frameId) && !heldFrames?.has(frameId)) throw new WireError(`${what}: node ${id} refers to frame ${frameId}, which is not in the dictionary`);
      if (parent !== 0 && !newNodes.has(parent) && !heldNodes?.has(parent)) throw new WireError(`${what}: node ${id} refers to parent ${parent}, which is not in the dictionary`);
      newNodes.set(id, [parent, frameId]);
    }
    const nodeCount = (heldNodes?.size ?? 0) + [...newNodes.keys()].filter((id) => !heldNodes?.has(id)).length;
    if (nodeCount > MAX_PROFILE_NODES) throw new WireLimitError(`${what}: more than the limit of ${MAX_PROFILE_NODES} nodes`);
    if (d.reset) {
      this.frames.clear();
      this.nodes.clear();
    }
    for (const [id, f] of newFrames) this.frames.set(id, f);
    for (const [id, n] of newNodes) this.nodes.set(id, n);
    this.textLength = textLength;
  }

  /** Everything held, as one dictionary that resets. */
  snapshot(): ProfileDictionary {
    return { reset: true, frames: [...this.frames], nodes: [...this.nodes].map(([id, [parent, frameId]]) => [id, parent, frameId] as const) };
  }

  get empty(): boolean {
    return this.frames.size === 0 && this.nodes.size === 0;
  }
}
