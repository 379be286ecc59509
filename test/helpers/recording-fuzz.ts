// The recording fuzzer, shared by the fuzz test (npm test) and bench/recording-fuzz.mjs (many
// more cases): mutations of real recordings, and one case = everything a user can do with the
// mutated file. A case passes when it ends in a clear RecordingError or in a (partial) read;
// anything else thrown is a bug.

import { writeFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ChromeTraceBuilder, type TraceEvent } from '../../main/reports/chrome-trace';
import { eventProblems } from './recording-trace-check';
import { crc32 } from '../../main/recording/crc32';
import { RecordingError } from '../../main/recording/errors';
import { CHUNK_FIXED_BYTES, Codec, encodeChunkHeader, FILE_HEADER_BYTES, parseChunkHeader, chunkHeaderLength, type SectionHeader } from '../../main/recording/format';
import { FrameCursor, RecordingReader } from '../../main/recording/recording-reader';
import { RecordingPlayer } from '../../main/replay/recording-player';
import { summarizeRecording } from '../../main/reports/recording-summary';
import { renderRecordingReport } from '../../main/terminal/recording-report';
import { renderLiveView } from '../../main/terminal/live-view';
import { WireError, type MessageTypeId, type ProbeMessage } from '../../probe/wire';
import { ProbeDecoder } from '../../probe/wire-decoder';

/** A small deterministic PRNG (mulberry32), so a failing case can be run again by its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy as a plain Uint8Array (Buffer's slice() shares memory). */
const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);

const EXTREMES = [0, 1, 0x7fffffff, 0xffffffff, 0x04000001, 0x10000, 4, 3];

/** Where the chunks are (header valid), for mutations that keep the checksums right. */
function chunkOffsets(file: Uint8Array): number[] {
  const offsets: number[] = [];
  let at = FILE_HEADER_BYTES;
  while (at + CHUNK_FIXED_BYTES <= file.length) {
    const len = chunkHeaderLength(file.subarray(at));
    if (!len.ok) break;
    const h = parseChunkHeader(file.subarray(at, at + len.value));
    if (!h.ok) break;
    if (at + h.value.headerBytes + h.value.bodyBytes > file.length) break;
    offsets.push(at);
    at += h.value.headerBytes + h.value.bodyBytes;
  }
  return offsets;
}

/**
 * Rewrites one chunk with a mutated header field or section, and checksums that match, so
 * the mutation reaches the parsers behind the checksums.
 */
function mutateBehindChecksums(file: Uint8Array, r: () => number): Uint8Array {
  const offsets = chunkOffsets(file);
  if (offsets.length === 0) return file;
  const at = offsets[Math.floor(r() * offsets.length)]!;
  const len = chunkHeaderLength(file.subarray(at));
  const parsed = len.ok ? parseChunkHeader(file.subarray(at, at + len.value)) : undefined;
  if (!parsed?.ok) return file;
  const h = parsed.value;
  let bodyAt = at + h.headerBytes;
  let bodies: Uint8Array[];
  try {
    bodies = h.sections.map((s) => {
      const stored = file.subarray(bodyAt, bodyAt + s.storedBytes);
      bodyAt += s.storedBytes;
      return s.codec === Codec.deflateRaw ? new Uint8Array(inflateRawSync(stored)) : copy(stored);
    });
  } catch {
    // Already damaged by an earlier mutation: nothing to keep consistent.
    return file;
  }
  const pick = Math.floor(r() * bodies.length);
  const raw = bodies[pick]!;
  let sections: SectionHeader[] = [...h.sections];
  let header = { kind: h.kind, frameCount: h.frameCount, firstSeq: h.firstSeq, startMs: h.startMs, endMs: h.endMs, sections };
  switch (Math.floor(r() * 4)) {
    case 0: // flip bytes inside the decompressed section
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n && raw.length > 0; i++) raw[Math.floor(r() * raw.length)]! ^= 1 << Math.floor(r() * 8);
      break;
    case 1: { // an extreme u32 inside the section (lengths, counts, deltas)
      if (raw.length >= 4) new DataView(raw.buffer, raw.byteOffset).setUint32(Math.floor(r() * (raw.length - 3)) & ~3, EXTREMES[Math.floor(r() * EXTREMES.length)]!, true);
      break;
    }
    case 2: // header fields
      header = { ...header, frameCount: Math.floor(r() * 3) === 0 ? h.frameCount + 1 : h.frameCount, firstSeq: r() < 0.5 ? h.firstSeq : Math.floor(r() * 1e6), startMs: r() < 0.5 ? h.startMs : r() * 1e7, endMs: r() < 0.5 ? h.endMs : h.endMs + r() * 1e7 };
      break;
    default: // a section that says something else about its contents
      sections = sections.map((s, i) => (i === pick ? { ...s, frameCount: Math.floor(r() * 5), typeMaskLo: r() < 0.5 ? s.typeMaskLo : 0xffffffff } : s));
      header = { ...header, frameCount: sections.reduce((n, s) => n + s.frameCount, 0), sections };
  }
  const stored = bodies.map((b, i) => (header.sections[i]!.codec === Codec.deflateRaw ? new Uint8Array(deflateRawSync(b)) : b));
  header = { ...header, sections: header.sections.map((s, i) => ({ ...s, storedBytes: stored[i]!.length, rawBytes: bodies[i]!.length, crc: crc32(stored[i]!) })) };
  const head = encodeChunkHeader(header);
  const chunkEnd = at + h.headerBytes + h.bodyBytes;
  return new Uint8Array(Buffer.concat([file.subarray(0, at), head, ...stored, file.subarray(chunkEnd)]));
}

