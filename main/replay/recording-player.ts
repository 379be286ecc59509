// The state of a recorded session at any time: frames from the file, through the same
// SessionFeed as live, so replay and live cannot disagree. Seeking starts from the nearest
// keyframe at or before the target time and reduces forward; keyframes are at most ~2000
// frames or 4 MB apart, and only the newest of the event batches between are kept for the
// trace model (built when it is next used), which bounds a seek's work.
// No timers here: replay-session.ts paces it with the replay clock.
//
// Every loop of the session has its own feed: the frames a loop sent (their loop number says
// which) go through its feed, as they went through its LiveSource's live. `feed` is loop 0's.

import { MessageType, messageTypeName, PROTOCOL_VERSION, WireError, WireLimitError, type MessageTypeId, type MetricsSample, type RawFrame } from '../../probe/wire';
import { formatRecordingTime } from '../common/time-format';
import { ChunkKind, FILE_HEADER_BYTES, type FrameRecord } from '../recording/format';
import { parseKeyframe, type LoopKeyframe, type RecentPart } from '../recording/keyframe';
import { keyframeAtOrBefore, type KeyframeEntry } from '../recording/recording-index';
import { FrameCursor, type RecordingReader } from '../recording/recording-reader';
import { overLimitError } from '../recording/errors';
import { FeedView, SessionFeed, type FeedOptions, type SessionData } from '../session/session-feed';

/**
 * After a seek, the trace model holds at least this many of the events before the target
 * (8 of the probe's batches; all of them when fewer lie between the restored keyframe and the
 * target): a second or more of a busy server's timeline, for 10–20 ms of work when it is used.
 */
export const SEEK_TRACE_EVENTS = 32_768;

export interface PlayerOptions extends FeedOptions {
  /**
   * A frame past the wire's limits refuses the whole file (a RecordingError), as summary and
   * export want: no real recording has one. Replay, which must not stop, skips it with a warning.
   */
  readonly refuseOverLimit?: boolean;
}

/** A recorded frame as the decoder takes it; a type it does not know, it rejects. */
const rawFrame = (f: FrameRecord): RawFrame => ({ type: f.type as MessageTypeId, payload: f.payload });

export class RecordingPlayer extends FeedView {
  readonly feed: SessionFeed;
  /** By loop number (0 is `feed`'s); a loop's feed is made when its first frame comes, and kept. */
  private readonly feeds = new Map<number, SessionFeed>();
  private readonly feedOptions: FeedOptions;
  private readonly loopListeners: ((loop: number, feed: SessionFeed) => void)[] = [];
  private cursor: FrameCursor;
  /** Number of the next frame to apply: frames below it are in the state. */
  private nextSeq = 0;
  private position = 0;
  private readonly undecodable = new Map<string, { count: number; example: string }>();
  private readonly listeners: ((f: FrameRecord) => void)[] = [];
  /**
   * The samples the last keyframe restore decoded, by frame number: seeking near the last seek
   * (scrubbing) reuses them instead of decoding up to 6000 samples again.
   */
  private sampleCache = new Map<number, MetricsSample>();

  private readonly refuseOverLimit: boolean;

  constructor(private readonly reader: RecordingReader, options: PlayerOptions = {}) {
    super();
    this.refuseOverLimit = options.refuseOverLimit ?? false;
    this.feedOptions = options;
    this.feed = this.feedOf(0);
    this.cursor = new FrameCursor(reader, FILE_HEADER_BYTES);
    this.position = reader.info.firstMs;
  }

  /** The time the state is at, ms since the recording's start. */
  get positionMs(): number {
    return this.position;
  }

  /** The time of the next frame, or undefined at the end of what is readable. */
  get nextFrameMs(): number | undefined {
    return this.cursor.peek()?.timeMs;
  }

  /** Every loop that has said hello by now, by loop number (the first is `feed`'s). */
  get loops(): readonly SessionData[] {
    return this.numberedLoops.map((l) => l.data);
  }

  /** The same, each with its loop number. */
  get numberedLoops(): readonly { readonly loop: number; readonly data: SessionData }[] {
    return [...this.feeds].sort(([a], [b]) => a - b).filter(([, f]) => f.state.hello !== undefined).map(([loop, data]) => ({ loop, data }));
  }

