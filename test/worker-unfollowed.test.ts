// A worker thread the probe cannot be brought into is not silently missing from the loops: the
// session names it, says why, live and from a recording, launched and attached. The worker here
// locks its global object at its start (Object.preventExtensions, as SES lockdown's harden
// does), which the probe's start needs to add to. Real targets, the real CLI, real sockets.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './helpers/probe-harness';
import { loopscope } from './helpers/cli';
import { killAll, loopscope as attachCli, sleep, startTarget } from './helpers/attach-harness';
import type { Summary } from '../main/reports/summary';
import type { SessionUpdate, UiEvent } from '../main/ui/ui-api';
import { UiBackend } from '../main/ui/ui-backend';

afterEach(killAll);
const dir = mkdtempSync(join(tmpdir(), 'loopscope-unfollowed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WORKER_FILE = join(FIXTURES, 'worker-blocker.js');
const NOT_EXTENSIBLE = 'Cannot add property Symbol(loopscope.probe), object is not extensible';

/** The locked worker (cruncher-1, the second one started) is named, with why, and only it. */
function expectLockedWorkerNamed(summary: Summary): void {
  expect(summary.unfollowedWorkers).toEqual([{ pid: summary.pid, atMs: expect.any(Number), threadId: expect.any(Number), name: 'cruncher-1', cause: 'refused', reason: NOT_EXTENSIBLE }]);
  const { threadId } = summary.unfollowedWorkers[0]!;
  const warning = summary.warnings.find((w) => w.startsWith(`worker thread ${threadId} (cruncher-1) of process ${summary.pid} could not be followed: `));
  expect(warning, summary.warnings.join('\n')).toContain(`the probe could not start in it (${NOT_EXTENSIBLE}). Its loop is missing from this session`);
  // The other worker is a loop as ever; the locked one is not.
  const names = summary.loops.map((l) => l.name);
  expect(names).toHaveLength(2);
  expect(names).toEqual(expect.arrayContaining(['main', expect.stringMatching(/^worker \d+ cruncher-0$/)]));
}

describe('a worker thread the probe cannot go into', () => {
  it('run: the summary names it and why (JSON and text), the other worker is followed, and nothing reaches the program\'s output', async () => {
    const file = join(dir, 'locked.lsrec');
    const r = await loopscope(['run', '--json', '--record', file, '--', process.execPath, WORKER_FILE], { WORKERS: '2', LOCKED: '1', COUNT: '3' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expectLockedWorkerNamed(summary);
    // With --json the program's output is on stderr: only its own line.
    expect(r.stderr).toBe(`ready ${summary.pid}\n`);

    // The recording holds the notice: its summary (from the last keyframe on) says the same.
    const replayed = await loopscope(['summary', '--json', file]);
    expect(replayed.code).toBe(0);
    const fromFile = JSON.parse(replayed.stdout) as Summary;
    expect(fromFile.unfollowedWorkers).toEqual(summary.unfollowedWorkers);
    expect(fromFile.warnings).toEqual(summary.warnings);
    const text = await loopscope(['summary', file]);
    expect(text.stdout).toContain(`  warning: ${summary.warnings[0]}\n`);
  });

  it('attach: a locked worker that was running before loopscope came is named too', async () => {
    const target = await startTarget('worker-blocker.js', { env: { WORKERS: '2', LOCKED: '1', STAY: '1', COUNT: '1000', PERIOD_MS: '300' } });
    await sleep(300);
    const r = await attachCli(['attach', String(target.pid), '--duration', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expectLockedWorkerNamed(JSON.parse(r.stdout) as Summary);
    expect(target.alive()).toBe(true);
    // Nothing on the program's output but what Node says of its inspector, which attach opens.
    expect(target.stderr().split('\n').filter((l) => l !== '' && !/^(Debugger (listening|attached|ending)|For help, see)/.test(l))).toEqual([]);
  });

  it('the window: the process\'s session warns of it, where its other warnings show', async () => {
    const backend = await UiBackend.start();
    try {
      const updates: SessionUpdate[] = [];
      backend.subscribe((events: readonly UiEvent[]) => updates.push(...events.filter((e): e is SessionUpdate => e.kind === 'session')));
      const id = await backend.launch([process.execPath, WORKER_FILE], {}, { env: { WORKERS: '2', LOCKED: '1', COUNT: '1000', STAY: '1' } });
      const warnings = (): readonly string[] => updates.filter((u) => u.view.id === id).pop()?.view.warnings ?? [];
      await expect.poll(warnings, { timeout: 10_000 }).toContainEqual(expect.stringMatching(/^worker thread \d+ \(cruncher-1\) of process \d+ could not be followed: the probe could not start in it \(Cannot add property/));
      await backend.stop(id);
    } finally {
      await backend.shutdown();
    }
  });

  it('a start with no answer of its own is told once its worker has run on for a second', async () => {
    // cruncher-1's global `require` hides the inspector's: the start gives 'nope', not the probe's
    // answer. It lives ~3 s, well past the second of the check, also when the start comes late.
    // The fixture sets that `require` in its first lines, and the probe's start can come before
    // them (1 run in 16 here): then the worker is followed. Such a run is made again, twice at most.
    let r = await loopscope(['run', '--json', '--', process.execPath, WORKER_FILE], { WORKERS: '2', FAKE_REQUIRE: '1', COUNT: '5' });
    const followedFirst = (): boolean => r.code === 0 && (JSON.parse(r.stdout) as Summary).loops.some((l) => l.name.endsWith(' cruncher-1'));
    for (let again = 0; again < 2 && followedFirst(); again++) {
      r = await loopscope(['run', '--json', '--', process.execPath, WORKER_FILE], { WORKERS: '2', FAKE_REQUIRE: '1', COUNT: '5' });
    }
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.unfollowedWorkers).toEqual([{ pid: summary.pid, atMs: expect.any(Number), threadId: expect.any(Number), name: 'cruncher-1', cause: 'threw', reason: 'the probe\'s start gave no answer' }]);
    // Told only after ENDED_WAIT_MS (probe/worker-follow.ts), so not before the worker was a second old.
    expect(summary.unfollowedWorkers[0]!.atMs).toBeGreaterThan(1000);
    expect(summary.warnings).toContainEqual(expect.stringMatching(/^worker thread \d+ \(cruncher-1\) of process \d+ could not be followed: loading the probe there threw \(the probe's start gave no answer\)/));
    expect(summary.loops.map((l) => l.name)).toEqual(['main', expect.stringMatching(/^worker \d+ cruncher-0$/)]);
    expect(r.stderr).toBe(`ready ${summary.pid}\n`);
  });

  it('a worker that ends while the probe is being brought in is not reported', async () => {
    // cruncher-0 is busy when the probe's evaluation comes, and exits before it settles; the
    // process runs on well past the probe's second of waiting (cruncher-1 blocks 6 times).
    const r = await loopscope(['run', '--json', '--', process.execPath, WORKER_FILE], { WORKERS: '2', LOCKED: '1', EXIT_BUSY: '0', COUNT: '6' });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.durationMs).toBeGreaterThan(2500);
    expect(summary.unfollowedWorkers.map((w) => w.name)).toEqual(['cruncher-1']);
    expect(summary.loops.map((l) => l.name)).toEqual(['main']);
    expect(r.stderr).toBe(`ready ${summary.pid}\n`);
  });
});
