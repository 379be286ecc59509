// Runs a fixture app with the real probe preloaded, against a real probe server, and
// collects what arrives. Shared by the end-to-end tests.

import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { launch } from '../../main/launch/launch';
import { probePath } from '../../main/launch/probe-path';
import { startProbeServer, type ProbeConnection, type ProbeServer } from '../../main/server/probe-server';
import { LiveSource } from '../../main/session/live-source';
import { SessionFeed } from '../../main/session/session-feed';
import type { SessionState } from '../../main/session/session-state';
import type { ProbeConfig, ProbeMessage } from '../../probe/wire';

export const FIXTURES = join(__dirname, '..', 'fixtures');
export const REPO = join(__dirname, '..', '..');

export interface ProbedRun {
  readonly server: ProbeServer;
  readonly child: ChildProcess;
  readonly messages: ProbeMessage[];
  readonly stdout: string[];
  /** The target's stderr, when captured (`captureStderr`); else it goes to the test's. */
  readonly stderr: string[];
  readonly connection: Promise<ProbeConnection>;
  state(): SessionState;
  /** Everything received from the first connection, through a live session (before it: an empty feed). */
  readonly feed: SessionFeed;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the probe's connection has closed. */
  closed: Promise<string | undefined>;
}

export async function runProbed(
  fixture: string,
  env: Record<string, string> = {},
  config: Partial<ProbeConfig> = {},
  options: { token?: string; nodeArgs?: readonly string[]; node?: string; stdin?: boolean; captureStderr?: boolean } = {},
): Promise<ProbedRun> {
  const server = await startProbeServer();
  const token = options.token ?? server.issueToken();
  const messages: ProbeMessage[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const child = launch({
    command: options.node ?? process.execPath,
    args: [...(options.nodeArgs ?? []), resolve(FIXTURES, fixture)], // an absolute path stays as it is
    probeFile: probePath(),
    socketPath: server.address,
    token,
    config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50, ...config },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', options.captureStderr ? 'pipe' : 'inherit'],
    env: { ...process.env, ...env },
  });
  child.stdout?.setEncoding('utf8');
  // Whole lines only: a chunk may end inside one.
  let partial = '';
  child.stdout?.on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    stdout.push(...lines.filter(Boolean));
  });
  child.stdout?.on('end', () => partial && stdout.push(partial));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => stderr.push(d));
  let resolveClosed: (e: string | undefined) => void = () => undefined;
  const closed = new Promise<string | undefined>((r) => (resolveClosed = r));
  let source: LiveSource | undefined;
  const empty = new SessionFeed();
  const connection = new Promise<ProbeConnection>((resolve) => {
    server.onConnection((c) => {
      const live = new LiveSource(c);
      source ??= live;
      live.onFrame((_raw, _at, m) => messages.push(m));
      c.on('close', (e) => resolveClosed(e));
      resolve(c);
    });
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    server, child, messages, stdout, stderr, connection, exit, closed,
    get feed() {
      return source?.feed ?? empty;
    },
    state: () => (source?.feed ?? empty).state,
  };
}

/** Waits until `predicate` holds, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
