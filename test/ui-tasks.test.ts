// The tasks pane explained (issue 16, item 2), in Chromium through `loopscope serve`: the
// findings the CLI's summary prints (one shared function), each with its figures, what to do
// and where in the program, every count labelled with what it counts over, and a pool that
// keeps up not called saturated.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { callHost } from './helpers/serve-process';
import { docScreenshot, failureShot, openPane, openWindow, showSession, type WindowRun } from './helpers/window';

const FIXTURE = resolve(__dirname, 'fixtures/window-tasks.js');

describe.skipIf(!existsSync(CHROMIUM))('the tasks pane', () => {
  let run: WindowRun;
  let page: Page;
  let busy: string;

  beforeAll(async () => {
    run = await openWindow();
    page = run.page;
    busy = await launch('busy');
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-tasks', context.task.name) });
  });

  afterAll(() => run?.close());

  const launch = async (pool: string): Promise<string> =>
    String(await callHost(run.served.url, 'launch', [[process.execPath, FIXTURE, pool], { mode: 'tasks', blockThresholdMs: 500 }]));
  const finding = (topic: string) => page.getByTestId('task-findings').locator(`li[data-topic="${topic}"]`);

  it('says the pool is saturated, with its wait p99 and what to do; the growing type with where it was made; fan-out; the slowest callback with where it was made', async () => {
    await showSession(page, 'window-tasks.js busy');
    await openPane(page, 'Tasks');
    await expect.poll(() => finding('growing').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    const pool = finding('thread pool');
    await expect.poll(() => pool.getAttribute('data-severity'), { timeout: 15_000 }).toBe('problem');
    expect(await pool.textContent()).toMatch(/Thread pool saturated.*4 threads, up to \d+ requests at once, wait p99 ≈\d[\d.]* ms.*What to do: raise UV_THREADPOOL_SIZE/);
    const growing = finding('growing').first();
    expect(await growing.textContent()).toMatch(/Resources keep growing.*LeakyJob: \d+ → \d+ alive/);
    // The site comes once enough of them have had their stacks sampled (a few a second, probe/creation-sites.ts): seconds after the growth is seen.
    await expect.poll(() => growing.locator('.stack code').allTextContents(), { timeout: 15_000 }).toContainEqual(expect.stringContaining('leakJobs'));
    expect(await finding('fan-out').textContent()).toMatch(/one Timeout callback created 300 resources/);
    await expect.poll(() => finding('timers').textContent()).toMatch(/fired, late p50 .* p99 .* max \d/);
    // Among the slowest (on a loaded machine, others may be slow too): the 80 ms timer, with where it was made.
    const slow = finding('slowest').filter({ has: page.locator('.stack code', { hasText: 'scheduleSlowWork' }) });
    await expect.poll(() => slow.count(), { timeout: 10_000 }).toBe(1);
    // At least its 80 ms; on a loaded machine, as long as the machine made it (1.4 s was seen).
    const [, ms] = (await slow.textContent())!.match(/Slow callback.*Timeout callback, (\d+(?:\.\d+)?) ms/) ?? [];
    expect(Number(ms)).toBeGreaterThanOrEqual(80);
    await page.screenshot({ path: docScreenshot('window-tasks.png') });
  });

  it('labels what every count counts over: the tasks samples so far, the latest interval, now', async () => {
    expect(await page.getByTestId('tasks-window').textContent()).toMatch(/^over \d+\.\d s of /);
    const headers = await page.getByTestId('task-table').locator('th').allTextContents();
    expect(headers).toEqual(expect.arrayContaining([expect.stringMatching(/^created \(over \d+\.\d s\)$/), 'created /s now', 'alive now', expect.stringMatching(/^callbacks \(over \d+\.\d s\)$/), 'callbacks /s now']));
  });

  it('puts the problems among the key findings, a click from the tasks pane', async () => {
    await openPane(page, 'Blocks');
    const key = page.getByTestId('key-findings').getByRole('button', { name: /^Thread pool saturated/ });
    await key.click();
    await page.locator('[data-testid="tab-panel"][data-tab="tasks"]').waitFor();
  });

  it('does not call a pool saturated that keeps up: eight quick fs calls on four threads', async () => {
    // Alone: the busy program's pool work starves the machine's two cores, and the quick
    // calls' callbacks then come late enough to be a real wait.
    await callHost(run.served.url, 'stop', [busy]);
    await launch('light');
    await page.getByRole('button', { name: '← Start' }).click();
    await showSession(page, 'window-tasks.js light');
    await openPane(page, 'Tasks');
    const pool = finding('thread pool');
    await expect.poll(() => pool.textContent(), { timeout: 15_000 }).toMatch(/up to 8 requests at once/);
    expect(await pool.textContent()).toMatch(/^Thread pool keeps up/);
    expect(await pool.getAttribute('data-severity')).toBe('info');
    expect(await pool.textContent()).not.toMatch(/SATURATED/);
  }, 60_000);
});
