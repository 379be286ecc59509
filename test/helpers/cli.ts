// Runs the real loopscope CLI to its end, as a user would, and collects what it printed.

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'bin', 'loopscope.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `timeoutMs`: killed (SIGTERM) after that long, for a test of what must not hang. */
export function loopscope(args: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs?: number): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the CLI in a terminal of its own (util-linux's `script` gives it a pseudo-terminal), for
 * the commands that need one. What it printed, stdout and stderr, comes back as one text.
 */
export function loopscopeInTerminal(args: readonly string[], timeoutMs = 20_000): CliRun {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout + r.stderr, stderr: '' };
}
