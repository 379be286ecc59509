// Records a session: a tee of the probe's raw frames into an append-only file of compressed
// chunks (see RECORDING.md). Frames wait at most `flushIntervalMs` before their chunk is
// written, so a kill -9 of loopscope or of the target loses at most that much. Compression
// runs on libuv's thread pool and writes are queued in order, so recording does not stall the
// live view; if the disk falls behind by more than `maxBacklogBytes`, frames are dropped and
// counted (and the count is written into the file), never buffered without bound.
//
// The writer also reduces the frames with the session reducer, to store keyframes: the state
// every so often, which makes seeking in a large recording fast.

import { closeSync, fsyncSync, write as fsWrite, writeSync } from 'node:fs';
import { deflateRaw } from 'node:zlib';
import { MessageType, PROTOCOL_VERSION, type Hello, type ProbeMessage, type RawFrame } from '../../probe/wire';
import { encodeHello } from '../../probe/wire-json';
import { RECENT_SAMPLES } from '../session/sample-ring';
import { SessionFeed } from '../session/session-feed';
import { fsReason, RecordingError, RECORDING_EXIT } from './errors';
import {
  ChunkKind, Codec, encodeChunkHeader, encodeFileHeader, encodeFooter, FILE_HEADER_BYTES, Lane, SectionBuilder,
  type ChunkKindId, type LaneId, type SectionHeader,
} from './format';
import { crc32 } from './crc32';
import { openPrivateOutput } from './private-output';
import { encodeKeyframe, type RecentPart } from './keyframe';
import { encodeIndex, encodeKeyframeEntries, KEYFRAME_TRAIL, type KeyframeEntry, type RecordingEnding } from './recording-index';

export interface RecordingWriterOptions {
  /** Longest a frame waits in memory before its chunk is written. */
  readonly flushIntervalMs?: number;
  /** A lane's frames are written as soon as they reach this many bytes. */
  readonly chunkBytes?: number;
  /** Keyframe spacing: at most this many frames or bytes of frames between two keyframes, */
  readonly keyframeMaxFrames?: number;
  readonly keyframeMaxBytes?: number;
  /** and otherwise one every this many ms, once the frames since outweigh the last keyframe 4:1. */
  readonly keyframeIntervalMs?: number;
  /** Frames waiting for compression and the disk, in bytes, beyond which new ones are dropped. */
  readonly maxBacklogBytes?: number;
  /** zlib level for large sections, 1 (fastest) to 9; small ones (metrics mode) always get 6. */
  readonly compressionLevel?: number;
}

const DEFAULTS: Required<RecordingWriterOptions> = {
  flushIntervalMs: 500,
  chunkBytes: 1024 * 1024,
  keyframeMaxFrames: 2000,
  keyframeMaxBytes: 4 * 1024 * 1024,
  keyframeIntervalMs: 10_000,
  maxBacklogBytes: 64 * 1024 * 1024,
  compressionLevel: 1,
};

/** Frame types read to rebuild the state and the summary; anything else is bulk (event batches). */
const CORE_TYPES: ReadonlySet<number> = new Set([
  MessageType.Hello, MessageType.Metrics, MessageType.Blocked, MessageType.Drops, MessageType.Dictionary,
  MessageType.Goodbye, MessageType.Tasks,
]);
const SMALL_SECTION_BYTES = 64 * 1024;
/** u32 µs: a chunk spans at most ~71 minutes (it never does: it is flushed every second). */
const MAX_TIME_DELTA_US = 0xffff_ffff;

export interface RecordingStats {
  readonly frames: number;
  readonly frameBytes: number;
  readonly fileBytes: number;
  readonly keyframes: number;
  readonly droppedFrames: number;
  /** Frame bytes handed over and not yet on disk (a producer that can wait keeps this low). */
  readonly backlogBytes: number;
}

interface PendingChunk {
  firstSeq: number;
  startMs: number;
  endMs: number;
  /** The metrics frames in it, for `recent` (see RecentBlock). */
  metrics: RecordedFrame[];
}

interface RecordedFrame {
  readonly seq: number;
  readonly timeMs: number;
  readonly payload: Uint8Array;
}

