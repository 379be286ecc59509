// The recording file format, version 2 (RECORDING.md describes it for people): byte layouts
// and their validating parsers. Pure: bytes in, values or a reason out. Nothing read from a
// file is trusted, so every parser checks every length, count and checksum before use.

import { crc32 } from './crc32';

export const FORMAT_VERSION = 2;
/** Version 1 files (one loop: every record's loop field is 0) are read as they are. */
export const OLDEST_FORMAT_VERSION = 1;
/**
 * A recording holds at most this many loops (a record's loop number is a u16): more than any
 * real session, and a bound on what a reader keeps per loop (a crafted file cannot make more).
 */
export const MAX_LOOPS = 1024;

/** "\x89LSREC\r\n": the high byte and the CR LF catch 7-bit and newline-mangling copies. */
export const FILE_MAGIC = Uint8Array.from([0x89, 0x4c, 0x53, 0x52, 0x45, 0x43, 0x0d, 0x0a]);
export const FILE_HEADER_BYTES = 32;

/** "LSCK" and "LSIX" as little-endian u32. */
export const CHUNK_MAGIC = 0x4b43534c;
export const FOOTER_MAGIC = 0x5849534c;
export const CHUNK_FIXED_BYTES = 48;
export const SECTION_BYTES = 28;
export const MAX_SECTIONS = 4;
export const MAX_CHUNK_HEADER_BYTES = CHUNK_FIXED_BYTES + MAX_SECTIONS * SECTION_BYTES;
export const FOOTER_BYTES = 16;

/** A section never holds more than this, compressed or not: it bounds every read and inflate. */
export const MAX_SECTION_BYTES = 64 * 1024 * 1024;
/**
 * A compressed section decompresses to at most this many times its stored size (plus a little
 * for tiny ones): so a whole file decodes to at most ~256 times its size. Real sections
 * compress 3 to 15 times (keyframes the most), a keyframe of 200 identical 64-frame stacks
 * about 100 times; deflate can reach 1032, which is how a 4 MB file held 4 GB of dictionary.
 */
export const MAX_INFLATE_RATIO = 256;
const INFLATE_SLACK_BYTES = 4096;
/** Before each wire frame in a section: u32 seq delta, u32 time delta (µs). */
export const RECORD_HEADER_BYTES = 8;
/** The smallest wire frame: its own 8-byte header. */
const WIRE_HEADER_BYTES = 8;
/** Same limit as the wire's: no frame is larger. */
export const MAX_WIRE_FRAME_BYTES = 16 * 1024 * 1024;
/** Frame numbers and times are doubles: integers up to 2^53 are exact. */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export const ChunkKind = { frames: 1, keyframe: 2, index: 3, samples: 4 } as const;
export type ChunkKindId = (typeof ChunkKind)[keyof typeof ChunkKind];
export const Codec = { stored: 0, deflateRaw: 1 } as const;
export type CodecId = (typeof Codec)[keyof typeof Codec];
/** core: small, always-read frames (metrics, blocked, ...); bulk: high-volume event batches. */
export const Lane = { core: 0, bulk: 1 } as const;
export type LaneId = (typeof Lane)[keyof typeof Lane];

export interface FileHeader {
  readonly version: number;
  /** The wire protocol version of the recorded frames. */
  readonly wireProtocol: number;
  /** Wall clock (ms since the Unix epoch) of time 0: every time in the file counts from here. */
  readonly startedAtMs: number;
}

export interface SectionHeader {
  readonly lane: LaneId;
  readonly codec: CodecId;
  readonly frameCount: number;
  readonly storedBytes: number;
  readonly rawBytes: number;
  /** Bit t set when a frame of wire type t is in the section (bit 63: any type ≥ 63). */
  readonly typeMaskLo: number;
  readonly typeMaskHi: number;
  readonly crc: number;
}

export interface ChunkHeader {
  readonly kind: ChunkKindId;
  readonly headerBytes: number;
  readonly frameCount: number;
  /** Frames chunk: number of the first frame in it. Keyframe: frames before it. */
  readonly firstSeq: number;
  /** ms since startedAtMs, of the first and last frame (keyframe: of the last frame before it). */
  readonly startMs: number;
  readonly endMs: number;
  readonly bodyBytes: number;
  readonly sections: readonly SectionHeader[];
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };
/** overLimit: the header is intact (its checksum holds) but past a limit: not damage, a crafted file. */
export type ParsedHeader = { readonly ok: true; readonly value: ChunkHeader } | { readonly ok: false; readonly reason: string; readonly overLimit?: true };
const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

// ---------------------------------------------------------------------------------------
// File header

