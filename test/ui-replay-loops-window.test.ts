// A replayed recording's loops in the window, in Chromium through `loopscope serve`: a program
// whose worker starts 1.5 s late and blocks three times in crunchInWorker, recorded by
// `loopscope run --record` and opened for replay. At the end of the recording the Loops tab
// lists the worker; its row opens it in the session screen, with the replay bar (its own
// three blocks marked, on its own clock), its blocks named; the replay bar moves the one
// replay clock, which the main thread's screen then shows at the same place in the file.
// The screenshot goes to test-artifacts/replay-worker-loop.png.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { loopscope } from './helpers/cli';
import { sessionViewOf } from './helpers/serve-process';
import { ARTIFACTS, failureShot, openPane, openWindow, showRecording, type WindowRun } from './helpers/window';

const FIXTURE = resolve(__dirname, 'fixtures/worker-blocker.js');

describe.skipIf(!existsSync(CHROMIUM))('a replayed recording\'s loops in the window', () => {
  let dir: string;
  let run: WindowRun;
  let page: Page;
  let root: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-replay-loops-window-'));
    const file = join(dir, 'late-worker.lsrec');
    const recorded = await loopscope(['run', '--json', '--record', file, '--', process.execPath, FIXTURE],
      { WORKERS: '1', LATE_MS: '1500', COUNT: '3', BLOCK_MS: '150', PERIOD_MS: '500', WORKER_EXIT: '4' });
    expect(recorded.code, recorded.stderr).toBe(0);
    run = await openWindow();
    page = run.page;
    root = await showRecording(run, file);
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-replay-loops-window', context.task.name) });
  });

  afterAll(async () => {
    await run?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const position = async (): Promise<number> => Number(await page.getByTestId('replay-position').getAttribute('data-position-s'));
  const workerRow = () => page.getByTestId('loop-row').filter({ has: page.locator('.loop-name', { hasText: /cruncher-0/ }) });

  it('opens the worker from the Loops tab at the end of the recording: its blocks, and its own marks on the replay bar', async () => {
    await page.getByRole('slider', { name: 'replay position' }).press('End');
    const tab = page.getByRole('tab', { name: /^Loops/ });
    await expect.poll(async () => (await tab.count()) > 0 ? Number(await tab.locator('.count').textContent()) : 0, { timeout: 15_000 }).toBe(2);
    await openPane(page, 'Loops');
    await expect.poll(() => workerRow().getAttribute('data-blocks').then(Number)).toBe(3);
    const name = String(await workerRow().getAttribute('data-name'));
    await workerRow().locator('.loop-name button').click();

    await expect.poll(() => page.getByTestId('loop-name').textContent(), { timeout: 10_000 }).toBe(name);
    expect(await page.getByTestId('status').textContent()).toBe('replay');
    await expect.poll(() => page.getByTestId('replay-bar').textContent()).toContain('3 blocked loops marked');
    await expect.poll(() => page.getByTestId('scrubber-marks').locator('.mark.blocked').count()).toBeGreaterThanOrEqual(1);
    await openPane(page, 'Blocks');
    await expect.poll(async () => (await page.getByTestId('block-groups').locator('code').allTextContents()).some((p) => p.startsWith('crunchInWorker')), { timeout: 10_000 }).toBe(true);
    expect(await page.getByTestId('block-groups').textContent()).toContain('worker-blocker.js:13');
    await page.screenshot({ path: `${ARTIFACTS}/replay-worker-loop.png` });
  });

  it('moves the one replay clock from the worker\'s bar: the main thread is at the same place in the file', async () => {
    const end = await position();
    await page.getByRole('button', { name: '◀ block' }).click();
    await expect.poll(position).toBeLessThan(end - 0.2);
    const atWorker = await position();
    // The two clocks differ by the time between the two loops' first samples.
    const worker = await sessionViewOf(run.served.url, (await sessionViewOf(run.served.url, root)).loops[0]!.loops[1]!.sessionId!);
    const main = await sessionViewOf(run.served.url, root);
    const shift = main.replay!.startS - worker.replay!.startS;
    expect(shift).toBeGreaterThan(1.4);
    expect(worker.replay!.positionS).toBeCloseTo(atWorker, 3);

    await openPane(page, 'Loops');
    await page.getByTestId('loop-row').filter({ has: page.locator('.loop-name', { hasText: /^main/ }) }).locator('.loop-name button').click();
    await expect.poll(() => page.getByTestId('loop-name').textContent()).toBe('main');
    await expect.poll(position).toBeCloseTo(atWorker + shift, 3);
    expect(await page.getByTestId('replay-bar').textContent()).toContain('0 blocked loops marked');
  });
});
