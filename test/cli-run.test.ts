// `loopscope run` as a user runs it: the real CLI, a real target, real output.

import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './helpers/probe-harness';
import { loopscope } from './helpers/cli';
import { userFrames } from '../main/common/format';



describe('loopscope run', () => {
  it('prints a JSON summary that names the blocking function, and exits with the target\'s code', async () => {
    const r = await loopscope(['run', '--json', '--', process.execPath, join(FIXTURES, 'blocker.js')], {
      // 150 ms: well over the 50 ms threshold even less the profiler's first start, which a
      // loaded machine may put inside a block (the probe's own pause, not the program's).
      BLOCK_MS: '150', PERIOD_MS: '400', COUNT: '3', EXIT_CODE: '5',
    });
    expect(r.code).toBe(5);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ mode: 'metrics', nodeVersion: process.version, exitCode: 5, blockedCount: 3 });
    expect(summary.pid).toBeGreaterThan(0);
    expect(summary.lag.maxMs).toBeGreaterThan(100);
    expect(summary.lag.p50Ms).toBeLessThan(summary.lag.maxMs);
    for (const key of ['userMs', 'systemMs']) expect(typeof summary.cpu[key]).toBe('number');
    expect(summary.memory.heapUsedMaxBytes).toBeGreaterThan(0);
    // The first frame of the target's own code (the interrupt may land inside performance.now()).
    expect(userFrames(summary.blocked[0].stack)[0]).toMatchObject({ functionName: 'blockFor', lineNumber: 14 });
    expect(summary.blocked[0].durationMs).toBeGreaterThanOrEqual(summary.blocked[2].durationMs);
    expect(summary.dropped).toEqual({ frames: {}, bytes: 0 });
  });

  it('sees a Node program that exits at once: its probe says hello before anything else', async () => {
    // The goodbye, written at exit while the probe's connection was still being made, used to
    // go out before the hello, and loopscope refused the probe ("no probe connected").
    const r = await loopscope(['run', '--json', '--', process.execPath, '-e', 'process.exit(3)']);
    expect(r.code).toBe(3);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ exitCode: 3, warnings: [] });
    expect(summary.pid).toBeGreaterThan(0);
  });

  it('reports a main module that blocks before the loop has started, with its stack', async () => {
    const r = await loopscope(['run', '--json', '--', process.execPath, join(FIXTURES, 'startup-block.js')], { BLOCK_MS: '200' });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.blockedCount).toBe(1);
    // Less the probe's own pauses in it: the CPU profiler may start during the block.
    const own = summary.probePauses.filter((p: { what: string }) => p.what !== 'probe start').reduce((a: number, p: { durationMs: number }) => a + p.durationMs, 0);
    expect(summary.blocked[0].durationMs + own).toBeGreaterThan(190);
    expect(summary.blocked[0].durationMs).toBeLessThan(400); // from the probe's start: loading the module counts too
    expect(summary.lag.maxMs).toBeCloseTo(summary.blocked[0].durationMs, 0);
    expect(userFrames(summary.blocked[0].stack)[0]).toMatchObject({ functionName: 'slowStartup', lineNumber: 8 });
  });

  it('stops the command after --duration and keeps the target\'s output off stdout in --json mode', async () => {
    const started = Date.now();
    const r = await loopscope(['run', '--json', '--duration', '1', '--', process.execPath, join(FIXTURES, 'idle.js')], { RUN_MS: '60000' });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stderr).toContain('"alive":true');
    expect(JSON.parse(r.stdout).samples).toBeGreaterThan(5);
  });

  it('connects a program whose arguments are larger than a hello may be: they are shortened to fit', async () => {
    // 1.2 MB of arguments (the kernel takes up to 128 kB each, 2 MB with the environment in all).
    const args = [...Array.from({ length: 8 }, (_, i) => String(i).repeat(120_000)), ...Array.from({ length: 60 }, () => 'x'.repeat(4000))];
    const r = await loopscope(['run', '--json', '--', process.execPath, join(FIXTURES, 'idle.js'), ...args], { RUN_MS: '500' });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.samples).toBeGreaterThan(0);
    expect(summary.command.at(-1)).toMatch(/^… \(\d+ more arguments\)$/);
    expect(summary.command[2]).toHaveLength(4096);
  });

  it('with --no-follow, keeps the target\'s NODE_OPTIONS, and hides its own from the target\'s children', async () => {
    const script = 'console.log(JSON.stringify({ o: process.env.NODE_OPTIONS ?? null, t: process.env.LOOPSCOPE_TOKEN ?? null }))';
    const r = await loopscope(['run', '--no-follow', '--', process.execPath, '-e', script], { NODE_OPTIONS: '--max-old-space-size=300' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('{"o":"--max-old-space-size=300","t":null}');
  });

  it('following (the default), passes the probe on to the target\'s children with the target\'s own NODE_OPTIONS after it, and never on a command line', async () => {
    const script = 'console.log(JSON.stringify({ o: process.env.NODE_OPTIONS ?? null, t: process.env.LOOPSCOPE_TOKEN, heap: require("v8").getHeapStatistics().heap_size_limit, argv: process.argv, execArgv: process.execArgv }))';
    const r = await loopscope(['run', '--', process.execPath, '-e', script], { NODE_OPTIONS: '--max-old-space-size=300' });
    expect(r.code).toBe(0);
    const seen = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"o"'))!);
    expect(seen.o).toMatch(/^--require ".*probe\.js" --max-old-space-size=300$/);
    expect(seen.t).toMatch(/^[\w-]{32}$/);
    expect(seen.heap).toBeLessThan(400 * 1024 * 1024); // its own option still applies
    const commandLine = JSON.stringify([seen.argv, seen.execArgv.slice(0, -1)]); // the last is the script itself
    expect(commandLine).not.toContain(seen.t);
    expect(commandLine).not.toContain('--require');
  });

  it.each([
    [['run'], 2, /no command to run/],
    [['run', '--json'], 2, /no command to run/],
    [['run', '--frobnicate', '--', 'node'], 2, /unknown option --frobnicate/],
    [['run', '--mode', 'everything', '--', 'node'], 2, /--mode must be one of metrics, tasks, trace/],
    [['run', '--interval', 'soon', '--', 'node'], 2, /--interval must be a number/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['run', '--', 'loopscope-no-such-command-here'], 127, /command not found/],
  ])('rejects bad input: %j', async (args, code, message) => {
    const r = await loopscope(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('records with --record, and summary tells the same story from the file', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-cli-'));
    const file = join(dir, 's.rec');
    const live = await loopscope(['run', '--json', '--record', file, '--', process.execPath, join(FIXTURES, 'blocker.js')], { BLOCK_MS: '70', PERIOD_MS: '200', COUNT: '2' });
    expect(live.code).toBe(0);
    const fromFile = await loopscope(['summary', '--json', file]);
    rmSync(dir, { recursive: true, force: true });
    expect(fromFile.code).toBe(0);
    const a = JSON.parse(live.stdout);
    const b = JSON.parse(fromFile.stdout);
    expect(b.lag).toEqual(a.lag);
    expect(b.blocked.map((x: { stack: unknown }) => x.stack)).toEqual(a.blocked.map((x: { stack: unknown }) => x.stack));
    expect(b.exitCode).toBe(0);
  });

  it('refuses a recording path it cannot write, before starting anything', async () => {
    const r = await loopscope(['run', '--record', '/nonexistent-dir/x.rec', '--', process.execPath, '-e', 'console.log("ran")']);
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/cannot record to \/nonexistent-dir\/x.rec/);
    expect(r.stdout).not.toContain('ran');

    // A FIFO (with a reader, or none) or a folder cannot hold a recording: refused before
    // anything is written to it, saying why.
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-record-'));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let read = 0;
    reader.stdout.on('data', (b: Buffer) => { read += b.length; });
    try {
      for (const [path, kind] of [[fifo, 'not a regular file \\(a FIFO\\)'], [dir, 'a folder']] as const) {
        const refused = await loopscope(['run', '--record', path, '--', process.execPath, '-e', 'console.log("ran")']);
        expect(refused.code).toBe(73);
        expect(refused.stderr).toMatch(new RegExp(`^loopscope run: cannot record to ${path}: it is ${kind}; a recording is written at positions and read back by seeking: give the path of a file\n$`));
        expect(refused.stdout).not.toContain('ran');
      }
      expect(read).toBe(0);
    } finally {
      reader.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains itself', async () => {
    const top = await loopscope(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Commands:[\s\S]*run/);
    const run = await loopscope(['run', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--mode', '--interval', '--block-threshold', '--duration', '--json']) expect(run.stdout).toContain(option);
  });

  it('warns when the command never loads the probe', async () => {
    const r = await loopscope(['run', '--json', '--', '/bin/sh', '-c', 'exit 4']);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).warnings[0]).toMatch(/no probe connected/);
  });
});