export function encodeFileHeader(h: Omit<FileHeader, 'version'>): Uint8Array {
  const out = new Uint8Array(FILE_HEADER_BYTES);
  const v = view(out);
  out.set(FILE_MAGIC, 0);
  v.setUint16(8, FORMAT_VERSION, true);
  v.setUint16(10, FILE_HEADER_BYTES, true);
  v.setUint32(12, h.wireProtocol, true);
  v.setFloat64(16, h.startedAtMs, true);
  v.setUint32(28, crc32(out.subarray(0, 28)), true);
  return out;
}

export type FileHeaderProblem = 'not-recording' | 'newer-version' | 'damaged';

/** `bytes`: the file's first bytes (up to FILE_HEADER_BYTES). */
export function parseFileHeader(bytes: Uint8Array): { ok: true; value: FileHeader } | { ok: false; problem: FileHeaderProblem; reason: string } {
  const magicSeen = Math.min(bytes.length, FILE_MAGIC.length);
  for (let i = 0; i < magicSeen; i++) {
    if (bytes[i] !== FILE_MAGIC[i]) return { ok: false, problem: 'not-recording', reason: 'it does not start like a loopscope recording' };
  }
  if (bytes.length < FILE_HEADER_BYTES) return { ok: false, problem: 'damaged', reason: `it ends after ${bytes.length} bytes, inside its 32-byte header` };
  const v = view(bytes);
  const version = v.getUint16(8, true);
  if (version < OLDEST_FORMAT_VERSION || version > FORMAT_VERSION) {
    return version > FORMAT_VERSION
      ? { ok: false, problem: 'newer-version', reason: `it is a version ${version} recording, and this loopscope reads version ${FORMAT_VERSION}: update loopscope` }
      : { ok: false, problem: 'damaged', reason: `its header says version ${version}, which never existed` };
  }
  if (v.getUint32(28, true) !== crc32(bytes.subarray(0, 28))) return { ok: false, problem: 'damaged', reason: 'its header is damaged (checksum mismatch)' };
  const startedAtMs = v.getFloat64(16, true);
  if (v.getUint16(10, true) !== FILE_HEADER_BYTES || !Number.isFinite(startedAtMs)) {
    return { ok: false, problem: 'damaged', reason: 'its header holds impossible values' };
  }
  return { ok: true, value: { version, wireProtocol: v.getUint32(12, true), startedAtMs } };
}

// ---------------------------------------------------------------------------------------
// Chunks

export function typeMaskBit(type: number): { lo: number; hi: number } {
  const bit = Math.min(type, 63);
  return bit < 32 ? { lo: (1 << bit) >>> 0, hi: 0 } : { lo: 0, hi: (1 << (bit - 32)) >>> 0 };
}

export function sectionHasType(s: Pick<SectionHeader, 'typeMaskLo' | 'typeMaskHi'>, type: number): boolean {
  const { lo, hi } = typeMaskBit(type);
  return ((s.typeMaskLo & lo) | (s.typeMaskHi & hi)) !== 0;
}

export interface ChunkHeaderInput {
  readonly kind: ChunkKindId;
  readonly frameCount: number;
  readonly firstSeq: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly sections: readonly SectionHeader[];
}

export function encodeChunkHeader(h: ChunkHeaderInput): Uint8Array {
  const headerBytes = CHUNK_FIXED_BYTES + h.sections.length * SECTION_BYTES;
  const out = new Uint8Array(headerBytes);
  const v = view(out);
  v.setUint32(0, CHUNK_MAGIC, true);
  v.setUint8(4, h.kind);
  v.setUint8(5, h.sections.length);
  v.setUint16(6, headerBytes, true);
  v.setUint32(8, h.frameCount, true);
  v.setFloat64(16, h.firstSeq, true);
  v.setFloat64(24, h.startMs, true);
  v.setFloat64(32, h.endMs, true);
  v.setUint32(40, h.sections.reduce((n, s) => n + s.storedBytes, 0), true);
  h.sections.forEach((s, i) => {
    const at = CHUNK_FIXED_BYTES + i * SECTION_BYTES;
    v.setUint8(at, s.lane);
    v.setUint8(at + 1, s.codec);
    v.setUint32(at + 4, s.frameCount, true);
    v.setUint32(at + 8, s.storedBytes, true);
    v.setUint32(at + 12, s.rawBytes, true);
    v.setUint32(at + 16, s.typeMaskLo, true);
    v.setUint32(at + 20, s.typeMaskHi, true);
    v.setUint32(at + 24, s.crc, true);
  });
  v.setUint32(44, headerCrc(out), true);
  return out;
}

/** The header's checksum covers all of it but the checksum field itself (bytes 44..47). */
function headerCrc(header: Uint8Array): number {
  return crc32(header.subarray(CHUNK_FIXED_BYTES), crc32(header.subarray(0, 44)));
}

