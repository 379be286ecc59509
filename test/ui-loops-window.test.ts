// The window's loop overview (issue 14, item 4), in Chromium through `loopscope serve`: a
// launched program with a main thread, a worker that blocks, a worker that ends with exit code
// 3, and a child Node process. The Loops tab lists every loop under its process, the blocking
// worker with its blocks and the ended one with its exit code; a row opens its loop, whose
// Blocks pane names the worker's blocking function. The panes keep their place. The main
// loop's key findings name the other loops that blocked or ended badly, and open them; a
// worker's screen names the others too. The sparklines share one time axis, ending now. The
// screenshot goes to docs/window-loops.png (with UPDATE_DOCS=1).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { callHost, sessionViewOf } from './helpers/serve-process';
import { boxOf, docScreenshot, failureShot, openPane, openWindow, type WindowRun } from './helpers/window';

const FIXTURE = resolve(__dirname, 'fixtures/window-loops.js');

describe.skipIf(!existsSync(CHROMIUM))('the window\'s loop overview', () => {
  let run: WindowRun;
  let page: Page;
  let root: string;
  let pid: number;

  beforeAll(async () => {
    run = await openWindow();
    page = run.page;
    // 100 ms, under the worker's 150 ms blocks: on a loaded machine an idle loop starved of the
    // CPU for 50 ms counts as blocked, outranks the ended worker, and pushes it out of the
    // key findings' named few (seen in 2 of 4 runs beside a spinning process).
    root = String(await callHost(run.served.url, 'launch', [[process.execPath, FIXTURE], { blockThresholdMs: 100 }]));
    pid = (await sessionViewOf(run.served.url, root)).pid;
    await page.locator(`li[data-session="${root}"]`).getByRole('button', { name: 'Show' }).click();
    await page.getByTestId('status').waitFor({ timeout: 15_000 });
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-loops-window', context.task.name) });
  });

  afterAll(() => run?.close());

  const rows = (processIndex: number) => page.getByTestId('loop-process').nth(processIndex).getByTestId('loop-row');
  const row = (name: RegExp) => page.getByTestId('loop-row').filter({ has: page.locator('.loop-name', { hasText: name }) });

  it('lists every loop under its process: the blocking worker with its blocks, the ended one with its exit code', async () => {
    const panel = page.getByTestId('tab-panel');
    const before = await boxOf(panel);
    const tab = page.getByRole('tab', { name: /^Loops/ });
    await expect.poll(async () => (await tab.count()) > 0 ? Number(await tab.locator('.count').textContent()) : 0, { timeout: 20_000 }).toBe(4);
    await openPane(page, 'Loops');
    expect(await boxOf(panel)).toEqual(before);

    const processes = page.getByTestId('loop-process');
    await expect.poll(() => processes.count()).toBe(2);
    expect(await processes.nth(0).getAttribute('data-pid')).toBe(String(pid));
    const childPid = Number(await processes.nth(1).getAttribute('data-pid'));
    expect(childPid).not.toBe(pid);
    expect(await processes.nth(1).locator('.command').textContent()).toContain('window-loops.js');
    expect((await rows(0).evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { name: string } }).dataset.name))).map((n) => n.replace(/^worker \d+ /, ''))).toEqual(['main', 'cruncher', 'quick']);
    expect(await rows(1).getAttribute('data-name')).toBe('main');

    // The loop shown is the program's main thread.
    expect(await rows(0).first().getAttribute('aria-current')).toBe('true');
    await expect.poll(() => row(/cruncher/).getAttribute('data-blocks').then(Number), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => row(/quick/).getByTestId('loop-status').textContent(), { timeout: 20_000 }).toBe('ended, exit code 3');
    // The worker's sparkline has its blocks on it; the idle main thread's stays low.
    const top = (name: RegExp) => row(name).locator('polyline').evaluate((p) => Math.min(...String((p as unknown as { getAttribute(n: string): string }).getAttribute('points')).split(' ').map((xy) => Number(xy.split(',')[1]))));
    expect(await top(/cruncher/)).toBeLessThan(6);
    expect(await rows(1).locator('polyline').count()).toBe(1);
    // For the screenshot: a sparkline of some seconds.
    const points = () => row(/cruncher/).locator('polyline').evaluate((p) => String((p as unknown as { getAttribute(n: string): string }).getAttribute('points')).split(' ').length);
    await expect.poll(points, { timeout: 30_000 }).toBeGreaterThanOrEqual(12);
    // One time axis for every loop, ending now: a live loop's line reaches the right edge (of
    // 180 px); the worker that ended some 4 s into the session stops where it ended, 8 s or
    // more short of now, not at the right edge as if it still ran.
    const xs = (name: RegExp) => row(name).locator('polyline').evaluate((p) => String((p as unknown as { getAttribute(n: string): string }).getAttribute('points')).split(' ').filter(Boolean).map((xy) => Number(xy.split(',')[0])));
    expect(Math.max(...await xs(/cruncher/))).toBeGreaterThan(170);
    const quick = await xs(/quick/);
    expect(quick.length).toBeGreaterThan(0);
    expect(Math.max(...quick)).toBeLessThan(160);
    expect(await page.evaluate('document.documentElement.scrollHeight <= window.innerHeight + 1')).toBe(true);
    await page.screenshot({ path: docScreenshot('window-loops.png') });
    // It waits for a sparkline of a dozen seconds, after the program's start: more than the
    // default 30 s on a loaded machine.
  }, 60_000);

  it('opens a worker\'s loop from its row: the header names it, its Blocks pane its blocking function', async () => {
    const name = String(await row(/cruncher/).getAttribute('data-name'));
    await row(/cruncher/).locator('.loop-name button').click();
    await expect.poll(() => page.getByTestId('loop-name').textContent(), { timeout: 10_000 }).toBe(name);
    await page.locator('[data-testid="tab-panel"][data-tab="blocks"]').waitFor();
    const places = () => page.getByTestId('block-groups').locator('code').allTextContents();
    await expect.poll(async () => (await places()).some((p) => p.startsWith('crunchInWorker')), { timeout: 15_000 }).toBe(true);
    // Polled too: a group named by the function's own line (a short block's samples) may come before the one at the loop's line.
    await expect.poll(() => page.getByTestId('block-groups').textContent(), { timeout: 15_000 }).toContain('window-loops.js:12');

    // Its row is the highlighted one now; the child process's loop opens the same way.
    await openPane(page, 'Loops');
    expect(await row(/cruncher/).getAttribute('aria-current')).toBe('true');
    const childPid = await page.getByTestId('loop-process').nth(1).getAttribute('data-pid');
    await rows(1).locator('.loop-name button').click();
    await expect.poll(() => page.locator('.session-header strong').first().textContent()).toBe(`pid ${childPid}`);
    expect(await page.getByTestId('loop-name').textContent()).toBe('main');
  });

  it('names the blocking worker and the ended one in the main loop\'s key findings; a click opens the worker\'s loop', async () => {
    // Back to the program's main thread (the test before left the child process's on screen).
    await openPane(page, 'Loops');
    await rows(0).first().locator('.loop-name button').click();
    await expect.poll(() => page.locator('.session-header strong').first().textContent()).toBe(`pid ${pid}`);
    expect(await page.getByTestId('loop-name').textContent()).toBe('main');

    const key = page.getByTestId('key-findings');
    const cruncher = key.getByRole('button', { name: /^Worker \d+ cruncher blocked \d+×$/ });
    await cruncher.waitFor({ timeout: 15_000 });
    const blocks = Number((await cruncher.textContent())!.match(/blocked (\d+)×/)![1]);
    expect(blocks).toBeGreaterThanOrEqual(2);
    const quick = /^Worker \d+ quick exited with code 3$/;
    // Named, or counted: on a loaded machine the child process can block at its start too, and a
    // loop that blocked ranks before one that only exited badly (loop-findings.ts), with two named.
    const counted = key.getByText(/^and \d+ more loops? that blocked or ended badly$/);
    // Polled: the cruncher can be named before the quick worker's exit has come.
    const quickOrCounted = async (): Promise<number> => (await key.getByRole('button', { name: quick }).count()) + (await counted.count());
    await expect.poll(quickOrCounted, { timeout: 10_000 }).toBe(1);

    await cruncher.click();
    await expect.poll(() => page.getByTestId('loop-name').textContent(), { timeout: 10_000 }).toMatch(/^worker \d+ cruncher$/);
    expect(await page.locator('.session-header strong').first().textContent()).toBe(`pid ${pid}`);
    // Its own findings name its blocking function; the other loops' come from its group's list.
    // At the line, with its column or without one (a place found from samples alone has none).
    await key.getByRole('button', { name: /^Loop blocked \d+× in crunchInWorker.*window-loops\.js:12[:)]/ }).first().waitFor({ timeout: 15_000 });
    await expect.poll(quickOrCounted, { timeout: 10_000 }).toBe(1);
  });
});
