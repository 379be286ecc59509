// The UI end to end, as a user would use it: `loopscope serve`, Debian's Chromium, a real
// Node process to attach to. Screenshots go to test-artifacts/.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM, launchChromium, type Browser } from './helpers/browser';
import { callHost, startServe, type Served } from './helpers/serve-process';
import { openPane } from './helpers/window';

const ARTIFACTS = resolve(__dirname, '../test-artifacts');
const FIXTURE = resolve(__dirname, 'fixtures/ui-target.js');
const FLOOD = resolve(__dirname, 'fixtures/event-flood.js');

function startTarget(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BLOCK_MS: '300' } });
  return new Promise((ok, fail) => {
    child.stdout?.once('data', () => ok(child));
    child.once('exit', (code) => fail(new Error(`the target exited (${code})`)));
  });
}

describe.skipIf(!existsSync(CHROMIUM))('the UI in Chromium, through loopscope serve', () => {
  let served: Served;
  let browser: Browser;
  let target: ChildProcess;
  let page: Page;
  let recordingFile = '';
  const blockCount = async (): Promise<number> => Number(await page.getByRole('tab', { name: /^Blocks/ }).locator('.count').textContent());

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [served, browser, target] = await Promise.all([startServe(), launchChromium(), startTarget()]);
    page = await browser.context.newPage();
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: `${ARTIFACTS}/ui-failure-${context.task.name.slice(0, 20).replace(/\W+/g, '-')}.png`, fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    target?.kill('SIGKILL');
  });

  it('lists the fixture process on the start page', async () => {
    await page.goto(served.url);
    await page.locator(`tr[data-pid="${target.pid}"]`).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${ARTIFACTS}/ui-start.png`, fullPage: true });
  });

  it('attaches, and shows a block in the lag chart and the blocked list with its function', async () => {
    await page.locator(`tr[data-pid="${target.pid}"] button`, { hasText: 'Attach' }).click();
    await page.getByTestId('lag-chart').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId('status').textContent()).toBe('live');
    await expect.poll(() => page.getByTestId('probe-cost').textContent(), { timeout: 5000 }).toMatch(/^probe: \d+\.\d% main thread \+ \d+\.\d% worker \+ V8's profiler$/);
    // Let a few quiet samples in before the spike, so the chart shows both.
    await page.waitForTimeout(1500);
    target.kill('SIGUSR2');
    const blocked = page.getByTestId('blocked-list');
    await blocked.getByText('blockTheLoop').first().waitFor({ timeout: 10_000 });
    await expect.poll(async () => Number(await page.getByTestId('lag-peak').getAttribute('data-peak-ms')), { timeout: 5000 }).toBeGreaterThanOrEqual(250);
    // p50 and p99 as lines, the max as an area under them.
    expect(await page.locator('[data-testid="lag-chart"] svg path.recharts-line-curve').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-testid="lag-chart"] svg path.recharts-area-area').count()).toBe(1);
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `${ARTIFACTS}/ui-session.png`, fullPage: true });
  });

  it('switches to tasks mode and shows the task table', async () => {
    await page.getByRole('group', { name: 'mode' }).getByRole('button', { name: 'tasks' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'tasks' }).getAttribute('aria-pressed')).toBe('true');
    await openPane(page, 'Tasks');
    const table = page.getByTestId('task-table');
    await table.waitFor({ timeout: 10_000 });
    expect(await table.locator('tbody tr').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}/ui-tasks.png`, fullPage: true });
  });

  it('records the session, then replays the recording and scrubs it', async () => {
    await page.getByRole('button', { name: '● Record' }).click();
    await page.getByTestId('recording').waitFor();
    await page.waitForTimeout(800);
    target.kill('SIGUSR2');
    await expect.poll(blockCount, { timeout: 10_000 }).toBe(2);
    // Its samples come with the next harvest: stopped before they came (once, on a loaded CI),
    // the recording held the block unplaced, with no stack to show.
    await openPane(page, 'Blocks');
    await expect.poll(() => page.getByTestId('blocked-now').count(), { timeout: 10_000 }).toBe(0);
    await page.waitForTimeout(800);
    await page.getByRole('button', { name: '■ Stop recording' }).click();
    const saved = page.getByTestId('saved-recording');
    await saved.waitFor();
    recordingFile = (await saved.locator('code').getAttribute('title')) ?? '';
    expect(recordingFile).toMatch(/\.lsrec$/);
    await saved.getByRole('button', { name: 'Replay it' }).click();

    const bar = page.getByTestId('replay-bar');
    await bar.waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId('status').textContent()).toBe('replay');
    await bar.locator('.scrubber-marks .mark.blocked').first().waitFor({ timeout: 10_000 });
    await openPane(page, 'Blocks');
    // The recording began after the first block: at its start, no block yet; at its end, this one.
    const scrubber = bar.getByLabel('replay position');
    await scrubber.focus();
    await page.keyboard.press('Home');
    await expect.poll(blockCount, { timeout: 5000 }).toBe(0);
    await page.keyboard.press('End');
    await expect.poll(blockCount, { timeout: 5000 }).toBe(1);
    await page.getByTestId('blocked-list').getByText('blockTheLoop').first().waitFor();
    await expect.poll(async () => Number(await page.getByTestId('lag-peak').getAttribute('data-peak-ms')), { timeout: 5000 }).toBeGreaterThanOrEqual(250);
    await page.screenshot({ path: `${ARTIFACTS}/ui-replay.png`, fullPage: true });

    // Play from the start at 16×: the block comes back on its own.
    await page.keyboard.press('Home');
    await expect.poll(blockCount, { timeout: 5000 }).toBe(0);
    await bar.getByLabel('speed').selectOption('16');
    await bar.getByRole('button', { name: 'Play' }).click();
    await expect.poll(blockCount, { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => Number(await bar.getByTestId('replay-position').getAttribute('data-position-s'))).toBeGreaterThan(1);
    // A whole record-and-replay story: on a loaded 2-core machine its waits add up past the default 30 s.
  }, 60_000);

  it('opens a recording picked in the file dialog, and lists it as recent', async () => {
    await page.getByRole('button', { name: 'Close' }).click();
    const opener = page.getByTestId('open-recording');
    await opener.getByTestId('recent-recordings').getByText(recordingFile.split('/').pop()!).waitFor({ timeout: 5000 });
    await opener.getByLabel('recording file').setInputFiles(recordingFile);
    await page.getByTestId('replay-bar').waitFor({ timeout: 10_000 });
    await page.getByTestId('replay-bar').locator('.scrubber-marks .mark.blocked').first().waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByTestId('open-recording').waitFor();
  });

  it('goes back to the start screen, where the session is listed', async () => {
    await page.getByText(`pid ${target.pid}`).waitFor();
  });

  it('says what went wrong when a launch fails', async () => {
    await page.getByLabel('command to launch').fill('no-such-command-xyz --flag');
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    await page.getByRole('alert').getByText('cannot start "no-such-command-xyz": command not found').waitFor({ timeout: 10_000 });
  });

  it('launches the demo app and shows its loop', async () => {
    await page.getByRole('button', { name: 'Try the demo app' }).click();
    await page.getByTestId('lag-chart').waitFor({ timeout: 15_000 });
    expect(await page.getByText('demo-app.js').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 5000 }).toBe('ended');
  });

  it('keeps drawing while a flood of samples and events arrives, and records its frame times', async () => {
    // Trace mode on a program that makes async events as fast as it can, sampled every 10 ms.
    const id = await callHost(served.url, 'launch', [[process.execPath, FLOOD], { mode: 'trace', intervalMs: 10 }]);
    expect(id).toMatch(/^s\d+$/);
    await page.getByRole('button', { name: '← Start' }).click();
    await page.getByRole('listitem').filter({ hasText: 'event-flood.js' }).getByRole('button', { name: 'Show' }).click();
    await page.getByTestId('lag-chart').waitFor({ timeout: 10_000 });
    const frames = await page.evaluate(() => new Promise<number[]>((done) => {
      // Runs in the page; this file is typechecked without the DOM's types.
      const { requestAnimationFrame } = globalThis as unknown as { requestAnimationFrame(step: (t: number) => void): number };
      const times: number[] = [];
      const step = (t: number): void => {
        times.push(t);
        if (t - times[0]! < 2500) requestAnimationFrame(step);
        else done(times.slice(1).map((x, i) => x - times[i]!));
      };
      requestAnimationFrame(step);
    }));
    const sorted = [...frames].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
    writeFileSync(`${ARTIFACTS}/ui-flood-frames.json`, JSON.stringify({ frames: frames.length, p95Ms: p95, maxMs: sorted[sorted.length - 1] }));
    await page.screenshot({ path: `${ARTIFACTS}/ui-flood.png`, fullPage: true });
    // DESIGN.md's budget is 33 ms at p95. Here the flood, loopscope and a software-rendering
    // Chromium share two cores, so the figure goes to the artifacts and this only guards
    // against a UI that stalls outright.
    expect(frames.length).toBeGreaterThan(10);
    expect(p95).toBeLessThan(1000);
    // The chart was there before the frames were counted; the lag it peaks at comes with later samples.
    await expect.poll(async () => Number(await page.getByTestId('lag-peak').getAttribute('data-peak-ms')), { timeout: 10_000 }).toBeGreaterThan(0);
  });
});
