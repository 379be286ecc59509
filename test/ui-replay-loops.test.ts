// Every loop of a replayed recording opens as a session of its own, through the backend the
// window and the web host share: a launcher that starts the app as a child process 1.5 s late
// (the child's clock starts then), whose worker blocks three times in crunchInWorker, recorded
// by `loopscope run --record`, then opened for replay. The worker's session has its blocks with
// their stacks, its own marks on its own chart clock (seconds since its first sample, as live),
// follows the one replay clock of the file, seeks on its own clock, and has its own CPU
// profile; closing it closes the recording.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopView, SessionUpdate, SessionView, UiEvent } from '../main/ui/ui-api';
import { RecentRecordings } from '../main/ui/recent-recordings';
import { LOOPS_REFRESH_MS, UiBackend } from '../main/ui/ui-backend';
import { userFrames } from '../main/common/format';
import { loopscope } from './helpers/cli';

const LAUNCHER = resolve(__dirname, 'fixtures/launcher.js');

describe('replaying every loop of a recording', () => {
  let dir: string;
  let file: string;
  let backend: UiBackend;
  let root: string;
  const events: UiEvent[] = [];
  const updates = (id: string): SessionUpdate[] => events.filter((e): e is SessionUpdate => e.kind === 'session' && e.view.id === id);
  const latest = (id: string): SessionView | undefined => updates(id).pop()?.view;
  const loopsOf = (id: string): LoopView[] => latest(id)?.loops.flatMap((p) => p.loops) ?? [];
  /** The t of the latest point a subscriber has of a session: the last update's, after the last reset. */
  const lastPointT = (id: string): number | undefined => updates(id).flatMap((u) => u.points).pop()?.t;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-ui-replay-loops-'));
    file = join(dir, 'late-child.lsrec');
    const run = await loopscope(['run', '--json', '--record', file, '--', process.execPath, LAUNCHER],
      { APP: 'worker-blocker.js', LAUNCH_DELAY_MS: '1500', WORKERS: '1', COUNT: '3', BLOCK_MS: '150', PERIOD_MS: '500', WORKER_EXIT: '4' });
    expect(run.code, run.stderr).toBe(0);
    backend = await UiBackend.start({ recordingsDir: join(dir, 'recordings'), recent: new RecentRecordings(join(dir, 'recent.json')) });
    backend.subscribe((batch) => events.push(...batch));
  });

  afterAll(async () => {
    await backend?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the worker once the replay has come to it, as a session of the recording\'s group with its blocks, marks and clock', async () => {
    root = await backend.openRecording(file);
    await expect.poll(() => latest(root)?.replay?.scanned, { timeout: 10_000 }).toBe(1);
    // At the start the child and its worker have not come yet.
    expect(loopsOf(root).map((l) => l.name)).toEqual(['main']);

    await backend.replay(root, { kind: 'seek', t: 1e6 });
    await expect.poll(() => loopsOf(root).length).toBe(3);
    const [main, childMain, worker] = loopsOf(root);
    expect(main).toMatchObject({ sessionId: root, threadId: 0, status: 'replay' });
    expect(childMain).toMatchObject({ threadId: 0, status: 'replay', pid: worker!.pid });
    expect(latest(childMain!.sessionId!)).toMatchObject({ group: root, loopName: 'main', pid: worker!.pid });
    expect(worker).toMatchObject({ name: `worker ${worker!.threadId} cruncher-0`, status: 'replay', blockedCount: 3, exitCode: 4 });
    const id = worker!.sessionId!;
    expect(id).not.toBe(root);
    await expect.poll(() => latest(id)?.blocked.length).toBe(3);

    const view = latest(id)!;
    expect(view).toMatchObject({ group: root, threadId: worker!.threadId, loopName: worker!.name, status: 'replay', how: 'replay', loops: [] });
    // Under load a stack may come late and show what ran next (loops.test.ts): two of three at least.
    const culprits = view.blocked.map((b) => userFrames(b.stack)[0]).map((f) => `${f?.functionName}:${f?.lineNumber}`);
    expect(culprits.filter((c) => c === 'crunchInWorker:13').length, culprits.join()).toBeGreaterThanOrEqual(2);
    // Its scrubber marks its own blocks, where its own view puts them; the main thread's has none.
    const marks = view.replay!.marks.filter((m) => m.kind === 'blocked');
    expect(marks.map((m) => m.t)).toEqual(view.blocked.map((b) => b.t).sort((a, b) => a - b));
    expect(latest(root)!.replay!.marks.filter((m) => m.kind === 'blocked')).toEqual([]);
    // Its clock starts at its first sample, 1.5 s and more after the launcher's: the same
    // file, so the same length, and the same place in it.
    const rootReplay = latest(root)!.replay!;
    const shift = rootReplay.startS - view.replay!.startS;
    expect(shift).toBeGreaterThan(1.4);
    expect(view.replay!.endS + shift).toBeCloseTo(rootReplay.endS, 3);
    expect(view.replay!.positionS + shift).toBeCloseTo(rootReplay.positionS, 3);
    // Its points end where the replay stands on its clock.
    const lastT = lastPointT(id)!;
    expect(lastT).toBeLessThanOrEqual(view.replay!.positionS + 0.01);
    expect(view.replay!.positionS - lastT).toBeLessThan(1);
  });

  it('seeks on the worker\'s own clock, follows play, and has the worker\'s profile', async () => {
    const id = loopsOf(root)[2]!.sessionId!;
    const block = latest(id)!.blocked.slice().sort((a, b) => a.t - b.t)[1]!;
    const shift = latest(root)!.replay!.startS - latest(id)!.replay!.startS;
    // Just before its second block: the first is the only one ended and reported by then, or none.
    await backend.replay(id, { kind: 'seek', t: block.t - 0.05 });
    await expect.poll(() => latest(id)?.replay?.positionS).toBeCloseTo(block.t - 0.05, 3);
    expect(latest(root)!.replay!.positionS).toBeCloseTo(block.t - 0.05 + shift, 3);
    expect(latest(id)!.blocked.every((b) => b.t < block.t)).toBe(true);
    // The points start again (a seek), up to the position on the worker's clock.
    const lastT = lastPointT(id)!;
    expect(lastT).toBeLessThanOrEqual(block.t - 0.05 + 0.01);
    expect(block.t - 0.05 - lastT).toBeLessThan(1);

    // Play from there moves both on.
    const playedFrom = events.length;
    const playStartMs = performance.now();
    await backend.replay(id, { kind: 'play' });
    await expect.poll(() => latest(root)!.replay!.playing).toBe(true);
    await expect.poll(() => latest(id)!.blocked.some((b) => b.id === block.id && !b.ongoing), { timeout: 10_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 2 * LOOPS_REFRESH_MS));
    await backend.replay(id, { kind: 'pause' });
    await expect.poll(() => latest(id)!.replay!.playing).toBe(false);
    // While it played, the group's loops were listed again at the live pace, not at every update.
    const played = events.slice(playedFrom).filter((e): e is SessionUpdate => e.kind === 'session' && e.view.id === root && e.view.replay!.playing);
    const listings = new Set(played.map((u) => u.view.loops)).size;
    expect(played.length).toBeGreaterThan(10);
    expect(listings).toBeLessThanOrEqual(Math.ceil((performance.now() - playStartMs) / LOOPS_REFRESH_MS) + 1);

    // Its CPU profile over its block is its own: the busy wait in crunchInWorker, which the launcher never ran.
    const profile = await backend.profile(id, block.t, block.t + block.durationMs / 1000);
    const names = (p: typeof profile) => new Set(p.flame.map((n) => p.frames[n.frame]!.functionName));
    expect(profile.samples).toBeGreaterThan(3);
    expect(names(profile)).toContain('crunchInWorker');
    expect(names(await backend.profile(root, block.t + shift, block.t + shift + block.durationMs / 1000))).not.toContain('crunchInWorker');

    // Closing the worker's session closes the recording.
    await backend.close(id);
    expect(events).toContainEqual({ kind: 'closed', id });
    expect(events).toContainEqual({ kind: 'closed', id: root });
  });
});
