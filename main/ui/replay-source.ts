// A recording as a source of the UI's sessions: the replay engine (ReplaySession), the marks
// for the scrubber (scanned a slice at a time), and the mapping between the file's clock and
// the chart clock the UI uses everywhere (seconds since the session's first sample).
//
// Every loop of the recording (worker threads, child processes) is a session of the UI, as it
// was live: a ReplayLoop, which shows that loop's state at the one replay clock of the file,
// on that loop's own chart clock (seconds since its first sample), with its own marks.

import type { ProfileView, ReplayCommand, ReplayView } from './ui-api';
import { FeedView, type SessionFeed } from '../session/session-feed';
import { findChartClock, loopChartClock, ReplayMarkScanner, type ChartClock, type FinalReports } from './replay-marks';
import { withFinalReports } from '../replay/final-reports';
import type { SessionState } from '../session/session-state';
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

/** One loop of a replayed recording, as a session of the UI: its state, on its own chart clock. */
export class ReplayLoop extends FeedView {
  /** The source's seeks this loop's views have been told of (see takeRewound). */
  private seenSeeks: number;
  private finalState: { readonly from: SessionState; readonly version: number; readonly state: SessionState } | undefined;

  constructor(readonly source: ReplaySource, readonly loop: number, readonly feed: SessionFeed) {
    super();
    this.seenSeeks = source.seeks;
  }

  /** The loop's state, each block reported so far as the file ends it (withFinalReports). */
  override get state(): SessionState {
    const from = this.feed.state;
    const finals = this.source.finalReports(this.loop);
    if (this.finalState?.from !== from || this.finalState.version !== finals.version) {
      this.finalState = { from, version: finals.version, state: withFinalReports(from, finals.reports) };
    }
    return this.finalState.state;
  }

  /** True once after a seek: what the UI drew before is not a prefix of what comes now. */
  takeRewound(): boolean {
    const rewound = this.seenSeeks !== this.source.seeks;
    this.seenSeeks = this.source.seeks;
    return rewound;
  }

  view(): ReplayView {
    return this.source.viewOf(this);
  }

  command(c: ReplayCommand): void {
    this.source.command(this, c);
  }

  profileOf(fromS: number, toS: number): ProfileView {
    return this.source.profileOf(this, fromS, toS);
  }
}

export class ReplaySource {
  private readonly listeners: (() => void)[] = [];
  private readonly scanner: ReplayMarkScanner;
  private readonly byLoop = new Map<number, ReplayLoop>();
  /** The chart clocks of loops other than 0, once known (see clockOf). */
  private readonly clocks = new Map<number, ChartClock>();
  private cancelScan: () => void = () => undefined;
  private closed = false;
  private seekCount = 0;
  /** Reads the samples of the ranges the window asks profiles for, apart from the replay's position. */
  private profiles: RecordingPlayer | undefined;
  private profilesFromMs: number | undefined;

  private constructor(private readonly session: ReplaySession, private readonly clock: ChartClock, readonly path: string) {
    this.scanner = new ReplayMarkScanner(session.reader);
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

  /** Seeks so far: each loop's views start again after one. */
  get seeks(): number {
    return this.seekCount;
  }

  get playing(): boolean {
    return this.session.playing;
  }

  /** Each loop as it first comes in the file (loop 0 first, and those come already, now). */
  onLoop(listener: (loop: ReplayLoop) => void): void {
    this.session.onLoop((loop, feed) => {
      let l = this.byLoop.get(loop);
      if (!l) {
        l = new ReplayLoop(this, loop, feed);
        this.byLoop.set(loop, l);
      }
      listener(l);
    });
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  viewOf(loop: ReplayLoop): ReplayView {
    const s = this.session;
    const clock = this.clockOf(loop);
    const toS = (ms: number): number => (ms - clock.offsetMs) / 1000;
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
      marks: this.scanner.marks(loop.loop, clock.originUs, clock.offsetMs),
      warnings: s.warnings,
    };
  }

  finalReports(loop: number): FinalReports {
    return this.scanner.finalReports(loop);
  }

  /** A command from the session screen of `loop`: a seek's time is on that loop's chart clock. */
  command(loop: ReplayLoop, c: ReplayCommand): void {
    switch (c.kind) {
      case 'play':
        return this.session.play();
      case 'pause': {
        this.session.pause();
        // The replay plays on while the click and its view cross: back to what was shown.
        const shownMs = c.t === undefined ? undefined : c.t * 1000 + this.clockOf(loop).offsetMs;
        if (shownMs !== undefined && shownMs < this.session.positionMs) {
          this.seekCount++;
          this.session.seek(shownMs);
        }
        return;
      }
      case 'speed':
        return this.session.setSpeed(c.speed);
      case 'step':
        return this.session.step();
      case 'seek':
        this.seekCount++;
        return this.session.seek(c.t * 1000 + this.clockOf(loop).offsetMs);
    }
  }

  /**
   * The CPU profile of a loop over a range (seconds on its chart clock), wherever the replay
   * stands: read from the file by a player of its own, from a little before the range to a
   * little after (a harvest reaches the file after its samples were taken).
   */
  profileOf(loop: ReplayLoop, fromS: number, toS: number): ProfileView {
    const reader = this.session.reader;
    const clock = this.clockOf(loop);
    const fileMs = (s: number): number => s * 1000 + clock.offsetMs;
    const startMs = Math.max(reader.info.firstMs, fileMs(fromS) - PROFILE_CONTEXT_MS);
    let player = this.profiles;
    const held = player?.feedOf(loop.loop).profile.extent;
    if (!player || this.profilesFromMs === undefined || startMs < this.profilesFromMs || !held || held.fromUs > clock.originUs + fromS * 1e6) {
      player ??= new RecordingPlayer(reader, { trace: false, recentSamples: 0 });
      if (startMs !== this.profilesFromMs) player.seek(startMs);
      this.profiles = player;
      this.profilesFromMs = startMs;
    }
    player.advanceTo(fileMs(toS) + SAMPLES_LAG_MS);
    const positionS = (this.session.positionMs - clock.offsetMs) / 1000;
    return profileView(player.feedOf(loop.loop).profile, clock.originUs, fromS, toS, loop.state.profiler, Math.max(toS, positionS));
  }

  close(): void {
    this.closed = true;
    this.cancelScan();
    this.session.close();
  }

  /**
   * A loop's chart clock: loop 0's is found when the file is opened; another's comes from it
   * (loopChartClock), with the loop's first sample from its state or from the scan once that
   * has passed it. Kept once known (a seek back before the loop's first sample does not move
   * it); until then, loop 0's.
   */
  private clockOf(loop: ReplayLoop): ChartClock {
    if (loop.loop === 0) return this.clock;
    let clock = this.clocks.get(loop.loop);
    if (!clock) {
      clock = loopChartClock(this.clock, this.session.feed.state.hello, loop.state.hello, loop.state.totals.firstSampleUs ?? this.scanner.originOf(loop.loop));
      if (clock) this.clocks.set(loop.loop, clock);
    }
    return clock ?? this.clock;
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
