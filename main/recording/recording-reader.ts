// Reads a recording file: opens it (from the index a clean close left, or by scanning chunk
// headers when there is none), and walks its frames in order from any chunk. Damage is
// skipped chunk by chunk and reported with the time range it cost; only a file that cannot be
// a recording at all is an error. Reads are synchronous and bounded (no read, inflate or
// allocation is larger than a section's 64 MiB limit), and every loop moves forward through
// the file, so no input can make it hang or grow without bound.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { PROTOCOL_VERSION } from '../../probe/wire';
import { crc32 } from './crc32';
import { fsReason, notRegularFile, overLimitError, RecordingError, RECORDING_EXIT } from './errors';
import {
  CHUNK_MAGIC, ChunkKind, chunkHeaderLength, Codec, FILE_HEADER_BYTES, FOOTER_BYTES, MAX_CHUNK_HEADER_BYTES,
  parseChunkHeader, parseFileHeader, parseFooter, parseFrameRecords, sectionHasType,
  type ChunkHeader, type FileHeader, type FrameRecord, type SectionHeader,
} from './format';
import { KEYFRAME_TRAIL, parseIndex, parseKeyframeEntries, type KeyframeEntry, type RecordingEnding } from './recording-index';
import { formatBytes } from '../common/format';
import { formatRecordingTime } from '../common/time-format';

const WINDOW_BYTES = 256 * 1024;
/**
 * How far from the end a file without an index is searched for its last keyframe. Keyframes
 * are at most 4 MiB of frames apart (less once compressed); past this, the file is scanned.
 */
const LAST_KEYFRAME_SEARCH_BYTES = 64 * 1024 * 1024;
/** A chunk's marker as it lies in the file. */
const MAGIC_BYTES = [CHUNK_MAGIC & 0xff, (CHUNK_MAGIC >>> 8) & 0xff, (CHUNK_MAGIC >>> 16) & 0xff, CHUNK_MAGIC >>> 24] as const;
/** A read starting at most this far past the last one is reading on (small chunks). */
const NEAR_BYTES = 4 * 1024;
/** After a jump (skipping a large chunk), a header and a small core section are what is next. */
const JUMP_BYTES = 64 * 1024;

/**
 * Reads through a cache window: reading on from near where the last read ended reads ahead a
 * large window (many small chunks, few system calls); a jump reads little (skipping large
 * chunks costs a header, not a window).
 */
class FileWindow {
  private buffer = new Uint8Array(0);
  private start = 0;

  constructor(private readonly fd: number, public size: number) {}

  /**
   * Bytes [offset, offset + length), clipped to the file; valid until the next call. After a
   * jump, at least `jumpBytes` are read.
   */
  read(offset: number, length: number, jumpBytes = JUMP_BYTES): Uint8Array {
    const end = Math.min(this.size, offset + length);
    if (offset >= this.start && end <= this.start + this.buffer.length) {
      return this.buffer.subarray(offset - this.start, end - this.start);
    }
    const gap = offset - (this.start + this.buffer.length);
    const want = Math.max(0, Math.min(this.size - offset, Math.max(length, gap >= 0 && gap < NEAR_BYTES ? WINDOW_BYTES : jumpBytes)));
    const buffer = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, buffer, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    this.buffer = buffer.subarray(0, got);
    this.start = offset;
    return this.buffer.subarray(0, Math.max(0, Math.min(got, end - offset)));
  }
}

export interface LocatedChunk {
  readonly offset: number;
  readonly header: ChunkHeader;
  /** Offset just after it. */
  readonly end: number;
}

export interface RecordingInfo {
  /** ms since the start, of the first and last frame. */
  readonly firstMs: number;
  readonly endMs: number;
  readonly frames: number;
  /** When the recorder closed, ms since the start; undefined when it did not close cleanly. */
  readonly closedAtMs: number | undefined;
  readonly ending: RecordingEnding | undefined;
  /** Offset where the readable chunks end. */
  readonly dataEnd: number;
}

