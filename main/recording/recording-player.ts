// The state of a recorded session at any time: frames from the file, decoded by the same
// decoder and reduced by the same reducer as live (applyMessage), so replay and live cannot
// disagree. Seeking starts from the nearest keyframe at or before the target time and reduces
// forward; keyframes are at most ~2000 frames or 4 MB apart, which bounds a seek's work.
// No timers here: replay-session.ts paces it with the replay clock.

import {
  encodeDictionary, MessageType, messageTypeName, PROTOCOL_VERSION, ProbeDecoder, WireError,
  type MessageTypeId, type MetricsSample, type ProbeMessage, type RawFrame,
} from '../../probe/wire';
import { applyMessage, initialSessionState, type SessionState } from '../session/session-state';
import { summarize } from '../session/summary';
import { TraceModel } from '../session/trace-model';
import { renderLiveView } from '../terminal/live-view';
import { ChunkKind, FILE_HEADER_BYTES, type FrameRecord } from './format';
import { parseKeyframe } from './keyframe';
import { keyframeAtOrBefore, type KeyframeEntry } from './recording-index';
import { FrameCursor, type RecordingReader } from './recording-reader';
import { formatRecordingTime } from './time-format';

/** A recorded frame as the decoder takes it; a type it does not know, it rejects. */
const rawFrame = (f: FrameRecord): RawFrame => ({ type: f.type as MessageTypeId, payload: f.payload });

export class RecordingPlayer {
  private current: SessionState = initialSessionState;
  private decoder = new ProbeDecoder();
  private cursor: FrameCursor;
  /** Number of the next frame to apply: frames below it are in the state. */
  private nextSeq = 0;
  private position = 0;
  private readonly undecodable = new Map<string, { count: number; example: string }>();
  /** trace mode's causality model. It holds what was played since the last seek to a keyframe. */
  trace = new TraceModel();
  private readonly listeners: ((m: ProbeMessage, f: FrameRecord) => void)[] = [];
  /**
   * The samples the last keyframe restore decoded, by frame number: seeking near the last seek
   * (scrubbing) reuses them instead of decoding up to 6000 samples again.
   */
  private sampleCache = new Map<number, MetricsSample>();

  constructor(private readonly reader: RecordingReader) {
    this.cursor = new FrameCursor(reader, FILE_HEADER_BYTES);
    this.position = reader.info.firstMs;
  }

  get state(): SessionState {
    return this.current;
  }

  /** The time the state is at, ms since the recording's start. */
  get positionMs(): number {
    return this.position;
  }

  /** The time of the next frame, or undefined at the end of what is readable. */
  get nextFrameMs(): number | undefined {
    return this.cursor.peek()?.timeMs;
  }

  /** Each decoded message as it is applied (for passes that look at every frame). */
  onMessage(listener: (m: ProbeMessage, f: FrameRecord) => void): void {
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
    this.advanceTo(timeMs);
    this.position = timeMs;
  }

  private reset(): void {
    this.current = initialSessionState;
    this.decoder = new ProbeDecoder();
    this.cursor = new FrameCursor(this.reader, FILE_HEADER_BYTES);
    this.nextSeq = 0;
    this.position = 0;
    this.trace = new TraceModel();
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
    const k = parsed.value;
    const decoder = new ProbeDecoder();
    const recent: MetricsSample[] = [];
    const decoded = new Map<number, MetricsSample>();
    try {
      if (k.dictionary.length > 0) decoder.decode({ type: MessageType.Dictionary, payload: encodeDictionary(k.dictionary).subarray(8) });
      // `recent` is rebuilt from the metrics frames the keyframe points at.
      const take = (f: FrameRecord): void => {
        if (f.type !== MessageType.Metrics || f.seq >= entry.seq || f.version !== PROTOCOL_VERSION) return;
        try {
          let sample = this.sampleCache.get(f.seq);
          if (!sample) {
            const m = decoder.decode(rawFrame(f));
            if (m.type !== 'metrics') return;
            sample = m.sample;
          }
          recent.push(sample);
          decoded.set(f.seq, sample);
        } catch {
          // Undecodable live too: the reducer never saw it.
        }
      };
      for (const part of k.recentCount > 0 ? k.recentParts : []) {
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
      const state: SessionState = { ...k.state, recent: recent.slice(Math.max(0, recent.length - k.recentCount)) };
      // A keyframe is data from a file: try it on the views before trusting it.
      summarize(state, { durationMs: 0, exitCode: null, warnings: [] });
      renderLiveView(state, { width: 80, elapsedMs: 0, status: undefined, remainingMs: undefined });
      if (state.recent.length < k.recentCount) {
        this.reader.warn(`recent@${entry.offset}`, `${this.reader.path}: the history shown before ${formatRecordingTime(entry.timeMs)} is incomplete (${k.recentCount - state.recent.length} samples lost to damage)`);
      }
      this.current = state;
    } catch (err) {
      this.reader.warn(`keyframe@${entry.offset}`, `${this.reader.path}: ${where} cannot be used (${err instanceof WireError ? err.message : 'malformed state'}); replayed from an earlier point instead`);
      return false;
    }
    this.decoder = decoder;
    this.sampleCache = decoded;
    this.cursor = new FrameCursor(this.reader, found.chunk.end);
    this.nextSeq = entry.seq;
    this.position = entry.timeMs;
    this.trace = new TraceModel();
    return true;
  }

  /** Decodes and reduces one frame; false when it was skipped. */
  private apply(f: FrameRecord): boolean {
    if (f.seq < this.nextSeq) return false;
    this.nextSeq = f.seq + 1;
    let message: ProbeMessage;
    try {
      if (f.version !== PROTOCOL_VERSION) throw new WireError(`wire protocol ${f.version}`);
      message = this.decoder.decode(rawFrame(f));
    } catch (err) {
      const type = messageTypeName(f.type);
      const u = this.undecodable.get(type) ?? { count: 0, example: err instanceof Error ? err.message : String(err) };
      u.count++;
      this.undecodable.set(type, u);
      return false;
    }
    if (message.type === 'taskEvents') this.trace.apply(message.batch);
    this.current = applyMessage(this.current, message);
    for (const l of this.listeners) l(message, f);
    return true;
  }
}
