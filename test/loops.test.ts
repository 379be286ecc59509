// Every loop of the app: worker threads and the Node processes a command starts, each a loop
// of the session with its own lag and blocks, named in the JSON summary's loops[]. Real
// targets, the real CLI, real sockets.

import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FIXTURES } from './helpers/probe-harness';
import { loopscope } from './helpers/cli';
import { killAll, loopscope as attachCli, sleep, startTarget } from './helpers/attach-harness';
import { userFrames } from '../main/common/format';
import type { LoopSummary, Summary } from '../main/reports/summary';

afterEach(killAll);

const WORKER_FILE = join(FIXTURES, 'worker-blocker.js');

/** The first frame of the target's own code in each of the loop's blocks that has a stack. */
function culprits(loop: LoopSummary): { functionName: string; url: string; lineNumber: number }[] {
  return loop.blocked.flatMap((b) => userFrames(b.stack).slice(0, 1));
}

/** The loop whose blocks name `functionName` (starting Node on a loaded machine may block other loops too). */
function blamed(summary: Summary, functionName: string): LoopSummary | undefined {
  return summary.loops.find((l) => culprits(l).some((f) => f.functionName === functionName));
}

function workersOf(summary: Summary): LoopSummary[] {
  return summary.loops.filter((l) => l.threadId !== 0);
}