type Located = { kind: 'chunk'; chunk: LocatedChunk } | { kind: 'end' } | { kind: 'partial'; bytes: number } | { kind: 'damaged'; reason: string };

export class RecordingReader {
  private readonly window: FileWindow;
  private keyframeList: KeyframeEntry[] = [];
  private scanned: { frames: number; firstMs: number | undefined; endMs: number; end: number } | undefined;
  private indexInfo: { frames: number; endMs: number; closedAtMs: number; dataEnd: number; ending: RecordingEnding | undefined } | undefined;
  private firstFrameMs: number | undefined;
  private readonly problems = new Map<string, string>();
  /** The first limit an intact chunk header went past: such a file is refused (see open). */
  private overLimit: string | undefined;
  private closedFd = false;
  /** Where the keyframes came from: the index, the keyframes' trails, or every chunk header. */
  private found: 'index' | 'trails' | 'scan' = 'scan';

  private constructor(readonly path: string, private readonly fd: number, size: number, readonly header: FileHeader) {
    this.window = new FileWindow(fd, size);
  }

  /**
   * Opens a recording; throws a RecordingError that says what is wrong when it cannot be one.
   * Without an index, every chunk header is read to find the keyframes and any damage (13,000
   * random reads for 1 GB), unless `quick`: then the keyframes come from the last one's trail
   * and only the chunks after it are read, and damage before it is found and reported only
   * when frames there are read (replay reads them all in the background for its marks).
   */
  static open(path: string, options: { quick?: boolean } = {}): RecordingReader {
    let fd: number;
    let size: number;
    try {
      // O_NONBLOCK: opening a FIFO would otherwise wait for a writer, for ever.
      fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      const stat = fstatSync(fd);
      const kind = notRegularFile(stat);
      if (kind) {
        closeSync(fd);
        throw new Error(kind);
      }
      size = stat.size;
    } catch (err) {
      throw new RecordingError(`cannot open ${path}: ${fsReason(err)}`, RECORDING_EXIT.noInput);
    }
    const parsed = readHeader(path, readHead(path, fd));
    if (!parsed.ok) {
      closeSync(fd);
      throw new RecordingError(parsed.reason, RECORDING_EXIT.badRecording);
    }
    const reader = new RecordingReader(path, fd, size, parsed.value);
    if (reader.loadIndex()) reader.found = 'index';
    else if (options.quick && reader.loadTrails()) reader.found = 'trails';
    else reader.scan();
    if (reader.overLimit !== undefined) {
      reader.close();
      throw overLimitError(path, reader.overLimit);
    }
    return reader;
  }

  get size(): number {
    return this.window.size;
  }

  get openedFrom(): 'index' | 'trails' | 'scan' {
    return this.found;
  }

  get keyframes(): readonly KeyframeEntry[] {
    return this.keyframeList;
  }

  /** True once the recorder closed the file (it has an index); false while still being written. */
  get complete(): boolean {
    return this.indexInfo !== undefined;
  }

  get info(): RecordingInfo {
    const i = this.indexInfo;
    const s = this.scanned;
    return {
      firstMs: this.firstFrameMs ?? 0,
      endMs: i?.endMs ?? s?.endMs ?? 0,
      frames: i?.frames ?? s?.frames ?? 0,
      closedAtMs: i?.closedAtMs,
      ending: i?.ending,
      dataEnd: i?.dataEnd ?? s?.end ?? FILE_HEADER_BYTES,
    };
  }

  /** What was lost or could not be read so far, one line each, in the order found. */
  get warnings(): readonly string[] {
    return [...this.problems.values()];
  }

  /** Notes a problem once (by key), for warnings. */
  warn(key: string, message: string): void {
    if (!this.problems.has(key) && this.problems.size < 100) this.problems.set(key, message);
  }

