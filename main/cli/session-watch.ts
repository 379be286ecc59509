// Watching one session from the command line, the part `run` and `attach` share: the live
// view (or nothing, with --json), --duration, Ctrl-C, and the summary at the end. What "stop"
// means is the command's: `run` signals its child, `attach` detaches the probe.
//
// A session is a set of loops, one per probe connection: the program's main thread (the
// `session`, which the top-level summary and reattaching follow, and the recording's loop 0;
// for `run`, the launched process's, launched-root.ts) and every other loop that joins with the
// session's token (worker threads, child processes).

import type { ProbeConnection, ProbeServer } from '../server/probe-server';
import { LiveSource } from '../session/live-source';
import { SessionFeed } from '../session/session-feed';
import { summarize, type Summary } from '../reports/summary';
import { renderLiveView } from '../terminal/live-view';
import { renderSummaryText } from '../terminal/summary-text';
import { TerminalScreen } from '../terminal/terminal-screen';
import type { RecordingWriter } from '../recording/recording-writer';
import { SessionRecorder } from '../recording/session-recorder';
import { HeldFrames, MAX_HELD_BYTES, type Held } from '../recording/held-frames';
import { sameLoop } from '../session/loop-identity';
import { LaunchedRoot } from '../launch/launched-root';

export interface WatchOptions {
  readonly json: boolean;
  /** Production: no live view, and no summary unless `json`. */
  readonly headless?: boolean;
  readonly durationS: number | undefined;
  /** Shown until a probe connects. */
  readonly status: string;
  /** Only connections this accepts join the session (default: all the server admits). */
  readonly accept?: (connection: ProbeConnection) => boolean;
  /** --record: every frame of every loop of the session is teed into this recording. */
  readonly record?: RecordingWriter;
  /**
   * `run`, following: the launched process's PID. Its main thread is the session, even when a
   * process it started says hello first (launched-root.ts). Call launchedEnded() when it ends.
   */
  readonly launched?: () => number | undefined;
}

export type StopReason = 'duration' | 'signal';

export interface WatchHandlers {
  /** --duration ran out, or a signal came (`count` says how many so far). */
  stop(reason: StopReason, signal: NodeJS.Signals, count: number): void;
  /** If no probe has connected after `afterMs`, the status becomes `status`. */
  readonly noProbe?: { readonly afterMs: number; readonly status: string };
}

export interface FinishContext {
  readonly exitCode: number | null;
  /** How long to wait for the probe's last frames. */
  readonly finalFramesMs: number;
  /** Added to the JSON summary (e.g. how attach went). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export class SessionWatch {
  readonly startedAt = Date.now();
  readonly warnings: string[] = [];
  readonly screen: TerminalScreen | undefined;
  status: string | undefined;
  private current: LiveSource | undefined;
  private recorder: SessionRecorder | undefined;
  private readonly sessionListeners: ((s: LiveSource) => void)[] = [];
  /** Every loop seen, in the order they came; ended ones stay. */
  private readonly loopList: LiveSource[] = [];
  private readonly loopListeners: ((s: LiveSource) => void)[] = [];
  /** `run`, following: the loops that wait for the launched program's own. */
  private readonly root: LaunchedRoot<LiveSource> | undefined;
  /** `run --record`, following: the frames of the loops that wait, for the file. */
  private readonly held: HeldFrames | undefined;

  constructor(private readonly server: ProbeServer, private readonly options: WatchOptions) {
    this.status = options.status;
    const live = !options.json && options.headless !== true && process.stdout.isTTY === true;
    this.screen = live ? new TerminalScreen(process.stdout) : undefined;
    this.held = options.record && options.launched ? new HeldFrames() : undefined;
    this.root = options.launched && new LaunchedRoot<LiveSource>(options.launched, (first, earlier) => {
      const held = this.held?.release();
      if (held && options.record) this.recordHeld(options.record, first, held);
      for (const l of [first, ...earlier]) this.take(l, held === undefined);
    });
    server.onConnection((connection) => {
      if (options.accept && !options.accept(connection)) return connection.destroy();
      // Its frames are read from now on, also while it waits for the program's loop: only its
      // place in the session waits. A recording gets them once the program's loop is known.
      const loop = new LiveSource(connection);
      if (this.root && !this.root.settled) {
        this.held?.hold(loop);
        return this.root.offer(loop);
      }
      this.take(loop);
    });
    server.onRejected((reason) => {
      if (!options.json) process.stderr.write(`loopscope: refused a probe connection: ${reason}\n`);
    });
  }

  /**
   * A loop of the session: the first (the launched program's, for `run`) is the session.
   * `record`: false when the recording has it already (recordHeld).
   */
  private take(loop: LiveSource, record = true): void {
    const { connection } = loop;
    // A loop whose probe went away may come back (production mode attaches again): it takes its place.
    const again = this.loopList.findIndex((l) => l.isClosed && sameLoop(l.connection.hello, connection.hello));
    if (again >= 0) this.loopList.splice(again, 1, loop);
    else this.loopList.push(loop);
    for (const l of this.loopListeners) l(loop);
    if (record && this.recorder) this.recorder.add(loop);
    else if (record && this.options.record) this.recordWith(SessionRecorder.into(this.options.record, loop));
    if (this.current && !(this.current.isClosed && sameLoop(this.current.connection.hello, connection.hello))) return this.redraw();
    const session = loop;
    this.current = session;
    this.status = undefined;
    connection.on('close', (error) => {
      if (error) {
        this.warnings.push(`lost the probe: ${error}`);
        this.status = `lost the probe: ${error}`;
      }
    });
    for (const l of this.sessionListeners) l(session);
    this.redraw();
  }

