// Records a session: a tee of the probe's raw frames into an append-only file of compressed
// chunks (see RECORDING.md). Frames wait at most `flushIntervalMs` before their chunk is
// written, so a kill -9 of loopscope or of the target loses at most that much. Compression
// runs on libuv's thread pool and writes are queued in order, so recording does not stall the
// live view; if the disk falls behind by more than `maxBacklogBytes`, frames are dropped and
// counted (and the count is written into the file), never buffered without bound.
//
// The writer also reduces the frames with the session reducer, to store keyframes: the state
// every so often, which makes seeking in a large recording fast.
//
// A session is a set of loops (worker threads, child processes): each frame is written with the
// number of the loop that sent it, and each loop has its own reducer, for keyframes.

import { MessageType, PROTOCOL_VERSION, type Hello, type ProbeMessage, type RawFrame } from '../../probe/wire';
import { encodeHello } from '../../probe/wire-json';
import { RECENT_SAMPLES } from '../session/sample-ring';
import { SessionFeed } from '../session/session-feed';
import { ChunkFile, deflate } from './chunk-file';
import { ChunkKind, encodeFooter, Lane, MAX_LOOPS, SectionBuilder } from './format';
import { encodeKeyframe } from './keyframe';
import { RecentParts, type RecordedFrame } from './recent-parts';
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

/**
 * Frame types read to rebuild the state and the summary; anything else is bulk (event batches,
 * the CPU samples and their dictionary).
 */