/**
 * Up to SAMPLES_PER_BLOCK metrics samples in a row, and the frames chunks they are in. When
 * they are spread over more than SAMPLES_SPREAD_BYTES of file (bulk data between them, in
 * trace mode) or over more than SAMPLES_SPREAD_CHUNKS chunks (a chunk every 500 ms, in
 * metrics mode), the full block is copied into a samples chunk, so that rebuilding `recent`
 * at a seek reads and inflates a few chunks rather than every chunk of ten minutes.
 */
interface RecentBlock {
  from: number;
  to: number;
  chunks: number;
  frames: RecordedFrame[];
}
const SAMPLES_PER_BLOCK = 300;
const SAMPLES_SPREAD_BYTES = 1024 * 1024;
const SAMPLES_SPREAD_CHUNKS = 16;
/**
 * Once `recent` is in this many parts, a block spread over many bytes is copied together with
 * all of `recent` (a snapshot: up to RECENT_SAMPLES samples in one chunk), which replaces the
 * parts before it. A trace-mode seek then reads at most this many samples chunks and a partial
 * block, each a random read on a cold disk, for about 5 copies of each sample (a small part of
 * a trace-mode file). Blocks spread over many chunks only are close together: no snapshots.
 */
const MAX_RECENT_PARTS = 4;

function deflate(bytes: Uint8Array, level: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => deflateRaw(bytes, { level }, (err, out) => (err ? reject(err) : resolve(out))));
}

function writeAt(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (at: number): void => {
      fsWrite(fd, bytes, at, bytes.length - at, position + at, (err, written) => {
        if (err) return reject(err);
        if (at + written < bytes.length) step(at + written);
        else resolve();
      });
    };
    step(0);
  });
}

export class RecordingWriter {
  private readonly options: Required<RecordingWriterOptions>;
  private fd: number | undefined;
  private readonly startedAtMs: number;
  private readonly lanes = [new SectionBuilder(), new SectionBuilder()];
  private pending: PendingChunk | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private lastTimeMs = 0;
  private frameBytes = 0;
  private dropped = 0;
  private started = false;
  private closing: Promise<void> | undefined;
  private failure: string | undefined;
  private readonly errorListeners: ((reason: string) => void)[] = [];

  // Reduced alongside, for keyframes.
  /** The state as of the frames written so far: keyframes only need the state, not samples or the trace. */
  private readonly feed = new SessionFeed({ recentSamples: 0, trace: false });
  private sinceKeyframe = { frames: 0, bytes: 0, timeMs: 0 };
  private metricsSeen = 0;
  private lastKeyframeBytes = 0;

  // Owned by the ordered write queue.
  private queue: Promise<void> = Promise.resolve();
  private offset = FILE_HEADER_BYTES;
  private backlog = 0;
  private readonly keyframes: KeyframeEntry[] = [];
  /** Where the last RECENT_SAMPLES samples are, oldest first, and the block being filled. */
  private readonly recentParts: { part: RecentPart; count: number }[] = [];
  private recentInParts = 0;
  private block: RecentBlock | undefined;
  /** The last RECENT_SAMPLES metrics frames written (up to twice that: trimmed in bulk), for snapshots. */
  private lastSamples: RecordedFrame[] = [];

  private constructor(readonly path: string, options: RecordingWriterOptions) {
    this.options = { ...DEFAULTS, ...options };
    this.startedAtMs = Date.now();
    try {
      this.fd = openPrivateOutput(path);
      writeSync(this.fd, encodeFileHeader({ wireProtocol: PROTOCOL_VERSION, startedAtMs: this.startedAtMs }));
    } catch (err) {
      if (this.fd !== undefined) closeSync(this.fd);
      throw new RecordingError(`cannot record to ${path}: ${fsReason(err)}`, RECORDING_EXIT.cannotWrite);
    }
  }

  /** Creates (or empties) the file now, so a bad path is reported before anything starts. */
  static create(path: string, options: RecordingWriterOptions = {}): RecordingWriter {
    return new RecordingWriter(path, options);
  }

