// The plain-Node implementation of the UI's API (main/ui-api.ts), shared by the web host and
// the Electron window: it lists processes, attaches and launches, opens recordings for replay,
// records live sessions, keeps the sessions, and sends their changes to subscribers in
// batches (at most one per BATCH_MS), so a flood of probe messages costs the UI a bounded
// number of updates. A window that says which session it shows gets that one's changes (and
// its group's first session's) and only a summary of the others.
//
// Every loop is a session: an attached process's main thread makes a group, which its worker
// threads join (they show its token); a launched program's group gets its workers and the Node
// processes it starts, at any depth (as `run` follows them). The group's first session lists
// them all by process (SessionView.loops), for the overview; settings, stopping and recording
// apply to the whole group. A replayed recording is a group too: each of its loops a session,
// all at the one replay clock of the file.

import type { ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ProbeConfig } from '../../probe/wire';
import { DEFAULT_CONFIG } from '../../probe/constants';
import { recordingsDir } from './app-paths';
import { attachToProcess } from '../attach/attach';
import { isLoopscopeCommand } from '../attach/own-processes';
import { listNodeProcesses } from '../attach/process-list';
import { demoPath } from '../demo/demo-path';
import { launch } from '../launch/launch';
import { descendantsOf } from '../attach/session-members';
import { processLoops } from './loop-overview';
import { LaunchedRoot } from '../launch/launched-root';
import { OutputCapture } from '../launch/output-capture';
import { probePath } from '../launch/probe-path';
import { openInEditor } from './open-in-editor';
import { RecentRecordings } from './recent-recordings';
import { ReplaySource, type ReplayLoop } from './replay-source';
import { recordingFileName, SessionRecorder } from '../recording/session-recorder';
import { createPrivateDir, type PrivateDir } from '../server/private-dir';
import { startProbeServer, type ProbeConnection, type ProbeServer } from '../server/probe-server';
import { LiveSource } from '../session/live-source';
import { causalityView, timelineView } from './trace-view';
import { profileView } from './profile-view';
import { newPoints, originOf, replayConfig, revisedPoints, sessionSummary, sessionView } from './view-model';
import type {
  CausalityView, ExitView, LaunchSettings, OutputView, ProcessEntry, ProcessLoops, ProfileView, RecentRecording, ReplayCommand, SessionSummary, SessionUpdate, TimelineView, UiApi, UiEvent,
} from './ui-api';

/** ~30 updates a second at most. */
export const BATCH_MS = 33;
/** A group's loops are listed again at most this often: their figures are per second, and 32 loops change every batch. */
export const LOOPS_REFRESH_MS = 500;
const ATTACH_TIMEOUT_MS = 10_000;
const LAUNCH_TIMEOUT_MS = 10_000;
/** After its probe went away, a launched program still running this long later is stopped. */
const EXIT_GRACE_MS = 1000;
/** Callbacks (and turns) per timeline answer: about what a canvas can tell apart, few enough to send, parse and draw 4 times a second (3000 cost the window its frame budget under a flood). */
const TIMELINE_MAX_SLICES = 1500;
/** Lines of a program's output per answer. */
const OUTPUT_LINES_PER_CALL = 1000;
/** Lines of its output a failed launch's message quotes. */
const FAILED_LAUNCH_LINES = 20;
/** A loop that comes before its group is made (an attached process's workers may) waits at most this long, */
const EARLY_WAIT_MS = ATTACH_TIMEOUT_MS + 5000;
/** and at most this many wait per token. */
const MAX_EARLY_PER_TOKEN = 256;

/** This installation's entry files, besides `loopscope` itself: its processes are not listed. */
const OWN_ENTRIES = [resolve(__dirname, '..'), resolve(__dirname, '../..')]
  .flatMap((root) => [join(root, 'bin', 'start-app.js'), join(root, 'dist', 'cli.js'), join(root, 'dist', 'electron', 'main.js')])
  .filter((f) => existsSync(f));

