// The real CLI as a long-running exporter (`loopscope run --headless …`), ports to give it,
// and polling. Every process started here is killed by stopAll().

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO } from './probe-harness';

const CLI = join(REPO, 'bin', 'loopscope.js');
const started = new Set<ChildProcess>();

export interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProcess(command: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Running {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}

export const startCli = (args: readonly string[], env: Readonly<Record<string, string>> = {}): Running => startProcess(process.execPath, [CLI, ...args], env);

export async function stopAll(): Promise<void> {
  const waits = [...started].map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  }));
  started.clear();
  await Promise.all(waits);
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