  close(): void {
    if (!this.closedFd) closeSync(this.fd);
    this.closedFd = true;
  }

  /**
   * For a file still being written: reads what was appended since. Returns true when there
   * are new frames.
   */
  refresh(): boolean {
    if (this.indexInfo) return false;
    const size = fstatSync(this.fd).size;
    if (size === this.window.size) return false;
    const before = this.info.frames;
    this.window.size = size;
    this.problems.delete('tail');
    this.problems.delete('no-index');
    if (!this.loadIndex()) this.scan();
    return this.info.frames > before;
  }

  private loadIndex(): boolean {
    const size = this.window.size;
    if (size < FILE_HEADER_BYTES + FOOTER_BYTES) return false;
    const indexOffset = parseFooter(this.window.read(size - FOOTER_BYTES, FOOTER_BYTES).slice(), size);
    if (indexOffset === undefined) return false;
    const at = this.locate(indexOffset);
    if (at.kind !== 'chunk' || at.chunk.header.kind !== ChunkKind.index || at.chunk.end !== size - FOOTER_BYTES) return false;
    const body = this.section(at.chunk, 0);
    const index = body.ok ? parseIndex(body.value, FILE_HEADER_BYTES) : undefined;
    if (!index?.ok || index.value.info.dataEnd > indexOffset) {
      this.warn('index', `${this.path}: its index is damaged; it was rebuilt by reading the whole file`);
      return false;
    }
    this.indexInfo = index.value.info;
    this.keyframeList = index.value.keyframes;
    const first = this.locate(FILE_HEADER_BYTES);
    if (first.kind === 'chunk') this.firstFrameMs = first.chunk.header.startMs;
    return true;
  }

  /**
   * Without an index: the keyframes from the last keyframe's trail, then each trail's oldest
   * keyframe's trail (a few reads, however large the file), then a scan of the chunks after
   * the last keyframe. False, having changed nothing, when the trails cannot be followed (a
   * file from before trails, or damage on the way): the whole file is scanned instead.
   */
  private loadTrails(): boolean {
    const last = this.lastKeyframe();
    if (!last) return false;
    const entry = (c: LocatedChunk): KeyframeEntry => ({ offset: c.offset, seq: c.header.firstSeq, timeMs: c.header.startMs });
    const keyframes = [entry(last)];
    for (let at = last; ;) {
      const trail = at.header.sections.length === 2 ? this.section(at, 1) : undefined;
      const parsed = trail?.ok ? parseKeyframeEntries(trail.value, FILE_HEADER_BYTES, at.offset, keyframes[0]) : undefined;
      if (!parsed?.ok) return false;
      keyframes.unshift(...parsed.value);
      // A trail shorter than its limit reaches back to the first keyframe.
      if (parsed.value.length < KEYFRAME_TRAIL) break;
      const oldest = this.locate(parsed.value[0]!.offset);
      if (oldest.kind !== 'chunk' || oldest.chunk.header.kind !== ChunkKind.keyframe || oldest.chunk.header.firstSeq !== keyframes[0]!.seq || oldest.chunk.header.startMs !== keyframes[0]!.timeMs) return false;
      at = oldest.chunk;
    }
    const first = this.locate(FILE_HEADER_BYTES);
    this.keyframeList = keyframes;
    this.scanned = {
      frames: last.header.firstSeq,
      firstMs: first.kind === 'chunk' && first.chunk.header.kind === ChunkKind.frames ? first.chunk.header.startMs : undefined,
      endMs: last.header.startMs,
      end: last.end,
    };
    this.scan();
    return true;
  }

