// A finished loopscope command exits even when a handle of its own was left open by mistake,
// after its output is flushed, and says what was left open (main/cli/exit-when-done.ts). Real
// processes running the built CLI's exitWhenDone, as bin/loopscope.js calls it.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST_CLI = join(__dirname, '..', 'dist', 'cli.js');

interface Ended {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `script` with `cli` bound to the built CLI, to the end of its output (killed after 20 s). */
function runWithCli(script: string): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', `const cli = require(${JSON.stringify(DIST_CLI)});\n${script}`], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a finished command', () => {
  it('exits with its code and names what it left open, instead of hanging', async () => {
    const r = await runWithCli('setInterval(() => {}, 1000); cli.exitWhenDone(3);');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^loopscope: still running 2 s after it finished \(left open: .*Timeout.*\); exiting\n$/);
  });

  it('waits for work held on purpose (an inspector connection owed an answer) before its grace period starts', async () => {
    const started = Date.now();
    const r = await runWithCli('cli.holdExit(new Promise((r) => setTimeout(r, 3000))); setInterval(() => {}, 1000); cli.exitWhenDone(4);');
    expect(r.code).toBe(4);
    expect(Date.now() - started).toBeGreaterThan(3000);
    // The grace period starts once the hold ends: the interval left open is named after it.
    expect(r.stderr).toMatch(/^loopscope: still running 2 s after it finished \(left open: .*Timeout.*\); exiting\n$/);
  });

  it('writes all its output first', async () => {
    const r = await runWithCli('process.stdout.write("x".repeat(4 << 20)); setInterval(() => {}, 1000); cli.exitWhenDone(0);');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(4 << 20);
  });

  it('with nothing left open, exits as it always did, without a word', async () => {
    const r = await runWithCli('process.stdout.write("done\\n"); cli.exitWhenDone(5);');
    expect(r).toEqual({ code: 5, stdout: 'done\n', stderr: '' });
  });
});

describe.skipIf(!existsSync('/dev/full'))('output that cannot be written', () => {
  // Every command threw Node's unhandled 'error' (a stack trace, exit 1) with its output on a full disk.
  it('is one line and exit 73, whatever the command', async () => {
    const CLI = join(__dirname, '..', 'bin', 'loopscope.js');
    for (const args of [['--help'], ['ps'], ['ps', '--json'], ['run', '--json', '--', process.execPath, '-e', '0']]) {
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', full, 'pipe'] });
      closeSync(full);
      let stderr = '';
      child.stderr?.on('data', (d) => (stderr += d));
      const code = await new Promise((resolve) => child.on('exit', resolve));
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(73);
      expect(stderr.trim().split('\n').at(-1)).toBe('loopscope: cannot write its output: no space left on the device');
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });
});