interface LiveEntry {
  readonly kind: 'live';
  readonly id: string;
  readonly session: LiveSource;
  readonly how: 'attach' | 'launch';
  /** The group's first loop; undefined for that one. */
  readonly root: LiveEntry | undefined;
  /** The first loop's: every loop of the group in the order they came, itself first. */
  readonly members: LiveEntry[];
  /** The first loop's: stops loops from joining (a launch's session token). */
  readonly revoke: () => void;
  config: ProbeConfig;
  readonly child: ChildProcess | undefined;
  /** A launched program's output. */
  readonly output: OutputCapture | undefined;
  /** How a launched program ended, once it has. */
  exit: ExitView | null;
  /** From attaching (see Attached.warnings). */
  readonly warnings: readonly string[];
  recorder: SessionRecorder | undefined;
  /** totals.samples when subscribers last got this session's points. */
  sentSamples: number;
  /** The first loop's: its group's loops as last listed, until LOOPS_REFRESH_MS after one of them changed. */
  loops: readonly ProcessLoops[] | undefined;
  loopsTimer: NodeJS.Timeout | undefined;
  /** The last summary sent (JSON), so that an unchanged one is not sent again. */
  summarySent: string | undefined;
}

interface ReplayEntry {
  readonly kind: 'replay';
  readonly id: string;
  readonly session: ReplayLoop;
  /** The recording's first loop; undefined for that one. */
  readonly root: ReplayEntry | undefined;
  /** The first loop's: every loop of the recording by loop number (the order they came), itself first. */
  readonly members: ReplayEntry[];
  sentSamples: number;
  summarySent: string | undefined;
  /** The first loop's: its group's loops as last listed (see replayLoops). */
  loops: ListedLoops | undefined;
}

interface ListedLoops {
  readonly list: readonly ProcessLoops[];
  readonly atMs: number;
  /** The group's loops and the file's seeks when listed: a new loop or a seek lists them again at once. */
  readonly members: number;
  readonly seeks: number;
}

type Entry = LiveEntry | ReplayEntry;

export interface UiBackendOptions {
  /** Where the record button writes (default: the user's data folder). */
  readonly recordingsDir?: string;
  readonly recent?: RecentRecordings;
}

type Listener = (events: readonly UiEvent[]) => void;

interface Subscriber {
  readonly listener: Listener;
  /** The session its window shows (null: none); undefined: it gets every session in full. */
  readonly shown: string | null | undefined;
}

export class UiBackend implements UiApi {
  private readonly entries = new Map<string, Entry>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly dirty = new Set<Entry>();
  private readonly pendingLaunches = new Map<string, LaunchedRoot<ProbeConnection>>();
  /** Each group's first loop, by the token its loops show. */
  private readonly groups = new Map<string, LiveEntry>();
  /** Loops whose group is not made yet, by token (see EARLY_WAIT_MS). */
  private readonly early = new Map<string, ProbeConnection[]>();
  /** Programs started whose probe has not connected yet: not sessions, but ours to stop at shutdown. */
  private readonly starting = new Set<ChildProcess>();
  /** Programs loopscope asked to stop (the Stop button, a close): their ending is no news. */
  private readonly stopping = new WeakSet<ChildProcess>();
  private flushTimer: NodeJS.Timeout | undefined;
  private nextId = 1;

  private readonly recent: RecentRecordings;
  private readonly recordingsDir: string;

  private constructor(private readonly server: ProbeServer, private readonly dir: PrivateDir, options: UiBackendOptions) {
    server.onConnection((c) => this.arrived(c));
    this.recent = options.recent ?? new RecentRecordings();
    this.recordingsDir = options.recordingsDir ?? recordingsDir();
  }

  static async start(options: UiBackendOptions = {}): Promise<UiBackend> {
    // Its own private folder, for the output of the programs it launches.
    return new UiBackend(await startProbeServer(), createPrivateDir(), options);
  }

  async listProcesses(): Promise<readonly ProcessEntry[]> {
    // Programs it launched, and the processes they started (their loops are in its sessions).
    const ours = new Set([process.pid, ...[...this.entries.values()].flatMap((e) => (e.kind === 'live' && this.rootOf(e).child ? [e.session.connection.hello.pid] : []))]);
    const all = await listNodeProcesses();
    return all
      .filter((p) => !ours.has(p.pid) && !isLoopscopeCommand(p.command, p.cwd, OWN_ENTRIES))
      .sort((a, b) => a.pid - b.pid)
      .map((p) => ({
        pid: p.pid, command: p.command, nodeVersion: p.nodeVersion, attachable: p.attachable, via: p.via, reason: p.reason, cwd: p.cwd, startedAtMs: p.startedAtMs,
      }));
  }

