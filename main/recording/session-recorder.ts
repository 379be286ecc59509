// Records a live session into a file: from its start (`--record`) or from the moment the user
// asks (the window's record button, --record-dir). Frames before that are not in the file, but
// the dictionaries they built are: written right after the hello, so that what follows decodes.
// A session's loops (worker threads, child processes) are recorded into the same file, each
// under its own loop number, from when it is added; loops held for the launched program's own
// (held-frames.ts), from their hello.

import { dirname } from 'node:path';
import { encodeDictionary } from '../../probe/wire-binary';
import { HEADER_BYTES, MessageType, type RawFrame } from '../../probe/wire';
import { encodeProfileDictionary } from '../../probe/wire-profile';
import type { LiveSource } from '../session/live-source';
import type { Held } from './held-frames';
import { makeRecordingDir } from './recording-dir';
import { RecordingWriter } from './recording-writer';
import type { RecordingEnding } from './recording-index';

/** A file name for a recording of `pid` started at `atMs`, sortable by time. */
export function recordingFileName(pid: number, atMs: number): string {
  const stamp = new Date(atMs).toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `loopscope-${pid}-${stamp}.lsrec`;
}

/** How a recording in progress stands. */
export interface RecordingProgress {
  readonly file: string;
  /** Wall clock of the start, ms since the Unix epoch. */
  readonly startedAtMs: number;
  readonly bytes: number;
  /** Set when writing failed; the recording stopped there. */
  readonly error: string | null;
}

/**
 * How long a stop waits for blocks still being reported: an ended block's report comes with
 * its CPU samples, at the next harvest, at most a second later.
 */
const SETTLE_MS = 1500;

/** A block of this loop is still to be reported in full (ongoing, or ended and waiting for its samples). */
const blockPending = (source: LiveSource): boolean => !source.isClosed && source.feed.state.blocked.some((b) => b.state === 'ongoing');

export class SessionRecorder {
  private readonly startedAtMs = Date.now();
  private readonly unsubscribes: (() => void)[] = [];
  private readonly sources: LiveSource[] = [];
  private stopped: Promise<void> | undefined;

  private constructor(private readonly writer: RecordingWriter) {}

  /** Records one more loop of the session, from now on. */
  add(source: LiveSource): void {
    if (this.stopped) return;
    const now = Date.now();
    const loop = this.writer.start(source.connection.hello, now);
    if (loop === undefined) return;
    this.writeDictionary(source, loop, now);
    this.listen(source, loop);
  }

  /**
   * The program's loop and the loops held until it came: its hello first, stamped at the first
   * of theirs (the file starts with loop 0's hello), then every held hello and frame in the order
   * and at the times they came, then all of them live. A loop that lost frames past the bound,
   * and the program's if it was not held, get their dictionaries as they stand, so that what
   * follows decodes.
   */
  private addHeld(root: LiveSource, held: Held): void {
    const loops = new Map<LiveSource, number>();
    const start = (source: LiveSource, atMs: number): void => {
      const loop = this.writer.start(source.connection.hello, atMs);
      if (loop !== undefined) loops.set(source, loop);
    };
    start(root, Math.min(root.connectedAtMs, ...held.sources.map((s) => s.connectedAtMs)));
    // Hellos first at a tie: a loop's frames come after its hello (the sort is stable).
    const timeline = [
      ...held.sources.filter((s) => s !== root).map((source) => ({ atMs: source.connectedAtMs, source, frame: undefined })),
      ...held.frames.map((frame) => ({ atMs: frame.receivedAtMs, source: frame.source, frame })),
    ].sort((a, b) => a.atMs - b.atMs);
    for (const { atMs, source, frame } of timeline) {
      const loop = loops.get(source);
      if (!frame) start(source, atMs);
      else if (loop !== undefined) this.writer.write(frame.raw, atMs, frame.message, loop);
    }
    const now = Date.now();
    for (const [source, loop] of loops) {
      if (held.dropped.has(source) || !held.sources.includes(source)) this.writeDictionary(source, loop, now);
      this.listen(source, loop);
    }
  }

  /**
   * What `source`'s frames so far defined, for those to come to refer to: its strings, and its
   * CPU profile's nodes (each harvest sends only the nodes new to it).
   */
  private writeDictionary(source: LiveSource, loop: number, atMs: number): void {
    const dictionary = [...source.feed.dictionary];
    if (dictionary.length > 0) {
      const raw: RawFrame = { type: MessageType.Dictionary, payload: encodeDictionary(dictionary).subarray(HEADER_BYTES) };
      this.writer.write(raw, atMs, { type: 'dictionary', entries: dictionary }, loop);
    }
    const profile = source.feed.profileDictionary;
    if (profile) {
      const raw: RawFrame = { type: MessageType.ProfileDictionary, payload: encodeProfileDictionary(profile).subarray(HEADER_BYTES) };
      this.writer.write(raw, atMs, { type: 'profileDictionary', dictionary: profile }, loop);
    }
  }

  private listen(source: LiveSource, loop: number): void {
    this.sources.push(source);
    this.unsubscribes.push(source.onFrame((raw, receivedAtMs, message) => this.writer.write(raw, receivedAtMs, message, loop)));
  }

  /** Creates the file now and records `source` into it; throws a RecordingError when the file cannot be made. */
  static start(path: string, source: LiveSource): SessionRecorder {
    try {
      makeRecordingDir(dirname(path));
    } catch {
      // RecordingWriter.create says what is wrong with the path.
    }
    return SessionRecorder.into(RecordingWriter.create(path), source);
  }

  /** Records `source` into a file made earlier (`--record` makes it first, so a bad path fails before anything starts). */
  static into(writer: RecordingWriter, source: LiveSource): SessionRecorder {
    const recorder = new SessionRecorder(writer);
    recorder.add(source);
    return recorder;
  }

  /** Records the launched program's loop, `root`, and those `held` until it came (`run --record`). */
  static withHeld(writer: RecordingWriter, root: LiveSource, held: Held): SessionRecorder {
    const recorder = new SessionRecorder(writer);
    recorder.addHeld(root, held);
    return recorder;
  }

  get path(): string {
    return this.writer.path;
  }

  get progress(): RecordingProgress {
    return { file: this.writer.path, startedAtMs: this.startedAtMs, bytes: this.writer.stats.fileBytes, error: this.writer.error ?? null };
  }

  onError(listener: (reason: string) => void): void {
    this.writer.onError(listener);
  }

  /**
   * Stops taking frames and closes the file (index, footer); safe to call twice, the first
   * ending counts. A block still being reported is waited for (up to SETTLE_MS), so that a
   * recording stopped right after a block holds its stack.
   */
  stop(ending?: RecordingEnding): Promise<void> {
    this.stopped ??= this.settle().then(() => {
      for (const u of this.unsubscribes) u();
      return this.writer.close(ending);
    });
    return this.stopped;
  }

  /** Resolves once no loop has a block pending (checked at each change of any loop), or after SETTLE_MS. */
  private settle(): Promise<void> {
    if (!this.sources.some(blockPending)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const u of unsubscribes) u();
        resolve();
      };
      const timer = setTimeout(done, SETTLE_MS);
      const unsubscribes = this.sources.map((s) => s.onChange(() => {
        if (!this.sources.some(blockPending)) done();
      }));
    });
  }
}
