// The real CLI as a long-running exporter (`loopscope run --headless …`), ports to give it,
// and polling. Every process started here is ended by stopAll(), and so is every program a
// loopscope said it watches (a loopscope killed outright could not end it itself).

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO } from './probe-harness';

const CLI = join(REPO, 'bin', 'loopscope.js');
const running = new Set<Running>();

export interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProcess(command: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Running {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const r: Running = { child, stdout: () => out, stderr: () => err, exit };
  running.add(r);
  return r;
}

export const startCli = (args: readonly string[], env: Readonly<Record<string, string>> = {}): Running => startProcess(process.execPath, [CLI, ...args], env);

const watched = new Set<number>();

/** The PIDs a headless loopscope said it watches ("probe connected: process <pid>"). */
function watchedBy(run: Running): number[] {
  return [...run.stderr().matchAll(/probe connected: process (\d+)/g)].map((m) => Number(m[1]));
}

/** SIGTERM (a loopscope then ends its program), SIGKILL 5 s later; then the programs loopscopes watched. */
export async function stopAll(): Promise<void> {
  const waits = [...running].map((r) => new Promise<void>((resolve) => {
    for (const pid of watchedBy(r)) watched.add(pid);
    const c = r.child;
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.kill('SIGTERM');
  }));
  running.clear();
  await Promise.all(waits);
  for (const pid of watched) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Ended already.
    }
  }
  watched.clear();
}

/** A TCP port nobody listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `read` every `everyMs` until it returns something, or throws after `timeoutMs` with the last `why`. */
export async function waitFor<T>(read: () => Promise<T | undefined>, timeoutMs: number, why: () => string, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out: ${why()}`);
    await sleep(everyMs);
  }
}
