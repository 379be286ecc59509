// `loopscope serve --no-open` (or with other arguments) as a child process, and the URL it
// prints first on stdout. Its data and settings folders (recordings, uploads, recent list) are
// a fresh temporary folder.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import type { SessionUpdate, SessionView, UiEvent } from '../../main/ui/ui-api';

const BIN = resolve(__dirname, '../../bin/loopscope.js');

export interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  /** Holds data/ (XDG_DATA_HOME) and config/ (XDG_CONFIG_HOME); removed by stop(). */
  readonly home: string;
  /** What it wrote on stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startServe(options: { args?: readonly string[]; env?: Readonly<Record<string, string>> } = {}): Promise<Served> {
  const home = mkdtempSync(join(tmpdir(), 'loopscope-serve-'));
  const env = { ...process.env, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config'), ...options.env };
  const child = spawn(process.execPath, [BIN, 'serve', ...(options.args ?? ['--no-open'])], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 10 s: ${out} ${stderr}`)), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const first = /^(http:\/\/\S+)\n/.exec(out);
      if (first?.[1]) {
        clearTimeout(timer);
        resolveUrl(first[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
  });
  const removeHome = (): void => rmSync(home, { recursive: true, force: true });
  return {
    child,
    url,
    home,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }).then(removeHome),
  };
}

/** One call on the web host's API, as the page would make it. */
export function callHost(url: string, method: string, params: unknown[]): Promise<unknown> {
  const u = new URL('ws', url);
  u.protocol = 'ws:';
  const ws = new WebSocket(u.href, { origin: new URL(url).origin });
  return new Promise((ok, fail) => {
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, method, params })));
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { id?: number; result?: unknown; error?: string };
      if (m.id !== 1) return;
      ws.close();
      if (m.error !== undefined) fail(new Error(m.error));
      else ok(m.result);
    });
    ws.once('error', fail);
  });
}

/** A session's view as the host has it now: a new subscriber's first batch is a snapshot of every session. */
export function sessionViewOf(url: string, id: string): Promise<SessionView> {
  const u = new URL('ws', url);
  u.protocol = 'ws:';
  const ws = new WebSocket(u.href, { origin: new URL(url).origin });
  return new Promise((ok, fail) => {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { events?: UiEvent[] };
      if (!m.events) return;
      ws.close();
      const e = m.events.find((x): x is SessionUpdate => x.kind === 'session' && x.view.id === id);
      if (e) ok(e.view);
      else fail(new Error(`no session ${id} in the host's snapshot`));
    });
    ws.once('error', fail);
  });
}