/** One random mutation of `file`. */
export function mutate(file: Uint8Array, r: () => number): Uint8Array {
  const n = file.length;
  const pos = (): number => Math.floor(r() * n);
  const out = copy(file);
  switch (Math.floor(r() * 9)) {
    case 0: // flip bits
      for (let i = 0, k = 1 + Math.floor(r() * 8); i < k; i++) out[pos()]! ^= 1 << Math.floor(r() * 8);
      return out;
    case 1: { // random bytes over a range
      const at = pos();
      for (let i = at; i < Math.min(n, at + 1 + Math.floor(r() * 64)); i++) out[i] = Math.floor(r() * 256);
      return out;
    }
    case 2: // cut short (half-copied)
      return copy(file.subarray(0, pos()));
    case 3: { // zeros over a range (a hole, as after a crash on some file systems)
      const at = pos();
      out.fill(0, at, Math.min(n, at + 1 + Math.floor(r() * 4096)));
      return out;
    }
    case 4: { // a range removed
      const at = pos();
      return new Uint8Array(Buffer.concat([file.subarray(0, at), file.subarray(Math.min(n, at + 1 + Math.floor(r() * 2048)))]));
    }
    case 5: { // a range repeated
      const at = pos();
      const end = Math.min(n, at + 1 + Math.floor(r() * 2048));
      return new Uint8Array(Buffer.concat([file.subarray(0, end), file.subarray(at, end), file.subarray(end)]));
    }
    case 6: { // an extreme u32 anywhere
      if (n >= 4) new DataView(out.buffer).setUint32(Math.floor(r() * (n - 3)), EXTREMES[Math.floor(r() * EXTREMES.length)]!, true);
      return out;
    }
    case 7: { // two ranges swapped
      const len = 1 + Math.floor(r() * 1024);
      const a = Math.floor(r() * Math.max(1, n - len));
      const b = Math.floor(r() * Math.max(1, n - len));
      out.set(file.subarray(a, a + len), b);
      out.set(file.subarray(b, b + len), a);
      return out;
    }
    default:
      return mutateBehindChecksums(file, r);
  }
}

export type CaseResult = { readonly kind: 'error'; readonly message: string } | { readonly kind: 'read'; readonly frames: number; readonly warnings: number };

/** Everything a user can do with a file: summary (both forms), seeks, steps, export. */
export function runCase(path: string, bytes: Uint8Array, r: () => number): CaseResult {
  writeFileSync(path, bytes);
  let reader: RecordingReader;
  try {
    reader = RecordingReader.open(path, { quick: r() < 0.5 });
  } catch (err) {
    if (err instanceof RecordingError) return { kind: 'error', message: err.message };
    throw err;
  }
  try {
    const s = summarizeRecording(reader);
    JSON.stringify(s.summary);
    renderRecordingReport(s);
    const player = new RecordingPlayer(reader);
    const { firstMs, endMs } = reader.info;
    for (let i = 0; i < 2; i++) {
      player.seek(firstMs + r() * (endMs - firstMs + 1000));
      player.step();
      renderLiveView(player, { width: 80, elapsedMs: player.positionMs, status: undefined, remainingMs: undefined });
    }
    const builder = new ChromeTraceBuilder();
    const decoder = new ProbeDecoder();
    const cursor = new FrameCursor(reader, FILE_HEADER_BYTES);
    // Whatever the file holds, every exported event is one Perfetto reads.
    const check = (events: readonly TraceEvent[]): void => {
      for (const e of events) {
        const problems = eventProblems(e);
        if (problems.length > 0) throw new Error(`export: ${problems.join('; ')}`);
      }
    };
    for (let f = cursor.next(); f; f = cursor.next()) {
      let message: ProbeMessage;
      try {
        message = decoder.decode({ type: f.type as MessageTypeId, payload: f.payload });
      } catch (err) {
        // The export skips undecodable frames; anything but a WireError is a decoder bug.
        if (!(err instanceof WireError)) throw err;
        continue;
      }
      check(builder.add(message));
    }
    check(builder.finish());
    return { kind: 'read', frames: reader.info.frames, warnings: player.warnings.length };
  } catch (err) {
    // Past a limit (recording-summary refuses the file whole): as clear as an error on open.
    if (err instanceof RecordingError) return { kind: 'error', message: err.message };
    throw err;
  } finally {
    reader.close();
  }
}
