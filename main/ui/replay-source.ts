// A recording as a source of the UI's sessions: the replay engine (ReplaySession), the marks
// for the scrubber (scanned a slice at a time), and the mapping between the file's clock and
// the chart clock the UI uses everywhere (seconds since the session's first sample).

import type { ProfileView, ReplayCommand, ReplayView } from './ui-api';
import { FeedView, type SessionData, type SessionFeed } from '../session/session-feed';
import { findChartClock, ReplayMarkScanner, type ChartClock } from './replay-marks';
import { SPEEDS } from '../replay/replay-clock';
import { ReplaySession } from '../replay/replay-session';
import { RecordingPlayer } from '../replay/recording-player';
import { profileView } from './profile-view';

/** The scan runs in slices this long, one per turn of loopscope's own loop. */
const SCAN_SLICE_MS = 15;
/** A file still being written is scanned again this often. */
const RESCAN_MS = 1000;
/** Samples reach the file up to a couple of harvests after they are taken. */
const SAMPLES_LAG_MS = 3000;
/** A profile's range picker shows this much before the range, when the file has it. */
const PROFILE_CONTEXT_MS = 120_000;

export class ReplaySource extends FeedView {
  private readonly listeners: (() => void)[] = [];
  private readonly scanner: ReplayMarkScanner;
  private cancelScan: () => void = () => undefined;
  private rewound = false;
  private closed = false;
  /** Reads the samples of the ranges the window asks profiles for, apart from the replay's position. */
  private profiles: RecordingPlayer | undefined;
  private profilesFromMs: number | undefined;

  private constructor(private readonly session: ReplaySession, private readonly clock: ChartClock, readonly path: string) {
    super();
    this.scanner = new ReplayMarkScanner(session.reader, clock);
    session.onChange(() => this.changed());
    this.scheduleScan(0);
  }

  /** Opens a file, paused at its start; throws a RecordingError when it is not a readable recording. */
  static open(path: string): ReplaySource {
    const session = ReplaySession.open(path);
    try {
      // A recording without a single sample has no chart clock; its file clock serves.
      const clock = findChartClock(session.reader) ?? { originUs: 0, offsetMs: session.startMs };
      return new ReplaySource(session, clock, path);
    } catch (err) {
      session.close();
      throw err;
    }
  }

  get feed(): SessionFeed {
    return this.session.feed;
  }

  /** Every loop recorded that has said hello by the replay's position; the first is `feed`'s. */
  get loops(): readonly SessionData[] {
    return this.session.loops;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** True once after a seek: what the UI drew before is not a prefix of what comes now. */
  takeRewound(): boolean {
    const r = this.rewound;
    this.rewound = false;
    return r;
  }

  view(): ReplayView {
    const s = this.session;
    const toS = (ms: number): number => (ms - this.clock.offsetMs) / 1000;
    return {
      file: this.path,
      startS: toS(s.startMs),
      endS: toS(s.endMs),
      positionS: toS(s.positionMs),
      playing: s.playing,
      speed: s.speed,
      speeds: SPEEDS,
      complete: s.reader.complete,
      scanned: this.scanner.progress,
      marks: this.scanner.marks,
      warnings: s.warnings,
    };
  }

  command(c: ReplayCommand): void {
    switch (c.kind) {
      case 'play':
        return this.session.play();
      case 'pause':
        return this.session.pause();
      case 'speed':
        return this.session.setSpeed(c.speed);
      case 'step':
        return this.session.step();
      case 'seek':
        this.rewound = true;
        return this.session.seek(c.t * 1000 + this.clock.offsetMs);
    }
  }

  /**
   * The CPU profile of a range (seconds on the chart clock), wherever the replay stands: read
   * from the file by a player of its own, from a little before the range to a little after
   * (a harvest reaches the file after its samples were taken).
   */
  profileOf(fromS: number, toS: number): ProfileView {
    const reader = this.session.reader;
    const fileMs = (s: number): number => s * 1000 + this.clock.offsetMs;
    const startMs = Math.max(reader.info.firstMs, fileMs(fromS) - PROFILE_CONTEXT_MS);
    let player = this.profiles;
    const held = player?.profile.extent;
    if (!player || this.profilesFromMs === undefined || startMs < this.profilesFromMs || !held || held.fromUs > this.clock.originUs + fromS * 1e6) {
      player ??= new RecordingPlayer(reader, { trace: false, recentSamples: 0 });
      if (startMs !== this.profilesFromMs) player.seek(startMs);
      this.profiles = player;
      this.profilesFromMs = startMs;
    }
    player.advanceTo(fileMs(toS) + SAMPLES_LAG_MS);
    return profileView(player.profile, this.clock.originUs, fromS, toS, this.state.profiler);
  }

  close(): void {
    this.closed = true;
    this.cancelScan();
    this.session.close();
  }

  private scheduleScan(delayMs: number): void {
    if (this.closed) return;
    if (delayMs > 0) {
      const timer = setTimeout(() => this.scanSlice(), delayMs);
      this.cancelScan = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.scanSlice());
      this.cancelScan = () => clearImmediate(immediate);
    }
  }

  private scanSlice(): void {
    if (this.closed) return;
    const found = this.scanner.scan(SCAN_SLICE_MS);
    if (!this.scanner.done) {
      if (found) this.changed();
      this.scheduleScan(0);
      return;
    }
    this.changed();
    // A file still being written gets more frames: look again later, from where the scan stopped.
    if (!this.session.reader.complete) this.scheduleScan(RESCAN_MS);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