/** How many header bytes to read at `bytes` (which holds at least 8), or why there is no chunk there. */
export function chunkHeaderLength(bytes: Uint8Array): Parsed<number> {
  const v = view(bytes);
  if (v.getUint32(0, true) !== CHUNK_MAGIC) return fail('no chunk marker');
  const sections = v.getUint8(5);
  if (sections < 1 || sections > MAX_SECTIONS) return fail(`${sections} sections`);
  const length = v.getUint16(6, true);
  if (length !== CHUNK_FIXED_BYTES + sections * SECTION_BYTES) return fail('header length does not match its sections');
  return { ok: true, value: length };
}

/** `bytes` holds the whole header (see chunkHeaderLength). */
export function parseChunkHeader(bytes: Uint8Array): ParsedHeader {
  const length = chunkHeaderLength(bytes);
  if (!length.ok) return length;
  if (bytes.length < length.value) return fail('header cut short');
  const header = bytes.subarray(0, length.value);
  const v = view(header);
  if (v.getUint32(44, true) !== headerCrc(header)) return fail('header checksum mismatch');
  const kind = v.getUint8(4);
  if (kind < ChunkKind.frames || kind > ChunkKind.samples) return fail(`unknown chunk kind ${kind}`);
  if (v.getUint32(12, true) !== 0) return fail('reserved bits set');
  const frameCount = v.getUint32(8, true);
  const firstSeq = v.getFloat64(16, true);
  const startMs = v.getFloat64(24, true);
  const endMs = v.getFloat64(32, true);
  if (!Number.isInteger(firstSeq) || firstSeq < 0 || firstSeq + frameCount > MAX_SEQ) return fail('impossible frame number');
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || startMs < 0 || endMs < startMs) return fail('impossible times');
  const sections: SectionHeader[] = [];
  let body = 0;
  let frames = 0;
  for (let i = 0; i < v.getUint8(5); i++) {
    const at = CHUNK_FIXED_BYTES + i * SECTION_BYTES;
    const lane = v.getUint8(at);
    const codec = v.getUint8(at + 1);
    const s: SectionHeader = {
      lane: lane as LaneId, codec: codec as CodecId,
      frameCount: v.getUint32(at + 4, true), storedBytes: v.getUint32(at + 8, true), rawBytes: v.getUint32(at + 12, true),
      typeMaskLo: v.getUint32(at + 16, true), typeMaskHi: v.getUint32(at + 20, true), crc: v.getUint32(at + 24, true),
    };
    if (lane !== Lane.core && lane !== Lane.bulk) return fail(`unknown lane ${lane}`);
    if (codec !== Codec.stored && codec !== Codec.deflateRaw) return fail(`unknown compression ${codec}`);
    if (v.getUint16(at + 2, true) !== 0) return fail('reserved bits set');
    if (s.storedBytes > MAX_SECTION_BYTES || s.rawBytes > MAX_SECTION_BYTES) {
      return { ok: false, reason: `a section of ${Math.max(s.storedBytes, s.rawBytes)} bytes, more than the limit of ${MAX_SECTION_BYTES}`, overLimit: true };
    }
    if (s.rawBytes > INFLATE_SLACK_BYTES + MAX_INFLATE_RATIO * s.storedBytes) {
      return { ok: false, reason: `a section that decompresses from ${s.storedBytes} to ${s.rawBytes} bytes, more than the limit of ${MAX_INFLATE_RATIO} times`, overLimit: true };
    }
    if (codec === Codec.stored && s.storedBytes !== s.rawBytes) return fail('stored section with two sizes');
    if (s.frameCount > s.rawBytes / (RECORD_HEADER_BYTES + WIRE_HEADER_BYTES)) return fail('more frames than bytes');
    body += s.storedBytes;
    frames += s.frameCount;
    sections.push(s);
  }
  if (body !== v.getUint32(40, true)) return fail('body length does not match its sections');
  if (frames !== frameCount) return fail('frame count does not match its sections');
  return { ok: true, value: { kind: kind as ChunkKindId, headerBytes: length.value, frameCount, firstSeq, startMs, endMs, bodyBytes: body, sections } };
}

// ---------------------------------------------------------------------------------------
// Frame records inside a frames section

export interface FrameRecord {
  readonly seq: number;
  /** Which loop of the session sent it: 0 for the first (the hello at seq 0), then in the order they came. */
  readonly loop: number;
  /** ms since the recording's start. */
  readonly timeMs: number;
  readonly version: number;
  readonly type: number;
  readonly payload: Uint8Array;
}

/** Appends frame records to a growing buffer: the writer's side of parseFrameRecords. */
export class SectionBuilder {
  private bytes = new Uint8Array(64 * 1024);
  private used = 0;
  frameCount = 0;
  typeMaskLo = 0;
  typeMaskHi = 0;

  get length(): number {
    return this.used;
  }