describe('worker threads', () => {
  it('run: each worker is a loop named by thread and name, with its blocking function and line, kept as ended with its exit code', async () => {
    // The first block 1.2 s after each worker's start: its sampler is running by then, also on a loaded machine.
    const r = await loopscope(['run', '--json', '--', process.execPath, WORKER_FILE], { WORKERS: '2', COUNT: '3', WORKER_EXIT: '4', WORKER_DELAY_MS: '1200' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    // The top level is still the main thread's loop.
    expect(summary.loops[0]).toMatchObject({ pid: summary.pid, threadId: 0, name: 'main', exitCode: 0 });
    const workers = workersOf(summary).sort((a, b) => a.name.localeCompare(b.name));
    expect(workers.map((w) => w.name.replace(/^worker \d+ /, ''))).toEqual(['cruncher-0', 'cruncher-1']);
    for (const [i, w] of workers.entries()) {
      expect(w.name).toBe(`worker ${w.threadId} cruncher-${i}`);
      expect(w).toMatchObject({ pid: summary.pid, blockedCount: 3, exitCode: 4 + i });
      expect(w.lag.maxMs).toBeGreaterThan(90);
      expect(culprits(w)[0]).toMatchObject({ functionName: 'crunchInWorker', url: WORKER_FILE, lineNumber: 13 });
    }
    // The main thread idles: the workers' blocks are not its own.
    expect(summary.blockedCount).toBeLessThan(3);
    // Each worker's blocks are blamed from its own thread's CPU samples (its sampler runs through the NodeWorker channel).
    for (const w of workers) {
      const sampled = w.blocked.filter((b) => b.stackSource === 'samples' && userFrames(b.stack)[0]?.functionName === 'crunchInWorker');
      expect(sampled.length, JSON.stringify(w.blocked.map((b) => [b.stackSource, b.stack.slice(0, 2)]))).toBeGreaterThanOrEqual(2);
    }
  });

  it('run: a worker stopped with terminate() is kept as terminated, with no exit code of its own', async () => {
    const r = await loopscope(['run', '--json', '--', process.execPath, WORKER_FILE], { WORKERS: '1', COUNT: '1000', TERMINATE_MS: '1500' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    const [worker] = workersOf(summary);
    expect(worker).toMatchObject({ name: `worker ${worker!.threadId} cruncher-0`, exitCode: null, terminated: true });
    expect(summary.loops[0]).toMatchObject({ threadId: 0, exitCode: 0, terminated: false });
  });

  it('attach: a process with two workers lists three loops, each worker with its blocking function', async () => {
    const target = await startTarget('worker-blocker.js', { env: { WORKERS: '2', STAY: '1', COUNT: '1000', PERIOD_MS: '300' } });
    await sleep(300);
    const r = await attachCli(['attach', String(target.pid), '--duration', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.loops.map((l) => l.threadId === 0 ? 'main' : l.name.replace(/^worker \d+ /, '')).sort()).toEqual(['cruncher-0', 'cruncher-1', 'main']);
    for (const w of workersOf(summary)) {
      expect(w.pid).toBe(target.pid);
      expect(w.blockedCount).toBeGreaterThan(0);
      expect(culprits(w)).toContainEqual(expect.objectContaining({ functionName: 'crunchInWorker', lineNumber: 13 }));
      expect(w).toMatchObject({ exitCode: null, terminated: false }); // detached: it runs on
    }
    // Every loop's GC pauses from the main loop's trace, to the end: the detach of the main
    // loop's probe, with the others', is no failure of its tracing (gc-relay.ts).
    expect(summary.loops.map((l) => l.gc.source)).toEqual(['trace', 'trace', 'trace']);
    expect(summary.warnings).toEqual([]);
    expect(target.alive()).toBe(true);
  });

  it('attach: a worker started after loopscope came is followed too', async () => {
    const target = await startTarget('worker-blocker.js', { env: { WORKERS: '1', STAY: '1', COUNT: '1000', LATE_MS: '1500', PERIOD_MS: '300' } });
    const r = await attachCli(['attach', String(target.pid), '--duration', '6', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    const [worker] = workersOf(summary);
    expect(worker?.name).toMatch(/^worker \d+ cruncher-0$/);
    expect(culprits(worker!)).toContainEqual(expect.objectContaining({ functionName: 'crunchInWorker', lineNumber: 13 }));
  });
});

describe('workers started by workers', () => {
  const NESTED_FILE = join(FIXTURES, 'nested-workers.js');
  const NESTED_LINE = 13;
  const names = (summary: Summary): string[] => summary.loops.map((l) => l.name.replace(/^worker \d+ /, ''));

  /**
   * Inner's loop: its blocks blamed on crunchNested's line (all but one at most: under load a
   * stack may come late and show what ran next), and none of the other loops' (a loaded
   * machine may block them too).
   */
  function inner(summary: Summary): LoopSummary {
    expect(names(summary)).toEqual(['main', 'outer', 'inner']);
    const loop = summary.loops[2]!;
    expect(loop.pid).toBe(summary.pid);
    const blamedHere = culprits(loop).filter((f) => f.functionName === 'crunchNested' && f.lineNumber === NESTED_LINE);
    expect(blamedHere.length, JSON.stringify(culprits(loop))).toBeGreaterThanOrEqual(loop.blockedCount - 1);
    expect(blamedHere.length).toBeGreaterThanOrEqual(2);
    for (const other of summary.loops.slice(0, 2)) expect(culprits(other).map((f) => f.functionName)).not.toContain('crunchNested');
    expect(summary.warnings).toEqual([]);
    expect(summary.unfollowedWorkers).toEqual([]);
    return loop;
  }

  // Its first block 900 ms after its start: only a loop that followed it from its start sees
  // all three (the main loop's probe would take it a second after it was listed).
  it('run: a worker started by a worker as it starts, before the probe came into it, is followed from its start', async () => {
    const r = await loopscope(['run', '--json', '--', process.execPath, NESTED_FILE], { FIRST_MS: '900', COUNT: '3' });
    expect(r.code).toBe(0);
    expect(inner(JSON.parse(r.stdout) as Summary).blockedCount).toBe(3);
  });

  it('run: a worker started by a worker later is followed from its start, by that worker\'s loop', async () => {
    const r = await loopscope(['run', '--json', '--', process.execPath, NESTED_FILE], { LATE_MS: '600', FIRST_MS: '900', COUNT: '3' });
    expect(r.code).toBe(0);
    expect(inner(JSON.parse(r.stdout) as Summary).blockedCount).toBe(3);
  });

  it('run: a worker\'s worker the probe cannot start in is told of once, by the loop that tried', async () => {
    const r = await loopscope(['run', '--json', '--', process.execPath, NESTED_FILE], { LOCKED: '1', COUNT: '8' });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(names(summary)).toEqual(['main', 'outer']);
    expect(summary.unfollowedWorkers).toEqual([expect.objectContaining({ name: 'inner', cause: 'refused', reason: expect.stringMatching(/not extensible/) })]);
    expect(summary.warnings).toHaveLength(1);
  });

  it('attach: a worker started by a worker that started after loopscope came is followed too', async () => {
    // No preload: outer starts inner before its probe comes, and the main loop's probe takes it.
    const target = await startTarget('nested-workers.js', { env: { OUTER_LATE_MS: '1000', COUNT: '1000', FIRST_MS: '300', PERIOD_MS: '300' } });
    const r = await attachCli(['attach', String(target.pid), '--duration', '5', '--json']);
    expect(r.code).toBe(0);
    expect(inner(JSON.parse(r.stdout) as Summary).blockedCount).toBeGreaterThan(3);
    expect(target.alive()).toBe(true);
  });
});

describe('child processes', () => {
  it('run: a launcher\'s child is a loop of its own with its blocking function; a child that exits early is kept with its code', async () => {
    const r = await loopscope(['run', '--json', '--', process.execPath, join(FIXTURES, 'launcher.js')], { COUNT: '3', CHILD_EXIT_EARLY: '1' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.loops).toHaveLength(3);
    const [launcher, ...children] = summary.loops;
    expect(launcher).toMatchObject({ pid: summary.pid, threadId: 0 });
    for (const c of children) expect(c.ppid).toBe(launcher!.pid);
    const app = blamed(summary, 'blockFor')!;
    expect(children).toContain(app);
    expect(app).toMatchObject({ exitCode: 0, name: 'main' });
    expect(app.blockedCount).toBeGreaterThanOrEqual(3);
    expect(culprits(app)[0]).toMatchObject({ functionName: 'blockFor', url: join(FIXTURES, 'blocker.js'), lineNumber: 14 });
    expect(children.find((c) => c !== app)).toMatchObject({ exitCode: 7 });
  });

  it('run --no-follow: only the command\'s own process, as before', async () => {
    const r = await loopscope(['run', '--no-follow', '--json', '--', process.execPath, join(FIXTURES, 'launcher.js')], { COUNT: '2' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.loops).toHaveLength(1);
    expect(summary.blocked.flatMap((b) => userFrames(b.stack)).map((f) => f.functionName)).not.toContain('blockFor');
  });

  it('run: cluster with two workers shows both worker processes, each with its blocking function', async () => {
    const r = await loopscope(['run', '--json', '--', process.execPath, join(FIXTURES, 'cluster-app.js')], { COUNT: '3' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    const [primary, ...workers] = summary.loops;
    expect(workers).toHaveLength(2);
    for (const w of workers) {
      expect(w.ppid).toBe(primary!.pid);
      expect(culprits(w)[0]).toMatchObject({ functionName: 'clusterWork', lineNumber: 9 });
    }
  });

  it('run: an app started through npm run is seen through npm and its shell', async () => {
    const r = await loopscope(['run', '--json', '--', 'npm', '--prefix', join(FIXTURES, 'npm-app'), 'run', 'start', '--silent'], { COUNT: '3' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    const app = blamed(summary, 'blockFor');
    expect(app).toBeDefined();
    expect(app!.pid).not.toBe(summary.pid); // npm's own Node is the first process
    expect(culprits(app!)[0]).toMatchObject({ functionName: 'blockFor', lineNumber: 14 });
  });
});
