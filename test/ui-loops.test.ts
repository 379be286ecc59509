// The window's API for every loop, with real targets over the probe's real socket: each loop is
// a session of its own, and the group's first session lists them all by process, with their
// figures now and their recent lag, for the overview.

import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LoopView, SessionSummaryUpdate, SessionUpdate, SessionView, UiEvent } from '../main/ui/ui-api';
import { LOOPS_REFRESH_MS, UiBackend } from '../main/ui/ui-backend';
import { userFrames } from '../main/common/format';
import { killAll, startTarget } from './helpers/attach-harness';

const FIXTURES = resolve(__dirname, 'fixtures');

afterEach(killAll);

describe('UiBackend: every loop', () => {
  let backend: UiBackend;
  const events: UiEvent[] = [];
  beforeAll(async () => {
    backend = await UiBackend.start();
    backend.subscribe((batch) => events.push(...batch));
  });
  afterAll(async () => {
    await backend.shutdown();
  });

  const latest = (id: string): SessionView | undefined =>
    events.filter((e): e is SessionUpdate => e.kind === 'session' && e.view.id === id).pop()?.view;
  const loopsOf = (id: string): LoopView[] => latest(id)?.loops.flatMap((p) => p.loops) ?? [];

  it('launch: the program\'s child and its worker are loops of the group, each a session, listed by process with the worker\'s blocks and lag', async () => {
    const root = await backend.launch([process.execPath, resolve(FIXTURES, 'launcher.js')], {}, {
      env: { APP: 'worker-blocker.js', WORKERS: '1', COUNT: '4', BLOCK_MS: '120', PERIOD_MS: '400', WORKER_EXIT: '4' },
    });
    await expect.poll(() => loopsOf(root).find((l) => l.threadId !== 0)?.blockedCount ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const [launcher, child] = latest(root)!.loops;
    expect(launcher).toMatchObject({ pid: latest(root)!.pid, loops: [{ threadId: 0, name: 'main', sessionId: root }] });
    expect(child!.ppid).toBe(launcher!.pid);
    expect(child!.command).toContain(resolve(FIXTURES, 'worker-blocker.js'));
    const [childMain, worker] = child!.loops;
    expect(childMain).toMatchObject({ threadId: 0, name: 'main', pid: child!.pid });
    expect(worker).toMatchObject({ pid: child!.pid, ppid: launcher!.pid, name: `worker ${worker!.threadId} cruncher-0`, status: 'live', exitCode: null });
    expect(worker!.recentLagMs.length).toBeGreaterThan(0);
    expect(Math.max(...worker!.recentLagMs)).toBeGreaterThan(100);
    // Its latest second on the wall clock, where the window's sparklines place it: about now.
    expect(Math.abs(worker!.recentLagEndMs! - Date.now())).toBeLessThan(5_000);

    // The worker's loop opens as a session of its own, in the group, with its blocks' stacks.
    const view = latest(worker!.sessionId!)!;
    expect(view).toMatchObject({ group: root, threadId: worker!.threadId, loopName: worker!.name, pid: child!.pid, loops: [] });
    expect(userFrames(view.blocked[0]!.stack)[0]).toMatchObject({ functionName: 'crunchInWorker', lineNumber: 13 });
    expect(latest(root)!).toMatchObject({ group: root, threadId: 0, loopName: 'main' });

    // Its ending is kept, with its exit code; then its process's, and the program's.
    await expect.poll(() => loopsOf(root).find((l) => l.threadId !== 0)?.exitCode, { timeout: 15_000 }).toBe(4);
    await expect.poll(() => loopsOf(root).map((l) => l.status), { timeout: 15_000 }).toEqual(['ended', 'ended', 'ended']);
    expect(loopsOf(root).map((l) => l.exitCode)).toEqual([0, 0, 4]);
  });

  it('attach: a process with two workers is three loops of one process; closing the group closes every loop', async () => {
    const target = await startTarget('worker-blocker.js', { env: { WORKERS: '2', STAY: '1', COUNT: '1000', PERIOD_MS: '300' } });
    const root = await backend.attach(target.pid);
    await expect.poll(() => loopsOf(root).length, { timeout: 10_000 }).toBe(3);
    const [only, ...others] = latest(root)!.loops;
    expect(others).toEqual([]);
    expect(only!.pid).toBe(target.pid);
    expect(only!.loops.map((l) => l.name.replace(/^worker \d+ /, ''))).toEqual(['main', 'cruncher-0', 'cruncher-1']);
    const ids = only!.loops.map((l) => l.sessionId!);
    for (const id of ids) expect(latest(id)?.group).toBe(root);
    await expect.poll(() => loopsOf(root).filter((l) => l.threadId !== 0).every((l) => l.blockedCount > 0), { timeout: 10_000 }).toBe(true);

    await backend.close(root);
    for (const id of ids) expect(events).toContainEqual({ kind: 'closed', id });
    expect(target.alive()).toBe(true);
  });

  it('a window that shows one loop gets its views and its group\'s first; of the other loops only their summaries; the loops are listed again at most every LOOPS_REFRESH_MS', async () => {
    const root = await backend.launch([process.execPath, resolve(FIXTURES, 'worker-blocker.js')], {}, {
      env: { WORKERS: '2', STAY: '1', COUNT: '1000', BLOCK_MS: '30', PERIOD_MS: '200' },
    });
    await expect.poll(() => loopsOf(root).length, { timeout: 10_000 }).toBe(3);
    const [main, w1, w2] = latest(root)!.loops[0]!.loops.map((l) => l.sessionId!);
    const watch = (shown: string | null): { batches: UiEvent[][]; stop: () => void } => {
      const batches: UiEvent[][] = [];
      const stop = backend.subscribe((batch) => batches.push([...batch]), shown);
      return { batches, stop };
    };
    const updatesOf = (batches: UiEvent[][]): SessionUpdate[] => batches.flat().filter((e): e is SessionUpdate => e.kind === 'session');
    // The earlier tests' sessions are listed too: this group's.
    const summariesOf = (batches: UiEvent[][]): SessionSummaryUpdate[] => batches.flat().filter((e): e is SessionSummaryUpdate => e.kind === 'summary' && e.summary.group === root);

    // The group's first: its views alone, and every loop's summary in the snapshot.
    const first = watch(root);
    const startedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2500));
    first.stop();
    const elapsedMs = Date.now() - startedAt;
    expect(main).toBe(root);
    expect(new Set(updatesOf(first.batches).map((u) => u.view.id))).toEqual(new Set([root]));
    expect(updatesOf(first.batches).length).toBeGreaterThan(5);
    const snapshot = summariesOf(first.batches.slice(0, 1));
    expect(snapshot.map((s) => [s.summary.id, s.shown]).sort()).toEqual([[root, true], [w1, false], [w2, false]].sort());
    expect(snapshot.find((s) => s.summary.id === root)!.summary).toMatchObject({ group: root, how: 'launch', status: 'live', file: null, loops: 3, pid: latest(root)!.pid });
    expect(snapshot.find((s) => s.summary.id === w1)!.summary).toMatchObject({ group: root, loops: 0, pid: latest(root)!.pid });
    // Unchanged summaries are not sent again.
    expect(summariesOf(first.batches.slice(1))).toEqual([]);
    // Every worker changes its figures each batch; the list of loops changes at most once per LOOPS_REFRESH_MS.
    const lists = updatesOf(first.batches).map((u) => JSON.stringify(u.view.loops));
    const changes = lists.filter((l, i) => i > 0 && l !== lists[i - 1]).length;
    expect(changes).toBeGreaterThan(0);
    expect(changes).toBeLessThanOrEqual(Math.ceil(elapsedMs / LOOPS_REFRESH_MS));

    // A worker: its views, from a snapshot with its points, and the group's first (its loops); not the other worker.
    const second = watch(w2!);
    await new Promise((r) => setTimeout(r, 500));
    second.stop();
    expect(new Set(updatesOf(second.batches).map((u) => u.view.id))).toEqual(new Set([root, w2]));
    const opened = updatesOf(second.batches.slice(0, 1)).find((u) => u.view.id === w2)!;
    expect(opened.reset).toBe(true);
    expect(opened.points.length).toBeGreaterThan(5);
    expect(opened.view).toMatchObject({ group: root, loopName: expect.stringMatching(/^worker \d+ cruncher-/) });
    expect(summariesOf(second.batches.slice(0, 1)).map((s) => [s.summary.id, s.shown]).sort()).toEqual([[root, true], [w1, false], [w2, true]].sort());

    // The Start screen: summaries only.
    const start = watch(null);
    await new Promise((r) => setTimeout(r, 300));
    start.stop();
    expect(updatesOf(start.batches)).toEqual([]);
    expect(summariesOf(start.batches).map((s) => s.summary.id).sort()).toEqual([root, w1, w2].sort());
    await backend.close(root);
  });
});