  /** The last whole keyframe chunk, searched for backwards from the end of the file (bounded). */
  private lastKeyframe(): LocatedChunk | undefined {
    const size = this.window.size;
    const [m0, m1, m2, m3] = MAGIC_BYTES;
    const stop = Math.max(FILE_HEADER_BYTES, size - LAST_KEYFRAME_SEARCH_BYTES);
    for (let end = size; end > stop;) {
      const start = Math.max(stop, end - WINDOW_BYTES);
      // A copy: locate() below reuses the window.
      const block = this.window.read(start, end - start).slice();
      for (let i = block.lastIndexOf(m0, block.length - 4); i >= 0; i = i === 0 ? -1 : block.lastIndexOf(m0, i - 1)) {
        if (block[i + 1] !== m1 || block[i + 2] !== m2 || block[i + 3] !== m3) continue;
        const at = this.locate(start + i);
        if (at.kind === 'chunk' && at.chunk.header.kind === ChunkKind.keyframe) return at.chunk;
      }
      // Step forward 3 bytes so a marker split across two blocks is still found.
      end = start === stop ? stop : start + 3;
    }
    return undefined;
  }

  /** Builds the index from the chunk headers, skipping over damage (resuming a previous scan). */
  private scan(): void {
    let s = this.scanned ?? { frames: 0, firstMs: undefined, endMs: 0, end: FILE_HEADER_BYTES };
    let offset = s.end;
    for (;;) {
      // Past a large chunk, only the next header is needed: reading more would read most of
      // the file (a 1 GB trace-mode file: 1 s instead of 2.5 s from a cold cache).
      const at = this.locate(offset, MAX_CHUNK_HEADER_BYTES);
      if (at.kind === 'end') break;
      if (at.kind === 'partial') {
        this.warn('tail', `${this.path} ends in a chunk cut short: the last ${formatBytes(at.bytes)} (after ${formatRecordingTime(s.endMs)}) are missing (the file is still being written, or was copied only in part)`);
        break;
      }
      if (at.kind === 'damaged') {
        const next = this.resync(offset + 1);
        this.warnDamage(offset, next?.offset ?? this.window.size, s.endMs, next?.header.startMs, at.reason);
        if (!next) break;
        offset = next.offset;
        continue;
      }
      const { header, end } = at.chunk;
      if (header.kind === ChunkKind.index) {
        // Closed while we were reading, or a damaged footer: the index chunk marks the end.
        const body = this.section(at.chunk, 0);
        const index = body.ok ? parseIndex(body.value, FILE_HEADER_BYTES) : undefined;
        if (index?.ok) this.indexInfo = { ...index.value.info, dataEnd: offset };
        break;
      }
      if (header.kind === ChunkKind.keyframe) {
        const last = this.keyframeList[this.keyframeList.length - 1];
        if (!last || (header.firstSeq >= last.seq && header.startMs >= last.timeMs)) this.keyframeList.push({ offset, seq: header.firstSeq, timeMs: header.startMs });
      } else if (header.kind === ChunkKind.frames) {
        s = { ...s, frames: s.frames + header.frameCount, firstMs: s.firstMs ?? header.startMs, endMs: Math.max(s.endMs, header.endMs) };
      }
      offset = end;
      s = { ...s, end: offset };
    }
    this.scanned = { ...s, end: offset };
    this.firstFrameMs ??= s.firstMs;
    if (!this.indexInfo) {
      this.warn('no-index', `${this.path} was not closed cleanly (loopscope was stopped, or it is still recording): read up to ${formatRecordingTime(s.endMs)}`);
    }
  }

  private warnDamage(from: number, to: number, afterMs: number, beforeMs: number | undefined, reason: string): void {
    const until = beforeMs === undefined ? 'the end' : formatRecordingTime(beforeMs);
    this.warn(`damage@${from}`, `${this.path}: ${formatBytes(to - from)} damaged at byte ${from} (${reason}): frames between ${formatRecordingTime(afterMs)} and ${until} are lost`);
  }