  /** Each loop's feed as it is made, and those made already (loop 0's first); for listening to its messages. */
  onLoop(listener: (loop: number, feed: SessionFeed) => void): void {
    for (const [loop, f] of this.feeds) listener(loop, f);
    this.loopListeners.push(listener);
  }

  /** Each frame as it is applied (its message reaches the feed's listeners). */
  onFrame(listener: (f: FrameRecord) => void): void {
    this.listeners.push(listener);
  }

  /** The reader's warnings and the frames that could not be decoded, one line each. */
  get warnings(): string[] {
    const lines = [...this.reader.warnings];
    for (const [type, u] of this.undecodable) lines.push(`${u.count} ${type} frame${u.count === 1 ? '' : 's'} could not be decoded and were skipped (first: ${u.example})`);
    return lines;
  }

  /** Applies every frame up to and including `timeMs`. */
  advanceTo(timeMs: number): void {
    for (let f = this.cursor.peek(); f && f.timeMs <= timeMs; f = this.cursor.peek()) this.apply(this.cursor.next()!);
    this.position = Math.max(this.position, timeMs);
  }

  /** Applies frames until one that changes what a view shows; false at the end. */
  step(): boolean {
    for (let f = this.cursor.next(); f; f = this.cursor.next()) {
      this.position = Math.max(this.position, f.timeMs);
      if (this.apply(f) && f.type !== MessageType.Dictionary) return true;
    }
    return false;
  }

  /** The state at `timeMs`: forward from here when that is nearest, else from a keyframe. */
  seek(timeMs: number): void {
    const keyframes = this.reader.keyframes;
    const k = keyframeAtOrBefore(keyframes, timeMs);
    const forward = timeMs >= this.position && (k === undefined || keyframes[k]!.seq <= this.nextSeq);
    if (!forward) {
      let restored = false;
      for (let i = k ?? -1; i >= 0 && !restored; i--) restored = this.restore(keyframes[i]!);
      if (!restored) this.reset();
    }
    // Every loop's trace model is bounded alike (a loop first seen on the way: by its own bounds).
    const run = [...this.feeds.values()].reduce((inner, feed) => () => feed.fastForward(SEEK_TRACE_EVENTS, inner), () => {
      for (let f = this.cursor.peek(); f && f.timeMs <= timeMs; f = this.cursor.peek()) this.apply(this.cursor.next()!);
    });
    run();
    this.position = timeMs;
  }

  /**
   * Loop `loop`'s feed, made now when no frame of it has come yet (it stays empty until one does).
   * Loop numbers are below MAX_LOOPS (the reader checks), which bounds the feeds a file can make.
   */
  feedOf(loop: number): SessionFeed {
    let feed = this.feeds.get(loop);
    if (!feed) {
      feed = new SessionFeed(this.feedOptions);
      this.feeds.set(loop, feed);
      for (const l of this.loopListeners) l(loop, feed);
    }
    return feed;
  }

  private reset(): void {
    for (const f of this.feeds.values()) f.reset();
    this.cursor = new FrameCursor(this.reader, FILE_HEADER_BYTES);
    this.nextSeq = 0;
    this.position = 0;
  }