const CORE_TYPES: ReadonlySet<number> = new Set([
  MessageType.Hello, MessageType.Metrics, MessageType.Blocked, MessageType.Drops, MessageType.Dictionary,
  MessageType.Goodbye, MessageType.Tasks, MessageType.ProbePause, MessageType.ProfilerState, MessageType.Notice,
  MessageType.GcSource,
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
  /** The metrics frames in it by loop number, for `recent` (see RecentBlock). */
  metrics: Map<number, RecordedFrame[]>;
}

/** A loop being recorded: reduced alongside, for keyframes. */
interface WriterLoop {
  readonly pid: number;
  readonly threadId: number;
  /** Its state as of the frames written so far: keyframes only need the state, not samples or the trace. */
  readonly feed: SessionFeed;
  readonly recent: RecentParts;
  metricsSeen: number;
}

export class RecordingWriter {
  private readonly options: Required<RecordingWriterOptions>;
  private readonly file: ChunkFile;
  private readonly startedAtMs: number;
  private readonly lanes = [new SectionBuilder(), new SectionBuilder()];
  private pending: PendingChunk | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private lastTimeMs = 0;
  private frameBytes = 0;
  private dropped = 0;
  private closing: Promise<void> | undefined;

  /** By loop number; loop 0 is the first to say hello. */
  private readonly loops: WriterLoop[] = [];
  private loopsRefused = 0;
  private sinceKeyframe = { frames: 0, bytes: 0, timeMs: 0 };
  private lastKeyframeBytes = 0;

  // Owned by the file's ordered write queue.
  private backlog = 0;
  private readonly keyframes: KeyframeEntry[] = [];

  private constructor(readonly path: string, options: RecordingWriterOptions) {
    this.options = { ...DEFAULTS, ...options };
    this.startedAtMs = Date.now();
    this.file = new ChunkFile(path, this.startedAtMs);
    this.file.onError(() => clearTimeout(this.flushTimer));
  }

  /** Creates (or empties) the file now, so a bad path is reported before anything starts. */
  static create(path: string, options: RecordingWriterOptions = {}): RecordingWriter {
    return new RecordingWriter(path, options);
  }

  get stats(): RecordingStats {
    return { frames: this.seq, frameBytes: this.frameBytes, fileBytes: this.file.offset, keyframes: this.keyframes.length, droppedFrames: this.dropped, backlogBytes: this.backlog };
  }

  /** Why recording stopped early (e.g. the disk is full), if it did. */
  get error(): string | undefined {
    return this.file.error;
  }

  onError(listener: (reason: string) => void): void {
    this.file.onError(listener);
  }

  /**
   * A loop's probe said hello: its hello is written (without the session's token), and its
   * loop number returned for its frames (see write). The first loop is loop 0, and its hello
   * the file's first frame; a loop seen before (its probe back) keeps its number. Undefined
   * when the file cannot take more loops (MAX_LOOPS), or has stopped.
   */
  start(hello: Hello, atMs = Date.now()): number | undefined {
    if (this.closing || this.file.error !== undefined) return undefined;
    let loop = this.loops.findIndex((l) => l.pid === hello.pid && l.threadId === hello.threadId);
    if (loop < 0) {
      if (this.loops.length >= MAX_LOOPS) {
        this.loopsRefused++;
        return undefined;
      }
      loop = this.loops.length;
      this.loops.push({ pid: hello.pid, threadId: hello.threadId, feed: new SessionFeed({ recentSamples: 0, trace: false, profileSamples: 0 }), recent: new RecentParts(this.file), metricsSeen: 0 });
    }
    const frame = encodeHello({ ...hello, token: '' });
    this.write({ type: MessageType.Hello, payload: frame.subarray(8) }, atMs, undefined, loop);
    // The hello alone makes a file that opens: do not wait for the first flush.
    if (loop === 0) this.flush();
    return loop;
  }

  /**
   * One frame of loop `loop` (see start) as it arrived, and what it says when the caller has
   * decoded it already (a live session has: LiveSource's frame listeners get all three), which
   * spares decoding it again.
   */
  write(raw: RawFrame, receivedAtMs: number, message?: ProbeMessage, loop = 0): void {
    const l = this.loops[loop];
    if (!l || this.closing || this.file.error !== undefined) return;
    const size = raw.payload.byteLength + 16;
    if (this.backlog + size > this.options.maxBacklogBytes) {
      this.dropped++;
      return;
    }
    const timeMs = Math.max(this.lastTimeMs, receivedAtMs - this.startedAtMs);
    if (this.pending && (timeMs - this.pending.startMs) * 1000 > MAX_TIME_DELTA_US) this.flush();
    this.pending ??= { firstSeq: this.seq, startMs: timeMs, endMs: timeMs, metrics: new Map() };
    const p = this.pending;
    const lane = CORE_TYPES.has(raw.type) ? Lane.core : Lane.bulk;
    this.lanes[lane]!.append(this.seq - p.firstSeq, Math.round((timeMs - p.startMs) * 1000), PROTOCOL_VERSION, raw.type, raw.payload, loop);
    p.endMs = timeMs;
    this.seq++;
    this.lastTimeMs = timeMs;
    this.frameBytes += size;
    this.sinceKeyframe.frames++;
    this.sinceKeyframe.bytes += size;
    this.backlog += size;
    this.reduce(raw, p, message, l, loop);
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
      if (this.loops.length > 0 && this.sinceKeyframe.frames > 0) this.enqueueKeyframe();
      const closedAtMs = Math.max(this.lastTimeMs, Date.now() - this.startedAtMs);
      const warnings = [...(ending?.warnings ?? [])];
      if (this.dropped > 0) warnings.push(`the recording missed ${this.dropped} frames: the disk was too slow`);
      if (this.loopsRefused > 0) warnings.push(`the recording left out ${this.loopsRefused} loops: it holds ${MAX_LOOPS} at most`);
      this.file.enqueue(async () => {
        const dataEnd = this.file.offset;
        const index = encodeIndex({
          frames: this.seq, endMs: this.lastTimeMs, closedAtMs, dataEnd,
          ending: { exitCode: ending?.exitCode ?? null, warnings },
        }, this.keyframes);
        await this.file.writeChunk(ChunkKind.index, { firstSeq: this.seq, startMs: this.lastTimeMs, endMs: this.lastTimeMs, frameCount: 0 }, [[Lane.core, await deflate(index, 6), index, 0, 0, 0]]);
        await this.file.writeBytes(encodeFooter(dataEnd));
      });
      await this.file.close();
    })();
    return this.closing;
  }

  private reduce(raw: RawFrame, p: PendingChunk, decoded: ProbeMessage | undefined, l: WriterLoop, loop: number): void {
    let message = decoded;
    try {
      if (message) l.feed.apply(message);
      else message = l.feed.push(raw);
    } catch {
      // Recorded as it came; a reader's decoder fails on it the same way.
      return;
    }
    if (message.type === 'metrics') {
      // A copy: the payload may be a view into a large socket buffer.
      const frame = { seq: this.seq - 1, loop, timeMs: p.endMs, payload: new Uint8Array(raw.payload) };
      const list = p.metrics.get(loop);
      if (list) list.push(frame);
      else p.metrics.set(loop, [frame]);
      l.metricsSeen++;
    }
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const p = this.pending;
    if (!p || this.file.error !== undefined) return;
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
    this.file.enqueue(async () => {
      const done = await Promise.all(sections.map(async (s) => [s.lane, await s.stored, s.raw, ...s.mask] as const));
      const offset = this.file.offset;
      await this.file.writeChunk(ChunkKind.frames, { firstSeq: p.firstSeq, startMs: p.startMs, endMs: p.endMs, frameCount }, done);
      this.backlog -= sections.reduce((n, s) => n + s.raw.length, 0);
      for (const [loop, metrics] of p.metrics) await this.loops[loop]!.recent.written(offset, this.file.offset, metrics);
    });
    if (this.keyframeDue()) this.enqueueKeyframe();
  }

  private enqueueKeyframe(): void {
    const loops = this.loops.map((l, loop) => ({
      loop, recent: l.recent, state: l.feed.state, dictionary: [...l.feed.dictionary], profile: l.feed.profileDictionary,
      // What a reader's feed keeps: the last RECENT_SAMPLES samples.
      recentCount: Math.min(RECENT_SAMPLES, l.metricsSeen),
    }));
    const seq = this.seq;
    const timeMs = this.lastTimeMs;
    this.sinceKeyframe = { frames: 0, bytes: 0, timeMs };
    this.file.enqueue(async () => {
      const entries = [];
      for (const { recent, profile, ...l } of loops) entries.push({ ...l, recentParts: await recent.partsFor(l.recentCount), ...(profile ? { profile } : {}) });
      const raw = encodeKeyframe({ loops: entries });
      this.lastKeyframeBytes = raw.length;
      const offset = this.file.offset;
      const trail = encodeKeyframeEntries(this.keyframes.slice(-KEYFRAME_TRAIL));
      await this.file.writeChunk(ChunkKind.keyframe, { firstSeq: seq, startMs: timeMs, endMs: timeMs, frameCount: 0 }, [
        [Lane.core, await deflate(raw, 6), raw, 0, 0, 0],
        [Lane.core, await deflate(trail, 6), trail, 0, 0, 0],
      ]);
      this.keyframes.push({ offset, seq, timeMs });
    });
  }
}