  /**
   * The chunk at `offset`: whole, cut short by the end of the file, absent, or damaged. Reached
   * by a jump, `jumpBytes` are read with its header (by default, enough for a small section too).
   */
  locate(offset: number, jumpBytes?: number): Located {
    const size = this.window.size;
    const dataEnd = this.indexInfo?.dataEnd ?? size;
    if (offset >= dataEnd) return { kind: 'end' };
    const head = this.window.read(offset, MAX_CHUNK_HEADER_BYTES, jumpBytes);
    if (head.length < 8) return { kind: 'partial', bytes: size - offset };
    const length = chunkHeaderLength(head);
    if (!length.ok) return { kind: 'damaged', reason: length.reason };
    if (head.length < length.value) return { kind: 'partial', bytes: size - offset };
    const header = parseChunkHeader(head);
    if (!header.ok) {
      // Found later than open (a file opened from its index): skipped as damage, with the limit named.
      if (header.overLimit) this.overLimit ??= `its chunk at byte ${offset} holds ${header.reason}`;
      return { kind: 'damaged', reason: header.reason };
    }
    const end = offset + header.value.headerBytes + header.value.bodyBytes;
    if (end > size) return { kind: 'partial', bytes: size - offset };
    return { kind: 'chunk', chunk: { offset, header: header.value, end } };
  }

  /** The next intact chunk header at or after `from`, searching for its marker. */
  resync(from: number): LocatedChunk | undefined {
    const size = this.window.size;
    const magic = MAGIC_BYTES;
    let offset = from;
    while (offset + 8 <= size) {
      // A copy: locate() below reuses the window.
      const block = this.window.read(offset, WINDOW_BYTES).slice();
      let i = block.indexOf(magic[0]!);
      while (i !== -1 && i + 3 < block.length) {
        if (block[i + 1] === magic[1] && block[i + 2] === magic[2] && block[i + 3] === magic[3]) {
          const at = this.locate(offset + i);
          if (at.kind === 'chunk') return at.chunk;
        }
        i = block.indexOf(magic[0]!, i + 1);
      }
      // Step back 3 bytes so a marker split across two blocks is still found.
      offset += Math.max(1, block.length - 3);
    }
    return undefined;
  }

  /** A section's bytes, checksummed and decompressed. */
  section(chunk: LocatedChunk, index: number): { ok: true; value: Uint8Array } | { ok: false; reason: string } {
    const s = chunk.header.sections[index]!;
    let at = chunk.offset + chunk.header.headerBytes;
    for (let i = 0; i < index; i++) at += chunk.header.sections[i]!.storedBytes;
    const stored = this.window.read(at, s.storedBytes);
    if (stored.length !== s.storedBytes) return { ok: false, reason: 'cut short' };
    if (crc32(stored) !== s.crc) return { ok: false, reason: 'checksum mismatch' };
    if (s.codec === Codec.stored) return { ok: true, value: stored.slice() };
    try {
      const raw = inflateRawSync(stored, { maxOutputLength: Math.max(1, s.rawBytes) });
      if (raw.length !== s.rawBytes) return { ok: false, reason: 'decompresses to the wrong size' };
      return { ok: true, value: new Uint8Array(raw.buffer, raw.byteOffset, raw.length) };
    } catch {
      return { ok: false, reason: 'does not decompress' };
    }
  }

  /**
   * The frames of a frames chunk, in order, from the sections that may hold one of `types`
   * (all when undefined). Damaged sections are skipped and reported.
   */
  chunkFrames(chunk: LocatedChunk, types?: readonly number[]): FrameRecord[] {
    const lists: FrameRecord[][] = [];
    chunk.header.sections.forEach((s: SectionHeader, i) => {
      if (types && !types.some((t) => sectionHasType(s, t))) return;
      const body = this.section(chunk, i);
      const records = body.ok ? parseFrameRecords(body.value, chunk.header, s) : body;
      if (records.ok) lists.push(records.value);
      else {
        const h = chunk.header;
        this.warn(`damage@${chunk.offset}`, `${this.path}: a chunk at byte ${chunk.offset} is damaged (${records.reason}): ${s.frameCount} frames between ${formatRecordingTime(h.startMs)} and ${formatRecordingTime(h.endMs)} are lost`);
      }
    });
    if (lists.length <= 1) return lists[0] ?? [];
    // Sections of one chunk interleave: merge them back into arrival order.
    return lists.flat().sort((a, b) => a.seq - b.seq);
  }
}

