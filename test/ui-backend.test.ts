// The UI backend with a real launched process: sessions appear once the probe connects, their
// points arrive in batches no faster than ~30 a second, and configure and stop reach the probe.

import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUpdate, UiEvent } from '../main/ui/ui-api';
import { BATCH_MS, UiBackend } from '../main/ui/ui-backend';

const FIXTURE = resolve(__dirname, 'fixtures/ui-target.js');

describe('UiBackend', () => {
  let backend: UiBackend;
  beforeAll(async () => {
    backend = await UiBackend.start();
  });
  afterAll(async () => {
    await backend.shutdown();
  });

  it('launches a program, batches its samples, configures and stops it', async () => {
    const batches: { at: number; events: readonly UiEvent[] }[] = [];
    backend.subscribe((events) => batches.push({ at: Date.now(), events }));
    // 10 ms samples: a hundred a second, more than the UI should be told about.
    const id = await backend.launch([process.execPath, FIXTURE], { intervalMs: 10 });
    const updates = (): SessionUpdate[] => batches.flatMap((b) => b.events.filter((e): e is SessionUpdate => e.kind === 'session' && e.view.id === id));
    await expect.poll(() => updates().flatMap((e) => e.points).length, { timeout: 10_000 }).toBeGreaterThan(50);
    const mine = updates();
    const points = mine.flatMap((e) => e.points);
    // Every sample exactly once, in order.
    for (let i = 1; i < points.length; i++) expect(points[i]!.t).toBeGreaterThan(points[i - 1]!.t);
    const span = batches[batches.length - 1]!.at - batches[0]!.at;
    expect(batches.length).toBeLessThanOrEqual(span / BATCH_MS + 2);
    expect(mine[mine.length - 1]!.view).toMatchObject({ status: 'live', how: 'launch', config: { mode: 'metrics', intervalMs: 10 } });

    // A late subscriber gets everything kept so far, once.
    const late: UiEvent[] = [];
    backend.subscribe((events) => late.push(...events));
    expect(late[0]).toMatchObject({ reset: true });
    expect((late[0] as SessionUpdate).points.length).toBeGreaterThanOrEqual(points.length);

    await backend.configure(id, { mode: 'tasks' });
    const last = (): SessionUpdate => updates().pop()!;
    await expect.poll(() => last().view.config.mode).toBe('tasks');
    await expect.poll(() => last().view.tasks, { timeout: 10_000 }).not.toBeNull();

    await backend.stop(id);
    await expect.poll(() => last().view.status).toBe('ended');
  });

  it('says why a launch fails', async () => {
    await expect(backend.launch(['no-such-command-xyz'])).rejects.toThrow(/command not found/);
    // Not Node: no probe ever comes. (A Node program that exits at once still has its probe say
    // hello and goodbye, with its exit code.)
    await expect(backend.launch(['/bin/sh', '-c', 'exit 3'])).rejects.toThrow(/exited \(code 3\) before its probe connected/);
  });
});
