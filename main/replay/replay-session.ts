// A session fed from a recording, paced by the replay clock: play, pause, speed, seek, step.
// It is the same SessionData as a live session, so the same views render it (the terminal's
// live view, the window).

import { FeedView, type SessionData, type SessionFeed, type SessionSource } from '../session/session-feed';
import { RecordingPlayer } from './recording-player';
import { RecordingReader } from '../recording/recording-reader';
import * as clock from './replay-clock';

/** How often a playing session moves on (and a growing file is looked at again). */
const TICK_MS = 50;
const FOLLOW_MS = 500;

export interface ReplayOptions {
  readonly speed?: number;
  /** Where to start, ms since the recording's start; the first frame when undefined. */
  readonly fromMs?: number;
  /** Wall clock, for tests. */
  readonly now?: () => number;
}

export class ReplaySession extends FeedView implements SessionSource {
  private readonly player: RecordingPlayer;
  private c: clock.ReplayClock;
  private timer: NodeJS.Timeout | undefined;
  private lastFollow = 0;
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;

  constructor(readonly reader: RecordingReader, options: ReplayOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.player = new RecordingPlayer(reader);
    const { firstMs, endMs } = reader.info;
    this.c = clock.createClock(firstMs, endMs, this.now(), options.speed);
    this.seek(options.fromMs ?? firstMs);
  }

  /** Opens a file for replay; throws a RecordingError when it is not a readable recording. */
  static open(path: string, options: ReplayOptions = {}): ReplaySession {
    return new ReplaySession(RecordingReader.open(path, { quick: true }), options);
  }

  get feed(): SessionFeed {
    return this.player.feed;
  }

  /** Every loop recorded that has said hello by the replay's position; the first is `feed`'s. */
  get loops(): readonly SessionData[] {
    return this.player.loops;
  }

  /** Loop `loop`'s feed (see RecordingPlayer.feedOf). */
  feedOf(loop: number): SessionFeed {
    return this.player.feedOf(loop);
  }

  /** Each loop's number and feed as it first comes, and those come already (loop 0 first). */
  onLoop(listener: (loop: number, feed: SessionFeed) => void): void {
    this.player.onLoop(listener);
  }

  get positionMs(): number {
    return this.player.positionMs;
  }

  get startMs(): number {
    return this.c.startMs;
  }

  get endMs(): number {
    return this.c.endMs;
  }

  get playing(): boolean {
    return this.c.playing;
  }

  get speed(): number {
    return this.c.speed;
  }

  /** What was lost or skipped so far, one line each. */
  get warnings(): string[] {
    return this.player.warnings;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  play(): void {
    this.c = clock.play(this.c, this.now());
    if (this.c.anchorMs < this.player.positionMs) this.player.seek(this.c.anchorMs);
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
    this.changed();
  }

  pause(): void {
    this.c = clock.pause(this.c, this.now());
    this.stopTimer();
    this.changed();
  }

  setSpeed(speed: number): void {
    this.c = clock.setSpeed(this.c, speed, this.now());
    this.changed();
  }

  seek(ms: number): void {
    this.c = clock.seek(this.c, ms, this.now());
    this.player.seek(clock.positionAt(this.c, this.now()));
    this.changed();
  }

  /** Pauses, and moves on to the next frame that changes what is shown. */
  step(): void {
    this.c = clock.pause(this.c, this.now());
    this.stopTimer();
    if (this.player.step()) this.c = clock.seek(this.c, this.player.positionMs, this.now());
    this.changed();
  }

  close(): void {
    this.stopTimer();
    this.reader.close();
  }

  /** One step of playing: called by the timer, and by tests with a fake clock. */
  tick(): void {
    const now = this.now();
    if (!this.reader.complete && now - this.lastFollow >= FOLLOW_MS) {
      this.lastFollow = now;
      if (this.reader.refresh()) this.c = clock.extend(this.c, this.reader.info.endMs, now);
    }
    this.player.advanceTo(clock.positionAt(this.c, now));
    // At the end of a finished recording, stop; a growing one is followed (tail -f).
    if (clock.atEnd(this.c, now) && this.reader.complete) {
      this.c = clock.pause(this.c, now);
      this.stopTimer();
    }
    this.changed();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
