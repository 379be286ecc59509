// Real target processes for the attach and ps tests, and the real CLI against them. Every
// process started here is remembered and killed by killAll(), which each test file runs
// after each test.

import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { FIXTURES, REPO } from './probe-harness';

const CLI = join(REPO, 'bin', 'loopscope.js');
const started = new Set<ChildProcess>();

export interface Target {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything it wrote so far. */
  stdout(): string;
  stderr(): string;
  /** The first line it printed ("ready <pid> ..."). */
  readonly readyLine: string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

export interface TargetOptions {
  readonly node?: string;
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Its NODE_OPTIONS (none otherwise: started "by hand"). */
  readonly nodeOptions?: string;
  /** Run this file directly instead of with Node. */
  readonly executable?: boolean;
}

/** Starts a fixture and resolves once it has printed its "ready" line. */
export function startTarget(fixture: string, options: TargetOptions = {}): Promise<Target> {
  const file = join(FIXTURES, fixture);
  const [command, args] = options.executable ? [file, []] : [options.node ?? process.execPath, [...(options.nodeArgs ?? []), file]];
  const env = { ...process.env, ...options.env };
  delete env['NODE_OPTIONS']; // started "by hand": nothing preloaded
  if (options.nodeOptions !== undefined) env['NODE_OPTIONS'] = options.nodeOptions;
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  let err = '';
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      started.delete(child);
      resolve({ code, signal });
    });
  });
  child.stderr!.on('data', (d: Buffer) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const before = out;
      out += d;
      if (!before.includes('\n') && out.includes('\n')) {
        resolve({
          pid: child.pid!, child, exit, readyLine: out.slice(0, out.indexOf('\n')),
          stdout: () => out, stderr: () => err, alive: () => !exited,
        });
      }
    });
    void exit.then(({ code, signal }) => reject(new Error(`${fixture} exited (${code ?? signal}) before it was ready: ${err}`)));
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** ms from spawning the CLI to its exit. */
  readonly ms: number;
}

export interface CliRun {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
}

export function startLoopscope(args: readonly string[]): CliRun {
  const began = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    child.on('exit', (code) => {
      started.delete(child);
      resolve({ code, stdout, stderr, ms: Date.now() - began });
    });
  });
  return { child, done };
}

export function loopscope(args: readonly string[]): Promise<CliResult> {
  return startLoopscope(args).done;
}

export async function killAll(): Promise<void> {
  const waits = [...started].map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  }));
  started.clear();
  await Promise.all(waits);
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` every 50 ms until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > end) return false;
    await sleep(50);
  }
}

/**
 * Node's own lines on stderr when its inspector opens, a client connects, and the last client
 * leaves while it still listens: nothing else may appear.
 */
export function unexpectedStderr(stderr: string): string[] {
  const nodeOwn = [/^Debugger listening on ws:\/\//, /^For help, see: https:\/\/nodejs\.org\//, /^Debugger attached\.$/, /^Debugger ending on ws:\/\//, /^$/];
  return stderr.split('\n').filter((line) => !nodeOwn.some((re) => re.test(line)));
}