  /** The wire frame's header as on the wire, except its reserved u16, which holds the loop number. */
  append(seqDelta: number, timeDeltaUs: number, version: number, type: number, payload: Uint8Array, loop: number): void {
    const size = RECORD_HEADER_BYTES + WIRE_HEADER_BYTES + payload.byteLength;
    if (this.used + size > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + size));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    const v = new DataView(this.bytes.buffer, this.used, RECORD_HEADER_BYTES + WIRE_HEADER_BYTES);
    v.setUint32(0, seqDelta, true);
    v.setUint32(4, timeDeltaUs, true);
    v.setUint32(8, 4 + payload.byteLength, true);
    v.setUint8(12, version);
    v.setUint8(13, type);
    v.setUint16(14, loop, true);
    this.bytes.set(payload, this.used + RECORD_HEADER_BYTES + WIRE_HEADER_BYTES);
    this.used += size;
    this.frameCount++;
    const bit = typeMaskBit(type);
    this.typeMaskLo = (this.typeMaskLo | bit.lo) >>> 0;
    this.typeMaskHi = (this.typeMaskHi | bit.hi) >>> 0;
  }

  /** The records so far (a copy), and an empty builder again. */
  take(): Uint8Array {
    const out = this.bytes.slice(0, this.used);
    this.used = 0;
    this.frameCount = 0;
    this.typeMaskLo = 0;
    this.typeMaskHi = 0;
    return out;
  }
}

/**
 * Parses a frames section's records (already decompressed and checksummed). Frame numbers
 * must rise, times stay inside the chunk's range, and types match the section's type mask.
 */
export function parseFrameRecords(raw: Uint8Array, chunk: ChunkHeader, section: SectionHeader): Parsed<FrameRecord[]> {
  const v = view(raw);
  const records: FrameRecord[] = [];
  let at = 0;
  let lastDelta = -1;
  // A samples chunk holds copies of frames spread over the file: their numbers have gaps.
  const deltaLimit = chunk.kind === ChunkKind.samples ? 0x1_0000_0000 : chunk.frameCount;
  while (at < raw.length) {
    if (records.length >= section.frameCount) return fail(`more than the ${section.frameCount} frames it declares`);
    if (at + RECORD_HEADER_BYTES + WIRE_HEADER_BYTES > raw.length) return fail(`frame ${records.length} is cut short`);
    const seqDelta = v.getUint32(at, true);
    const timeDeltaUs = v.getUint32(at + 4, true);
    const length = v.getUint32(at + 8, true);
    if (length < 4 || length + 4 > MAX_WIRE_FRAME_BYTES) return fail(`frame ${records.length} has an impossible length ${length}`);
    const end = at + RECORD_HEADER_BYTES + 4 + length;
    if (end > raw.length) return fail(`frame ${records.length} runs past the section's end`);
    if (seqDelta <= lastDelta || seqDelta >= deltaLimit) return fail(`frame ${records.length} is out of order`);
    const type = v.getUint8(at + 13);
    if (!sectionHasType(section, type) || v.getUint16(at + 14, true) >= MAX_LOOPS) return fail(`frame ${records.length} has a bad header`);
    const timeMs = chunk.startMs + timeDeltaUs / 1000;
    if (timeMs > chunk.endMs + 0.001) return fail(`frame ${records.length} is timed after its chunk's end`);
    records.push({
      seq: chunk.firstSeq + seqDelta, loop: v.getUint16(at + 14, true), timeMs, version: v.getUint8(at + 12), type,
      payload: raw.subarray(at + RECORD_HEADER_BYTES + WIRE_HEADER_BYTES, end),
    });
    lastDelta = seqDelta;
    at = end;
  }
  if (records.length !== section.frameCount) return fail(`${records.length} frames where it declares ${section.frameCount}`);
  return { ok: true, value: records };
}

// ---------------------------------------------------------------------------------------
// Footer: the last 16 bytes of a cleanly closed file point at its index chunk.

export function encodeFooter(indexOffset: number): Uint8Array {
  const out = new Uint8Array(FOOTER_BYTES);
  const v = view(out);
  v.setUint32(0, FOOTER_MAGIC, true);
  v.setFloat64(8, indexOffset, true);
  v.setUint32(4, crc32(out.subarray(8, 16)), true);
  return out;
}

/** The index chunk's offset, when `bytes` (the file's last 16) are a valid footer. */
export function parseFooter(bytes: Uint8Array, fileSize: number): number | undefined {
  if (bytes.length !== FOOTER_BYTES) return undefined;
  const v = view(bytes);
  if (v.getUint32(0, true) !== FOOTER_MAGIC || v.getUint32(4, true) !== crc32(bytes.subarray(8, 16))) return undefined;
  const offset = v.getFloat64(8, true);
  return Number.isInteger(offset) && offset >= FILE_HEADER_BYTES && offset < fileSize - FOOTER_BYTES ? offset : undefined;
}