  /** Loads a keyframe's state; false (with a warning) when it cannot be used. */
  private restore(entry: KeyframeEntry): boolean {
    const where = `the keyframe at ${formatRecordingTime(entry.timeMs)}`;
    const found = this.reader.locate(entry.offset);
    if (found.kind !== 'chunk' || found.chunk.header.kind !== ChunkKind.keyframe || found.chunk.header.firstSeq !== entry.seq) {
      this.reader.warn(`keyframe@${entry.offset}`, `${this.reader.path}: ${where} is damaged; replayed from an earlier point instead`);
      return false;
    }
    const body = this.reader.section(found.chunk, 0);
    const parsed = body.ok ? parseKeyframe(body.value) : body;
    if (!parsed.ok) {
      this.reader.warn(`keyframe@${entry.offset}`, `${this.reader.path}: ${where} cannot be used (${parsed.reason}); replayed from an earlier point instead`);
      return false;
    }
    const decoded = new Map<number, MetricsSample>();
    try {
      // Loops that came after the keyframe start again from nothing.
      for (const f of this.feeds.values()) f.reset();
      for (const k of parsed.value.loops) this.restoreLoop(k, entry, decoded);
    } catch (err) {
      this.reader.warn(`keyframe@${entry.offset}`, `${this.reader.path}: ${where} cannot be used (${err instanceof WireError ? err.message : 'malformed state'}); replayed from an earlier point instead`);
      return false;
    }
    this.sampleCache = decoded;
    this.cursor = new FrameCursor(this.reader, found.chunk.end);
    this.nextSeq = entry.seq;
    this.position = entry.timeMs;
    return true;
  }
  private restoreLoop(k: LoopKeyframe, entry: KeyframeEntry, decoded: Map<number, MetricsSample>): void {
    const feed = this.feedOf(k.loop);
    feed.restore(k.state, [], k.dictionary, k.profile);
    const recent = this.recentSamples(feed, k.loop, k.recentParts, k.recentCount, entry, decoded);
    if (recent.length < k.recentCount) {
      this.reader.warn(`recent@${entry.offset}`, `${this.reader.path}: the history shown before ${formatRecordingTime(entry.timeMs)} is incomplete (${k.recentCount - recent.length} samples lost to damage)`);
    }
    feed.recent.fill(recent);
  }

  /**
   * `recent` of loop `loop` at a keyframe: its last `count` metrics samples in the parts it
   * points at, before its frame number. Only those are decoded (newest first, so that an undecodable one is
   * replaced by an older one, as the reducer never saw it live), or taken from the last
   * restore's samples when scrubbing near it.
   */
  private recentSamples(feed: SessionFeed, loop: number, parts: readonly RecentPart[], count: number, entry: KeyframeEntry, decoded: Map<number, MetricsSample>): MetricsSample[] {
    if (count === 0) return [];
    let frames: FrameRecord[] = [];
    const take = (f: FrameRecord): void => {
      if (f.type !== MessageType.Metrics || f.loop !== loop || f.seq >= entry.seq || f.version !== PROTOCOL_VERSION) return;
      frames.push(f);
      // The newest are wanted, with some to spare for undecodable ones: memory bounded by `count`, whatever the parts say.
      if (frames.length > 2 * count) frames = frames.slice(-count);
    };
    for (const part of parts) {
      if ('samplesAt' in part) {
        const chunk = this.reader.locate(part.samplesAt);
        if (chunk.kind === 'chunk' && chunk.chunk.header.kind === ChunkKind.samples && part.samplesAt < entry.offset) {
          for (const f of this.reader.chunkFrames(chunk.chunk)) take(f);
        }
      } else {
        const cursor = new FrameCursor(this.reader, part.framesFrom, [MessageType.Metrics], Math.min(part.framesTo, entry.offset));
        for (let f = cursor.next(); f; f = cursor.next()) take(f);
      }
    }
    const recent: MetricsSample[] = [];
    for (let i = frames.length - 1; i >= 0 && recent.length < count; i--) {
      const f = frames[i]!;
      let sample = this.sampleCache.get(f.seq);
      if (!sample) {
        try {
          const m = feed.decode(rawFrame(f));
          if (m.type !== 'metrics') continue;
          sample = m.sample;
        } catch {
          // Undecodable live too: the reducer never saw it.
          continue;
        }
      }
      recent.push(sample);
      decoded.set(f.seq, sample);
    }
    return recent.reverse();
  }

  /** Decodes and reduces one frame; false when it was skipped. */
  private apply(f: FrameRecord): boolean {
    if (f.seq < this.nextSeq) return false;
    this.nextSeq = f.seq + 1;
    try {
      if (f.version !== PROTOCOL_VERSION) throw new WireError(`wire protocol ${f.version}`);
      this.feedOf(f.loop).push(rawFrame(f));
    } catch (err) {
      if (err instanceof WireLimitError && this.refuseOverLimit) throw overLimitError(this.reader.path, err.message);
      const type = messageTypeName(f.type);
      const u = this.undecodable.get(type) ?? { count: 0, example: err instanceof Error ? err.message : String(err) };
      u.count++;
      this.undecodable.set(type, u);
      return false;
    }
    for (const l of this.listeners) l(f);
    return true;
  }
}