  private recordWith(recorder: SessionRecorder): void {
    this.recorder = recorder;
    recorder.onError((reason) => {
      this.warnings.push(reason);
      this.status = reason;
    });
  }

  /** The program's loop came: the file starts with it, then has the loops held for it, each from its hello. */
  private recordHeld(writer: RecordingWriter, root: LiveSource, held: Held): void {
    this.recordWith(SessionRecorder.withHeld(writer, root, held));
    for (const [source, n] of held.dropped) {
      const { pid, threadId } = source.hello;
      const loop = `pid ${pid}${threadId === 0 ? '' : ` thread ${threadId}`}`;
      this.warnings.push(`the recording left out ${n} frames of ${loop}: they came while it waited for the program's own loop, past the ${MAX_HELD_BYTES / 2 ** 20} MB it keeps meanwhile`);
    }
  }

  get session(): LiveSource | undefined {
    return this.current;
  }

  get live(): boolean {
    return this.screen !== undefined;
  }

  /** Every loop of the session so far, the first one first; ended ones stay. */
  get loops(): readonly LiveSource[] {
    return this.loopList;
  }

  /** Each loop as it joins, and those already in (the session's first loop too). */
  onLoop(listener: (s: LiveSource) => void): void {
    for (const l of this.loopList) listener(l);
    this.loopListeners.push(listener);
  }

  /** The session now, if there is one, and each one after it. */
  onSession(listener: (s: LiveSource) => void): void {
    if (this.current) listener(this.current);
    this.sessionListeners.push(listener);
  }

  redraw(): void {
    const { screen } = this;
    if (!screen) return;
    const durationS = this.options.durationS;
    screen.draw(renderLiveView(this.current ?? new SessionFeed(), {
      loops: this.loopList,
      width: screen.width,
      elapsedMs: Date.now() - this.startedAt,
      status: this.status,
      remainingMs: durationS === undefined ? undefined : Math.max(0, this.startedAt + durationS * 1000 - Date.now()),
    }));
  }

  /** Runs the view until `ended` settles, passing --duration and SIGINT/SIGTERM to `handlers`. */
  async until<T>(ended: Promise<T>, handlers: WatchHandlers): Promise<T> {
    const durationS = this.options.durationS;
    const durationTimer = durationS === undefined ? undefined : setTimeout(() => handlers.stop('duration', 'SIGTERM', 0), durationS * 1000);
    const noProbe = handlers.noProbe;
    const probeWarning = noProbe ? setTimeout(() => {
      if (!this.current) this.status = noProbe.status;
    }, noProbe.afterMs) : undefined;
    const refresh = this.live ? setInterval(() => this.redraw(), 1000) : undefined;
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => handlers.stop('signal', signal, ++signals);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    this.redraw();
    try {
      return await ended;
    } finally {
      clearTimeout(durationTimer);
      clearTimeout(probeWarning);
      clearInterval(refresh);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  /**
   * The launched process ended: the loops that waited for its own are the session now (it may
   * have started them and gone without a hello of its own).
   */
  launchedEnded(): void {
    this.root?.settleNow();
  }

  /** Closes the view and the server without a summary (the command failed). */
  async abandon(): Promise<void> {
    this.dropHeld();
    this.screen?.close();
    await this.server.close();
    await this.options.record?.close();
  }

  /** Waits for the last frames, closes the view and the server, and prints the summary. */
  async finish(context: FinishContext): Promise<Summary> {
    this.dropHeld();
    await Promise.all(this.loopList.map((l) => l.whenClosed(context.finalFramesMs)));
    this.screen?.close();
    await this.server.close();
    // The exit code and warnings go into the file, so its summary matches this one.
    const ending = { exitCode: context.exitCode, warnings: this.warnings };
    await (this.recorder ? this.recorder.stop(ending) : this.options.record?.close(ending));
    const session = this.current;
    const summary = summarize(session ?? new SessionFeed(), {
      durationMs: Date.now() - (session?.connectedAtMs ?? this.startedAt),
      exitCode: context.exitCode,
      warnings: this.warnings,
      // The first loop's exit code is the command's (or the attached process's), as at the top level.
      loops: this.loopList.map((l) => (l === session ? { data: l, exitCode: context.exitCode } : { data: l })),
    });
    if (this.options.json) process.stdout.write(JSON.stringify({ ...summary, ...context.extra }, null, 2) + '\n');
    else if (this.options.headless !== true) process.stdout.write(renderSummaryText(summary, session?.state.hello?.cwd));
    return summary;
  }

  /** Loops still waiting for the program's own when the session ends are not part of it. */
  private dropHeld(): void {
    this.held?.release();
    for (const l of this.root?.dispose() ?? []) l.connection.destroy();
  }
}