/**
 * The file's first bytes, up to a header's: read whatever its size says, since a file of /proc
 * or /sys has size 0 and holds text, and is no recording, not an empty one.
 */
function readHead(path: string, fd: number): Uint8Array {
  const head = new Uint8Array(FILE_HEADER_BYTES);
  try {
    return head.subarray(0, readSync(fd, head, 0, head.length, 0));
  } catch (err) {
    closeSync(fd);
    throw new RecordingError(`cannot read ${path}: ${fsReason(err)}`, RECORDING_EXIT.noInput);
  }
}

/**
 * The header of a file that starts with `head` (its first bytes, up to FILE_HEADER_BYTES), or
 * why it is not a recording this loopscope reads, naming the file `path`.
 */
export function readHeader(path: string, head: Uint8Array): { ok: true; value: FileHeader } | { ok: false; reason: string } {
  if (head.length === 0) return { ok: false, reason: `${path} is empty: it is not a loopscope recording, or its recording never started` };
  const parsed = parseFileHeader(head.subarray(0, FILE_HEADER_BYTES));
  if (!parsed.ok) return { ok: false, reason: parsed.problem === 'not-recording' ? `${path} is not a loopscope recording (${parsed.reason})` : `${path} cannot be read: ${parsed.reason}` };
  const protocol = parsed.value.wireProtocol;
  if (protocol !== PROTOCOL_VERSION) {
    return { ok: false, reason: `${path} holds wire protocol ${protocol} frames, and this loopscope reads protocol ${PROTOCOL_VERSION}: ${protocol > PROTOCOL_VERSION ? 'update loopscope' : 'use an older loopscope'}` };
  }
  return parsed;
}

/**
 * Walks frames chunk by chunk from an offset, forward only. Damage is skipped (and reported
 * by the reader); keyframe chunks are passed over.
 */
export class FrameCursor {
  private buffered: FrameRecord[] = [];
  private at = 0;
  private lastEndMs = 0;

  constructor(private readonly reader: RecordingReader, private offset: number, private readonly types?: readonly number[], private readonly until = Infinity) {}

  peek(): FrameRecord | undefined {
    while (this.at >= this.buffered.length) {
      if (!this.load()) return undefined;
    }
    return this.buffered[this.at];
  }

  next(): FrameRecord | undefined {
    const f = this.peek();
    if (f) this.at++;
    return f;
  }

  private load(): boolean {
    if (this.offset >= this.until) return false;
    const found = this.reader.locate(this.offset);
    if (found.kind === 'end' || found.kind === 'partial') return false;
    if (found.kind === 'damaged') {
      const next = this.reader.resync(this.offset + 1);
      const until = next === undefined ? 'the end' : formatRecordingTime(next.header.startMs);
      this.reader.warn(`damage@${this.offset}`, `${this.reader.path}: ${formatBytes((next?.offset ?? this.reader.size) - this.offset)} damaged at byte ${this.offset} (${found.reason}): frames between ${formatRecordingTime(this.lastEndMs)} and ${until} are lost`);
      if (!next) {
        this.offset = Infinity;
        return false;
      }
      this.offset = next.offset;
      return true;
    }
    const { header, end } = found.chunk;
    this.buffered = header.kind === ChunkKind.frames && (!this.types || header.sections.some((s) => this.types!.some((t) => sectionHasType(s, t))))
      ? this.reader.chunkFrames(found.chunk, this.types)
      : [];
    if (header.kind === ChunkKind.frames) this.lastEndMs = header.endMs;
    this.at = 0;
    this.offset = end;
    return true;
  }
}