  async attach(pid: number, config: Partial<ProbeConfig> = {}): Promise<string> {
    // Its own inspector would wait on its own loop, which waits on the attach: a deadlock.
    if (pid === process.pid) throw new Error(`process ${pid} is this loopscope: it cannot attach to itself`);
    const full = { ...DEFAULT_CONFIG, ...config };
    const attached = await attachToProcess({ pid, server: this.server, config: full, probeFile: probePath(), timeoutMs: ATTACH_TIMEOUT_MS });
    return this.add(attached.connection, 'attach', full, undefined, attached.warnings, undefined, () => undefined);
  }

  async launch(command: readonly string[], config: Partial<ProbeConfig> = {}, settings: LaunchSettings = {}): Promise<string> {
    const [file, ...args] = command;
    if (!file) throw new Error('no command to launch: type one, e.g. node server.js');
    const cwd = settings.cwd === undefined ? undefined : workingDir(settings.cwd);
    const full = { ...DEFAULT_CONFIG, ...config };
    // Its worker threads and the Node processes it starts join its group with this token.
    let rootPid: number | undefined;
    const { token, revoke } = this.server.issueSessionToken(descendantsOf(() => rootPid));
    // Its output goes to a file loopscope reads (output-capture.ts says why not a pipe).
    let entry: LiveEntry | undefined;
    const output = OutputCapture.create(this.dir.path, () => entry && this.markDirty(entry));
    let child: ChildProcess;
    try {
      child = launch({
        command: file, args, probeFile: probePath(), socketPath: this.server.address, token, config: full, follow: true,
        stdio: ['ignore', output.writeFd, output.writeFd], env: { ...process.env, ...settings.env }, ...(cwd ? { cwd } : {}),
      });
    } catch (err) {
      output.finish();
      revoke();
      throw err;
    } finally {
      output.closeWriter();
    }
    rootPid = child.pid;
    this.starting.add(child);
    const exited = new Promise<ExitView>((resolveExit) => child.once('exit', (code, signal) => {
      output.finish();
      resolveExit({ code, signal, stopped: this.stopping.has(child) });
    }));
    try {
      const connection = await new Promise<ProbeConnection>((resolveConnection, reject) => {
        const timer = setTimeout(() => reject(new Error(`"${file}" started but no probe connected within ${LAUNCH_TIMEOUT_MS / 1000} s: is it a Node.js program (Node 18 or later)?${lastLines(output)}`)), LAUNCH_TIMEOUT_MS);
        this.pendingLaunches.set(token, new LaunchedRoot(() => rootPid, (c, earlier) => {
          clearTimeout(timer);
          this.pendingLaunches.delete(token);
          // The loops that came first wait for the group that this one makes.
          for (const e of earlier) this.arrived(e);
          resolveConnection(c);
        }));
        child.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(new Error(err.code === 'ENOENT' ? `cannot start "${file}": command not found` : `cannot start "${file}": ${err.message}`));
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          // Gone without a hello of its own: a loop it started, held till now, is the program.
          this.pendingLaunches.get(token)?.settleNow();
          reject(new Error(`"${file}" exited (${signal ?? `code ${code}`}) before its probe connected${lastLines(output)}`));
        });
      });
      const id = this.add(connection, 'launch', full, child, [], output, revoke);
      entry = this.entries.get(id) as LiveEntry;
      void exited.then((exit) => {
        entry!.exit = exit;
        // Its loop's exit code is the program's.
        this.relist(entry!);
      });
      return id;
    } catch (err) {
      revoke();
      child.kill('SIGKILL');
      // Never started (no exit will come): nothing more to read.
      if (child.pid === undefined) output.finish();
      throw err;
    } finally {
      for (const c of this.pendingLaunches.get(token)?.dispose() ?? []) c.destroy();
      this.pendingLaunches.delete(token);
      this.starting.delete(child);
    }
  }

  launchDemo(config: Partial<ProbeConfig> = {}): Promise<string> {
    // Inside Electron, process.execPath is Electron's binary: it runs the demo as plain Node.
    const env = process.versions['electron'] ? { ELECTRON_RUN_AS_NODE: '1' } : undefined;
    return this.launch([process.execPath, demoPath()], config, env ? { env } : {});
  }

  async configure(sessionId: string, config: Partial<ProbeConfig>): Promise<void> {
    const root = this.rootOf(this.live(sessionId, 'change the probe\'s settings'));
    for (const entry of root.members) {
      if (!entry.session.isClosed) entry.session.connection.configure(config);
      entry.config = { ...entry.config, ...config };
      this.markDirty(entry);
    }
  }

  /** Stops the program a group launched, or detaches every loop of an attached one. */
  async stop(sessionId: string): Promise<void> {
    const root = this.rootOf(this.live(sessionId, 'stop it'));
    await Promise.all(root.members.map((m) => this.stopLoop(m)));
  }

  private async stopLoop(entry: LiveEntry): Promise<void> {
    if (entry.root?.child) await entry.session.whenClosed(2000);
    else if (entry.child) {
      if (entry.child.exitCode === null && entry.child.signalCode === null) {
        this.stopping.add(entry.child);
        entry.child.kill('SIGTERM');
      }
      await entry.session.whenClosed(2000);
    } else {
      await entry.session.connection.detach();
    }
  }

  async openRecording(path: string): Promise<string> {
    const file = resolve(path);
    const source = ReplaySource.open(file);
    this.recent.add(file);
    let root: ReplayEntry | undefined;
    // Each loop is a session as it first comes in the file (loop 0's now).
    source.onLoop((loop) => {
      const entry: ReplayEntry = { kind: 'replay', id: `s${this.nextId++}`, session: loop, root, members: [], sentSamples: 0, summarySent: undefined, loops: undefined };
      root ??= entry;
      root.members.push(entry);
      root.members.sort((a, b) => a.session.loop - b.session.loop);
      this.entries.set(entry.id, entry);
      this.markGroupDirty(root);
    });
    const group = root!;
    source.onChange(() => this.markGroupDirty(group));
    return group.id;
  }

  openInEditor(url: string, line: number, column: number): Promise<void> {
    return openInEditor(url, line, column);
  }

  async recentRecordings(): Promise<readonly RecentRecording[]> {
    return this.recent.list();
  }

  async replay(sessionId: string, command: ReplayCommand): Promise<void> {
    const entry = this.entry(sessionId);
    if (entry.kind !== 'replay') throw new Error(`session ${sessionId} is live: only a replayed recording can be played, paused or scrubbed`);
    entry.session.command(command);
  }

  /** Records every loop of the session's group (those that join later too) into one file. */
  async startRecording(sessionId: string): Promise<string> {
    const entry = this.rootOf(this.live(sessionId, 'record it'));
    if (entry.session.isClosed) throw new Error('this session has ended: there is nothing more to record. Attach again or launch the program again to record it');
    if (entry.recorder) return entry.recorder.path;
    const path = join(this.recordingsDir, recordingFileName(entry.session.connection.hello.pid, Date.now()));
    const recorder = SessionRecorder.start(path, entry.session);
    for (const m of entry.members) if (m !== entry && !m.session.isClosed) recorder.add(m.session);
    entry.recorder = recorder;
    // The file is finished when the probe goes away, not only when the user stops it.
    entry.session.connection.on('close', () => void recorder.stop());
    this.recent.add(path);
    this.markGroupDirty(entry);
    return path;
  }

  async stopRecording(sessionId: string): Promise<void> {
    const entry = this.rootOf(this.live(sessionId, 'record it'));
    const recorder = entry.recorder;
    if (!recorder) return;
    entry.recorder = undefined;
    await recorder.stop();
    this.recent.add(recorder.path);
    this.markGroupDirty(entry);
  }

  /** Closing a group's first session closes the group; closing another loop's detaches that loop alone. */
  async close(sessionId: string): Promise<void> {
    const entry = this.entry(sessionId);
    if (entry.kind === 'replay') {
      // Any of its loops closes the recording: there is nothing to detach a loop from.
      const root = entry.root ?? entry;
      root.session.source.close();
      for (const m of root.members) this.forget(m);
      return;
    }
    if (entry.root) {
      await entry.session.connection.detach();
      const at = entry.root.members.indexOf(entry);
      if (at >= 0) entry.root.members.splice(at, 1);
      this.relist(entry.root);
      return this.forget(entry);
    }
    await this.stop(sessionId);
    await entry.recorder?.stop();
    entry.revoke();
    clearTimeout(entry.loopsTimer);
    for (const [token, root] of this.groups) if (root === entry) this.groups.delete(token);
    for (const m of entry.members) this.forget(m);
  }

  private forget(entry: Entry): void {
    if (!this.entries.delete(entry.id)) return;
    this.dirty.delete(entry);
    this.send([{ kind: 'closed', id: entry.id }]);
  }

  subscribe(listener: Listener, shown?: string | null): () => void {
    // Pending points go to the others first, so that this one's snapshot and the next batch
    // do not overlap.
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flush();
    }
    const subscriber: Subscriber = { listener, shown };
    this.subscribers.add(subscriber);
    const entries = [...this.entries.values()];
    const all: UiEvent[] = [
      ...(shown === undefined ? [] : entries.map((e) => this.summaryUpdate(subscriber, e, this.sentSummary(e)))),
      ...entries.filter((e) => this.shows(subscriber, e)).map((e) => this.update(e, true)),
    ];
    if (all.length > 0) listener(all);
    return () => this.subscribers.delete(subscriber);
  }

  async timeline(sessionId: string, fromS: number, toS: number): Promise<TimelineView> {
    const { session } = this.entry(sessionId);
    return timelineView(session.trace, originOf(session.state), fromS, toS, TIMELINE_MAX_SLICES);
  }

  async causality(sessionId: string, asyncId: number): Promise<CausalityView | null> {
    const { session } = this.entry(sessionId);
    return causalityView(session.trace, originOf(session.state), asyncId);
  }

  async profile(sessionId: string, fromS: number, toS: number): Promise<ProfileView> {
    const entry = this.entry(sessionId);
    if (entry.kind === 'replay') return entry.session.profileOf(fromS, toS);
    const { session } = entry;
    return profileView(session.profile, originOf(session.state), fromS, toS, session.state.profiler);
  }

  async setTraceLength(sessionId: string, seconds: number): Promise<void> {
    this.entry(sessionId).session.feed.setTraceKeep(seconds);
  }

  async output(sessionId: string, from: number): Promise<OutputView | null> {
    const entry = this.entry(sessionId);
    const output = entry.kind === 'live' ? entry.output : undefined;
    if (!output) return null;
    return { ...output.lines(from, OUTPUT_LINES_PER_CALL), dropped: output.dropped };
  }

  /**
   * Stops launched programs, detaches from attached ones, finishes recordings, closes
   * replayed files and the probe server.
   */
  async shutdown(): Promise<void> {
    clearTimeout(this.flushTimer);
    for (const child of this.starting) child.kill('SIGTERM');
    await Promise.all([...this.entries.keys()].map((id) => this.close(id).catch(() => undefined)));
    await this.server.close();
    this.dir.remove();
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`no session "${id}": it may have been closed; go back to the start screen`);
    return entry;
  }

  private live(id: string, what: string): LiveEntry {
    const entry = this.entry(id);
    if (entry.kind !== 'live') throw new Error(`session ${id} is a replayed recording: there is no process to ${what}`);
    return entry;
  }

  private rootOf(entry: LiveEntry): LiveEntry {
    return entry.root ?? entry;
  }

  /** A probe connected: a loop of a group, the program a launch waits for, or a loop whose group is not made yet. */
  private arrived(c: ProbeConnection): void {
    const token = c.hello.token;
    const root = this.groups.get(token);
    if (root) return this.join(root, c);
    // The program's own main thread, or a loop of another process (one it started) that came
    // first and waits for it (launched-root.ts; held raw, as in `early` below).
    const launched = this.pendingLaunches.get(token);
    if (launched) return launched.offer(c);
    const waiting = this.early.get(token) ?? [];
    if (waiting.length >= MAX_EARLY_PER_TOKEN) return c.destroy();
    waiting.push(c);
    this.early.set(token, waiting);
    setTimeout(() => {
      const still = this.early.get(token);
      const at = still?.indexOf(c) ?? -1;
      if (at < 0) return;
      still!.splice(at, 1);
      if (still!.length === 0) this.early.delete(token);
      // Its group was never made (the attach failed): its probe turns itself off.
      c.destroy();
    }, EARLY_WAIT_MS).unref();
  }

  /** A loop joins a group: a session of its own, listed in the group's first session. */
  private join(root: LiveEntry, c: ProbeConnection): void {
    const entry = this.newEntry(c, root.how, root.config, root);
    root.members.push(entry);
    root.recorder?.add(entry.session);
    this.relist(root);
  }

  private newEntry(connection: ProbeConnection, how: LiveEntry['how'], config: ProbeConfig, root: LiveEntry | undefined, child?: ChildProcess, warnings: readonly string[] = [], output?: OutputCapture, revoke: () => void = () => undefined): LiveEntry {
    const id = `s${this.nextId++}`;
    const entry: LiveEntry = {
      kind: 'live', id, session: new LiveSource(connection), how, root, members: [], revoke, config, child, output, exit: null, warnings, recorder: undefined, sentSamples: 0,
      loops: undefined, loopsTimer: undefined, summarySent: undefined,
    };
    if (!root) entry.members.push(entry);
    this.entries.set(id, entry);
    // The group's first session lists every loop: it changes with each of them, listed again
    // at most every LOOPS_REFRESH_MS.
    entry.session.onChange(() => {
      this.markDirty(entry);
      this.loopsChanged(root ?? entry);
    });
    this.markDirty(entry);
    return entry;
  }

  private add(connection: ProbeConnection, how: LiveEntry['how'], config: ProbeConfig, child: ChildProcess | undefined, warnings: readonly string[], output: OutputCapture | undefined, revoke: () => void): string {
    const entry = this.newEntry(connection, how, config, undefined, child, warnings, output, revoke);
    const { id } = entry;
    const token = connection.hello.token;
    this.groups.set(token, entry);
    const waiting = this.early.get(token) ?? [];
    this.early.delete(token);
    for (const c of waiting) if (c !== connection) this.join(entry, c);
    // A launched program is ours: it must not outlive its session's end. But the probe also
    // says goodbye when the program is on its way out by itself: give it the time to finish,
    // so that its own exit code is what the console shows.
    connection.on('close', () => {
      if (!child) return;
      const timer = setTimeout(() => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        this.stopping.add(child);
        child.kill('SIGTERM');
      }, EXIT_GRACE_MS);
      child.once('exit', () => clearTimeout(timer));
    });
    return id;
  }

  /** A loop of the group came or went, or ended with a code: list the loops again now. */
  private relist(root: LiveEntry): void {
    root.loops = undefined;
    this.markDirty(root);
  }

  /** A loop's figures changed: list the loops again within LOOPS_REFRESH_MS. */
  private loopsChanged(root: LiveEntry): void {
    root.loopsTimer ??= setTimeout(() => {
      root.loopsTimer = undefined;
      if (this.entries.has(root.id)) this.relist(root);
    }, LOOPS_REFRESH_MS).unref();
  }

  private groupLoops(root: LiveEntry): readonly ProcessLoops[] {
    root.loops ??= processLoops(root.members.map((m) => ({
      data: m.session, sessionId: m.id, status: m.session.isClosed ? 'ended' : 'live',
      // A launched program's own exit code is its loop's.
      exitCode: m === root ? (root.exit?.code ?? undefined) : undefined,
    })));
    return root.loops;
  }

  /**
   * A replayed group's loops: while it plays, listed again at the live pace (every loop's
   * figures change at each step of the replay clock); paused, at each change (a step, a seek).
   */
  private replayLoops(root: ReplayEntry): readonly ProcessLoops[] {
    const source = root.session.source;
    const now = performance.now();
    const l = root.loops;
    if (l && source.playing && l.members === root.members.length && l.seeks === source.seeks && now - l.atMs < LOOPS_REFRESH_MS) return l.list;
    const list = processLoops(root.members.map((m) => ({ data: m.session, sessionId: m.id, status: 'replay' })));
    root.loops = { list, atMs: now, members: root.members.length, seeks: source.seeks };
    return list;
  }

  private markGroupDirty(root: Entry): void {
    for (const m of root.members) this.markDirty(m);
  }

  private markDirty(entry: Entry): void {
    this.dirty.add(entry);
    this.flushTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const dirty = [...this.dirty];
    this.dirty.clear();
    // A copy: a listener that subscribes again from here already has these in its snapshot.
    const subscribers = [...this.subscribers];
    const summaries = subscribers.some((s) => s.shown !== undefined) ? this.changedSummaries(dirty) : [];
    // Each view is made once, and only when some window shows it.
    const updates = new Map<Entry, SessionUpdate>();
    const updateOf = (e: Entry): SessionUpdate => {
      let u = updates.get(e);
      if (!u) updates.set(e, u = this.update(e, false));
      return u;
    };
    for (const s of subscribers) {
      const events: UiEvent[] = dirty.filter((e) => this.shows(s, e)).map(updateOf);
      if (s.shown !== undefined) for (const [e, summary] of summaries) events.push(this.summaryUpdate(s, e, summary));
      if (events.length > 0) s.listener(events);
    }
    // Points no one was sent: a window that comes to show the session gets them in its snapshot.
    for (const e of dirty) if (!updates.has(e)) e.sentSamples = e.session.state.totals.samples;
  }

  private send(events: readonly UiEvent[]): void {
    for (const s of [...this.subscribers]) s.listener(events);
  }

  /** Whether the subscriber gets the session's SessionUpdates: it shows it, or a loop of its group. */
  private shows(s: Subscriber, e: Entry): boolean {
    if (s.shown === undefined || s.shown === e.id) return true;
    const shown = s.shown === null ? undefined : this.entries.get(s.shown);
    return shown !== undefined && (shown.root ?? shown) === e;
  }

  private summaryUpdate(s: Subscriber, e: Entry, summary: SessionSummary): UiEvent {
    return { kind: 'summary', summary, shown: this.shows(s, e) };
  }

  /** The summaries of `entries` that changed since they were last sent. */
  private changedSummaries(entries: readonly Entry[]): [Entry, SessionSummary][] {
    return entries.flatMap((e) => {
      const before = e.summarySent;
      const summary = this.sentSummary(e);
      return e.summarySent === before ? [] : [[e, summary] as [Entry, SessionSummary]];
    });
  }

  /** The session's summary, noted as sent. */
  private sentSummary(e: Entry): SessionSummary {
    const summary = this.summaryOf(e);
    e.summarySent = JSON.stringify(summary);
    return summary;
  }

  private summaryOf(e: Entry): SessionSummary {
    const seen = (loops: readonly { readonly state: { readonly hello: unknown } }[]): number => loops.filter((l) => l.state.hello).length;
    return e.kind === 'live'
      ? sessionSummary(e.session, {
        id: e.id, group: this.rootOf(e).id, how: e.how, status: e.session.isClosed ? 'ended' : 'live', file: null,
        loops: e.root ? 0 : seen(e.members.map((m) => m.session)),
      })
      : sessionSummary(e.session, {
        id: e.id, group: (e.root ?? e).id, how: 'replay', status: 'replay', file: e.session.source.path,
        loops: e.root ? 0 : seen(e.members.map((m) => m.session)),
      });
  }

  private update(e: Entry, subscribing: boolean): SessionUpdate {
    const data = e.session;
    const { state } = data;
    // A seek rebuilds the state: the points sent before are not the start of the new ones.
    const reset = subscribing || (e.kind === 'replay' && (e.session.takeRewound() || state.totals.samples < e.sentSamples));
    const count = reset ? data.recent.length : state.totals.samples - e.sentSamples;
    if (!subscribing) e.sentSamples = state.totals.samples;
    const view = e.kind === 'live'
      ? sessionView(data, {
        id: e.id, how: e.how, config: e.config, ended: e.session.isClosed, error: e.session.closeError, warnings: e.warnings,
        recording: this.rootOf(e).recorder?.progress ?? null, replay: null,
        output: e.output ? { total: e.output.total, dropped: e.output.dropped, bytes: e.output.bytes } : null, exit: e.exit,
        group: this.rootOf(e).id,
        loops: e.root ? [] : this.groupLoops(e),
      })
      : sessionView(data, {
        id: e.id, how: 'replay', config: replayConfig(state), ended: true, error: undefined, warnings: [], recording: null, replay: e.session.view(), output: null, exit: null,
        group: (e.root ?? e).id,
        loops: e.root ? [] : this.replayLoops(e),
      });
    return { kind: 'session', view, points: newPoints(data, count), revised: reset ? [] : revisedPoints(data, count), reset };
  }
}

/** A launch's working directory, resolved and checked, with an error that says what is wrong. */
function workingDir(dir: string): string {
  const full = resolve(dir);
  let isDir: boolean;
  try {
    isDir = statSync(full).isDirectory();
  } catch {
    throw new Error(`the working directory ${full} does not exist: give an existing folder, or leave it empty for loopscope's own`);
  }
  if (!isDir) throw new Error(`the working directory ${full} is not a folder`);
  return full;
}

/** The end of a program's output, for a message about why it stopped. */
function lastLines(output: OutputCapture): string {
  const tail = output.tail(FAILED_LAUNCH_LINES);
  return tail.length === 0 ? ' (it wrote nothing)' : `. Its last output:\n${tail.join('\n')}`;
}
