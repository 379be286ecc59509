// The plain-Node implementation of the UI's API (main/ui-api.ts), shared by the web host and
// the Electron window: it lists processes, attaches and launches, keeps the sessions, and
// sends their changes to subscribers in batches (at most one per BATCH_MS), so a flood of
// probe messages costs the UI a bounded number of updates.

import type { ChildProcess } from 'node:child_process';
import type { ProbeConfig } from '../probe/wire';
import { DEFAULT_CONFIG } from '../probe/constants';
import { attachToProcess } from './attach/attach';
import { listNodeProcesses } from './cli/ps-command';
import { demoPath } from './demo/demo-path';
import { launch } from './launch/launch';
import { probePath } from './launch/probe-path';
import { startProbeServer, type ProbeConnection, type ProbeServer } from './server/probe-server';
import { LiveSession } from './session/live-session';
import { newPoints, sessionView } from './session/view-model';
import type { ProcessEntry, SessionUpdate, SessionView, UiApi, UiEvent } from './ui-api';

/** ~30 updates a second at most. */
export const BATCH_MS = 33;
const ATTACH_TIMEOUT_MS = 10_000;
const LAUNCH_TIMEOUT_MS = 10_000;

interface Entry {
  readonly id: string;
  readonly session: LiveSession;
  readonly how: SessionView['how'];
  config: ProbeConfig;
  readonly child: ChildProcess | undefined;
  /** totals.samples when subscribers last got this session's points. */
  sentSamples: number;
}

type Listener = (events: readonly UiEvent[]) => void;

export class UiBackend implements UiApi {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<Listener>();
  private readonly dirty = new Set<Entry>();
  private readonly pendingLaunches = new Map<string, (c: ProbeConnection) => void>();
  private flushTimer: NodeJS.Timeout | undefined;
  private nextId = 1;

  private constructor(private readonly server: ProbeServer) {
    server.onConnection((c) => this.pendingLaunches.get(c.hello.token)?.(c));
  }

  static async start(): Promise<UiBackend> {
    return new UiBackend(await startProbeServer());
  }

  async listProcesses(): Promise<readonly ProcessEntry[]> {
    const ours = new Set([...this.entries.values()].filter((e) => e.child).map((e) => e.session.connection.hello.pid));
    const all = await listNodeProcesses();
    return all
      .filter((p) => !ours.has(p.pid))
      .sort((a, b) => a.pid - b.pid)
      .map((p) => ({ pid: p.pid, command: p.command, nodeVersion: p.nodeVersion, attachable: p.attachable, reason: p.reason }));
  }

  async attach(pid: number, config: Partial<ProbeConfig> = {}): Promise<string> {
    const full = { ...DEFAULT_CONFIG, ...config };
    const attached = await attachToProcess({ pid, server: this.server, config: full, probeFile: probePath(), timeoutMs: ATTACH_TIMEOUT_MS });
    return this.add(attached.connection, 'attach', full, undefined);
  }

  async launch(command: readonly string[], config: Partial<ProbeConfig> = {}, env?: NodeJS.ProcessEnv): Promise<string> {
    const [file, ...args] = command;
    if (!file) throw new Error('no command to launch: type one, e.g. node server.js');
    const full = { ...DEFAULT_CONFIG, ...config };
    const token = this.server.issueToken();
    const child = launch({ command: file, args, probeFile: probePath(), socketPath: this.server.address, token, config: full, stdio: 'ignore', ...(env ? { env } : {}) });
    try {
      const connection = await new Promise<ProbeConnection>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`"${file}" started but no probe connected within ${LAUNCH_TIMEOUT_MS / 1000} s: is it a Node.js program (Node 18 or later)?`)), LAUNCH_TIMEOUT_MS);
        this.pendingLaunches.set(token, (c) => {
          clearTimeout(timer);
          resolve(c);
        });
        child.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(new Error(err.code === 'ENOENT' ? `cannot start "${file}": command not found` : `cannot start "${file}": ${err.message}`));
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`"${file}" exited (${signal ?? `code ${code}`}) before its probe connected`));
        });
      });
      return this.add(connection, 'launch', full, child);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      this.pendingLaunches.delete(token);
    }
  }

  launchDemo(config: Partial<ProbeConfig> = {}): Promise<string> {
    // Inside Electron, process.execPath is Electron's binary: it runs the demo as plain Node.
    const env = process.versions['electron'] ? { ...process.env, ELECTRON_RUN_AS_NODE: '1' } : undefined;
    return this.launch([process.execPath, demoPath()], config, env);
  }

  async configure(sessionId: string, config: Partial<ProbeConfig>): Promise<void> {
    const entry = this.entry(sessionId);
    entry.session.connection.configure(config);
    entry.config = { ...entry.config, ...config };
    this.markDirty(entry);
  }

  async stop(sessionId: string): Promise<void> {
    const entry = this.entry(sessionId);
    if (entry.child) {
      if (entry.child.exitCode === null && entry.child.signalCode === null) entry.child.kill('SIGTERM');
      await entry.session.whenClosed(2000);
    } else {
      await entry.session.connection.detach();
    }
  }

  subscribe(listener: Listener): () => void {
    // Pending points go to the others first, so that this one's snapshot and the next batch
    // do not overlap.
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flush();
    }
    this.listeners.add(listener);
    const all = [...this.entries.values()].map((e) => this.update(e, true));
    if (all.length > 0) listener(all);
    return () => this.listeners.delete(listener);
  }

  /** Stops launched programs, detaches from attached ones, and closes the probe server. */
  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    await Promise.all([...this.entries.values()].map((e) => this.stop(e.id).catch(() => undefined)));
    await this.server.close();
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`no session "${id}": it may have been closed; go back to the start screen`);
    return entry;
  }

  private add(connection: ProbeConnection, how: Entry['how'], config: ProbeConfig, child: ChildProcess | undefined): string {
    const id = `s${this.nextId++}`;
    const entry: Entry = { id, session: new LiveSession(connection), how, config, child, sentSamples: 0 };
    this.entries.set(id, entry);
    entry.session.onChange(() => this.markDirty(entry));
    // A launched program is ours: it must not outlive its session's end.
    connection.on('close', () => {
      if (child && child.exitCode === null) child.kill('SIGTERM');
    });
    this.markDirty(entry);
    return id;
  }

  private markDirty(entry: Entry): void {
    this.dirty.add(entry);
    this.flushTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const events = [...this.dirty].map((e) => this.update(e, false));
    this.dirty.clear();
    // A copy: a listener that subscribes again from here already has these in its snapshot.
    for (const l of [...this.listeners]) l(events);
  }

  private update(e: Entry, reset: boolean): SessionUpdate {
    const state = e.session.state;
    const count = reset ? state.recent.length : state.totals.samples - e.sentSamples;
    if (!reset) e.sentSamples = state.totals.samples;
    const view = sessionView(state, { id: e.id, how: e.how, config: e.config, ended: e.session.isClosed, error: e.session.closeError });
    return { kind: 'session', view, points: newPoints(state, count), reset };
  }
}