  get stats(): RecordingStats {
    return { frames: this.seq, frameBytes: this.frameBytes, fileBytes: this.offset, keyframes: this.keyframes.length, droppedFrames: this.dropped, backlogBytes: this.backlog };
  }

  /** Why recording stopped early (e.g. the disk is full), if it did. */
  get error(): string | undefined {
    return this.failure;
  }

  onError(listener: (reason: string) => void): void {
    this.errorListeners.push(listener);
  }

  /** The probe said hello: it becomes the first frame (without its one-time token). */
  start(hello: Hello, atMs = Date.now()): void {
    if (this.started) return;
    this.started = true;
    const frame = encodeHello({ ...hello, token: '' });
    this.write({ type: MessageType.Hello, payload: frame.subarray(8) }, atMs);
    // The hello alone makes a file that opens: do not wait for the first flush.
    this.flush();
  }

  /**
   * One frame as it arrived, and what it says when the caller has decoded it already (a live
   * session has: LiveSource's frame listeners get both), which spares decoding it again.
   */
  write(raw: RawFrame, receivedAtMs: number, message?: ProbeMessage): void {
    if (!this.started || this.closing || this.failure !== undefined) return;
    const size = raw.payload.byteLength + 16;
    if (this.backlog + size > this.options.maxBacklogBytes) {
      this.dropped++;
      return;
    }
    const timeMs = Math.max(this.lastTimeMs, receivedAtMs - this.startedAtMs);
    if (this.pending && (timeMs - this.pending.startMs) * 1000 > MAX_TIME_DELTA_US) this.flush();
    this.pending ??= { firstSeq: this.seq, startMs: timeMs, endMs: timeMs, metrics: [] };
    const p = this.pending;
    const lane = CORE_TYPES.has(raw.type) ? Lane.core : Lane.bulk;
    this.lanes[lane]!.append(this.seq - p.firstSeq, Math.round((timeMs - p.startMs) * 1000), PROTOCOL_VERSION, raw.type, raw.payload);
    p.endMs = timeMs;
    this.seq++;
    this.lastTimeMs = timeMs;
    this.frameBytes += size;
    this.sinceKeyframe.frames++;
    this.sinceKeyframe.bytes += size;
    this.backlog += size;
    this.reduce(raw, p, message);
    if (this.lanes[lane]!.length >= this.options.chunkBytes || this.keyframeDue()) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs).unref();
  }

  /** A keyframe is written after the flush that makes one due (see RECORDING.md, Keyframes). */
  private keyframeDue(): boolean {
    const since = this.sinceKeyframe;
    const o = this.options;
    return since.frames >= o.keyframeMaxFrames || since.bytes >= o.keyframeMaxBytes
      || (this.lastTimeMs - since.timeMs >= o.keyframeIntervalMs && since.bytes >= 4 * this.lastKeyframeBytes);
  }

  /** Flushes what is pending, adds a last keyframe, the index and the footer, and closes. */
  close(ending?: RecordingEnding): Promise<void> {
    this.closing ??= (async () => {
      this.flush();
      if (this.started && this.sinceKeyframe.frames > 0) this.enqueueKeyframe();
      const closedAtMs = Math.max(this.lastTimeMs, Date.now() - this.startedAtMs);
      const warnings = [...(ending?.warnings ?? [])];
      if (this.dropped > 0) warnings.push(`the recording missed ${this.dropped} frames: the disk was too slow`);
      this.enqueue(async () => {
        const dataEnd = this.offset;
        const index = encodeIndex({
          frames: this.seq, endMs: this.lastTimeMs, closedAtMs, dataEnd,
          ending: { exitCode: ending?.exitCode ?? null, warnings },
        }, this.keyframes);
        await this.writeChunk(ChunkKind.index, { firstSeq: this.seq, startMs: this.lastTimeMs, endMs: this.lastTimeMs, frameCount: 0 }, [[Lane.core, await deflate(index, 6), index, 0, 0, 0]]);
        await writeAt(this.fd!, encodeFooter(dataEnd), this.offset);
        this.offset += 16;
      });
      await this.queue;
      if (this.fd !== undefined) {
        try {
          if (this.failure === undefined) fsyncSync(this.fd);
        } catch {
          // fsync is best effort: some file systems do not support it.
        }
        closeSync(this.fd);
        this.fd = undefined;
      }
    })();
    return this.closing;
  }

  private reduce(raw: RawFrame, p: PendingChunk, decoded: ProbeMessage | undefined): void {
    let message = decoded;
    try {
      if (message) this.feed.apply(message);
      else message = this.feed.push(raw);
    } catch {
      // Recorded as it came; a reader's decoder fails on it the same way.
      return;
    }
    if (message.type === 'metrics') {
      // A copy: the payload may be a view into a large socket buffer.
      p.metrics.push({ seq: this.seq - 1, timeMs: p.endMs, payload: new Uint8Array(raw.payload) });
      this.metricsSeen++;
    }
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const p = this.pending;
    if (!p || this.fd === undefined) return;
    this.pending = undefined;
    const level = this.options.compressionLevel;
    const sections = ([Lane.core, Lane.bulk] as const)
      .filter((lane) => this.lanes[lane]!.frameCount > 0)
      .map((lane) => {
        const b = this.lanes[lane]!;
        const mask = [b.frameCount, b.typeMaskLo, b.typeMaskHi] as const;
        const raw = b.take();
        // Compression starts now, in parallel with earlier writes; the queue keeps the order.
        // Small sections cost little to compress well, and are most of a long metrics recording.
        return { lane, raw, mask, stored: deflate(raw, raw.length < SMALL_SECTION_BYTES ? 6 : level) };
      });
    const frameCount = sections.reduce((n, s) => n + s.mask[0], 0);
    this.enqueue(async () => {
      const done = await Promise.all(sections.map(async (s) => [s.lane, await s.stored, s.raw, ...s.mask] as const));
      const offset = this.offset;
      await this.writeChunk(ChunkKind.frames, { firstSeq: p.firstSeq, startMs: p.startMs, endMs: p.endMs, frameCount }, done);
      this.backlog -= sections.reduce((n, s) => n + s.raw.length, 0);
      if (p.metrics.length > 0) {
        this.block ??= { from: offset, to: offset, chunks: 0, frames: [] };
        this.block.to = this.offset;
        this.block.chunks++;
        this.block.frames.push(...p.metrics);
        this.lastSamples.push(...p.metrics);
        if (this.lastSamples.length >= 2 * RECENT_SAMPLES) this.lastSamples = this.lastSamples.slice(-RECENT_SAMPLES);
        if (this.block.frames.length >= SAMPLES_PER_BLOCK) await this.closeBlock();
      }
    });
    if (this.keyframeDue()) this.enqueueKeyframe();
  }

  private enqueueKeyframe(): void {
    const state = this.feed.state;
    // What a reader's feed keeps: the last RECENT_SAMPLES samples.
    const recentCount = Math.min(RECENT_SAMPLES, this.metricsSeen);
    const dictionary = [...this.feed.dictionary];
    const seq = this.seq;
    const timeMs = this.lastTimeMs;
    this.sinceKeyframe = { frames: 0, bytes: 0, timeMs };
    this.enqueue(async () => {
      // The block being filled: copied out so far if spread over many bytes (it goes on
      // filling, and is copied again, whole, when it is full), else a range of chunks (in
      // metrics mode, up to 60 small ones: copying it at every keyframe would cost more).
      const b = this.block;
      const tail = !b ? [] : b.to - b.from > SAMPLES_SPREAD_BYTES
        ? [{ part: { samplesAt: await this.writeSamples(b.frames) }, count: b.frames.length }]
        : [{ part: { framesFrom: b.from, framesTo: b.to }, count: b.frames.length }];
      const all = [...this.recentParts, ...tail];
      // The newest parts that hold `recentCount` samples.
      let first = all.length;
      for (let needed = recentCount; first > 0 && needed > 0;) needed -= all[--first]!.count;
      const raw = encodeKeyframe({ state, recentCount, recentParts: all.slice(first).map((p) => p.part), dictionary });
      this.lastKeyframeBytes = raw.length;
      const offset = this.offset;
      const trail = encodeKeyframeEntries(this.keyframes.slice(-KEYFRAME_TRAIL));
      await this.writeChunk(ChunkKind.keyframe, { firstSeq: seq, startMs: timeMs, endMs: timeMs, frameCount: 0 }, [
        [Lane.core, await deflate(raw, 6), raw, 0, 0, 0],
        [Lane.core, await deflate(trail, 6), trail, 0, 0, 0],
      ]);
      this.keyframes.push({ offset, seq, timeMs });
    });
  }

  /** Ends the block of samples being filled (in the write queue, after its frames chunks). */
  private async closeBlock(): Promise<void> {
    const b = this.block!;
    this.block = undefined;
    const sparse = b.to - b.from > SAMPLES_SPREAD_BYTES;
    if (!sparse && b.chunks <= SAMPLES_SPREAD_CHUNKS) this.addRecentPart({ framesFrom: b.from, framesTo: b.to }, b.frames.length);
    else if (!sparse || this.recentParts.length < MAX_RECENT_PARTS) this.addRecentPart({ samplesAt: await this.writeSamples(b.frames) }, b.frames.length);
    else {
      const snapshot = this.lastSamples.slice(-RECENT_SAMPLES);
      const samplesAt = await this.writeSamples(snapshot);
      this.recentParts.length = 0;
      this.recentInParts = 0;
      this.addRecentPart({ samplesAt }, snapshot.length);
    }
  }

  private addRecentPart(part: RecentPart, count: number): void {
    this.recentParts.push({ part, count });
    this.recentInParts += count;
    while (this.recentInParts - this.recentParts[0]!.count >= RECENT_SAMPLES) this.recentInParts -= this.recentParts.shift()!.count;
  }

  /** Writes copies of metrics frames as a samples chunk (in the write queue); its offset. */
  private async writeSamples(frames: readonly RecordedFrame[]): Promise<number> {
    const first = frames[0]!;
    const last = frames[frames.length - 1]!;
    const builder = new SectionBuilder();
    for (const f of frames) builder.append(f.seq - first.seq, Math.round((f.timeMs - first.timeMs) * 1000), PROTOCOL_VERSION, MessageType.Metrics, f.payload);
    const mask = [builder.frameCount, builder.typeMaskLo, builder.typeMaskHi] as const;
    const raw = builder.take();
    const offset = this.offset;
    await this.writeChunk(ChunkKind.samples, { firstSeq: first.seq, startMs: first.timeMs, endMs: last.timeMs, frameCount: frames.length }, [[Lane.core, await deflate(raw, 6), raw, ...mask]]);
    return offset;
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined || this.fd === undefined) return;
      try {
        await job();
      } catch (err) {
        this.fail(`recording to ${this.path} stopped: ${fsReason(err)}`);
      }
    });
  }

  private fail(reason: string): void {
    this.failure = reason;
    clearTimeout(this.flushTimer);
    for (const l of this.errorListeners) l(reason);
  }

  private async writeChunk(
    kind: ChunkKindId,
    h: { firstSeq: number; startMs: number; endMs: number; frameCount: number },
    sections: readonly (readonly [LaneId, Uint8Array, Uint8Array, number, number, number])[],
  ): Promise<void> {
    const headers: SectionHeader[] = sections.map(([lane, stored, raw, frameCount, typeMaskLo, typeMaskHi]) => {
      // Incompressible data (already compressed, random) is stored as it is.
      const keep = stored.length < raw.length;
      const body = keep ? stored : raw;
      return { lane, codec: keep ? Codec.deflateRaw : Codec.stored, frameCount, storedBytes: body.length, rawBytes: raw.length, typeMaskLo, typeMaskHi, crc: crc32(body) };
    });
    const header = encodeChunkHeader({ kind, ...h, sections: headers });
    const bodies = sections.map(([, stored, raw]) => (stored.length < raw.length ? stored : raw));
    const out = new Uint8Array(header.length + bodies.reduce((n, b) => n + b.length, 0));
    out.set(header, 0);
    let at = header.length;
    for (const b of bodies) {
      out.set(b, at);
      at += b.length;
    }
    await writeAt(this.fd!, out, this.offset);
    this.offset += out.length;
  }
}
