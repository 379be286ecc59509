// Recording and replaying in the window (issue 16, item 5), in Chromium through `loopscope
// serve`: the record button's clock and size move on; on the replay bar, the arrow keys move
// a second, the blocked loops' marks sit on the track, and buttons go to the previous and
// next blocked loop.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { callHost, sessionViewOf } from './helpers/serve-process';
import { ARTIFACTS, boxOf, failureShot, openPane, openWindow, showSession, type WindowRun } from './helpers/window';

const FIXTURE = resolve(__dirname, 'fixtures/ui-target.js');

describe.skipIf(!existsSync(CHROMIUM))('recording and replay in the window', () => {
  let run: WindowRun;
  let page: Page;
  let pid = 0;
  const bar = () => page.getByTestId('replay-bar');
  const position = async (): Promise<number> => Number(await bar().getByTestId('replay-position').getAttribute('data-position-s'));
  const blocks = async (): Promise<number> => Number(await page.getByRole('tab', { name: /^Blocks/ }).locator('.count').textContent());

  beforeAll(async () => {
    run = await openWindow();
    page = run.page;
    // A threshold well under the 300 ms blocks and well over what a loaded machine makes of
    // the idle loop: the test counts the blocks it caused, and only those.
    const id = String(await callHost(run.served.url, 'launch', [[process.execPath, FIXTURE], { blockThresholdMs: 200 }]));
    pid = (await sessionViewOf(run.served.url, id)).pid;
    await showSession(page, 'ui-target.js');
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-replay-window', context.task.name) });
  });

  afterAll(() => run?.close());

  it('records, its clock and size moving on', async () => {
    await page.getByRole('button', { name: '● Record' }).click();
    const progress = page.getByTestId('recording-progress');
    await expect.poll(() => progress.textContent(), { timeout: 10_000 }).toMatch(/^0:01\.\d · \d+(\.\d)? (B|kB)$/);
    const [first] = (await progress.textContent())!.split(' · ');
    // Two blocks, a second apart, each reported before the next.
    for (const n of [1, 2]) {
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(pid, 'SIGUSR2');
      await expect.poll(blocks, { timeout: 10_000 }).toBe(n);
    }
    await new Promise((r) => setTimeout(r, 800));
    expect((await progress.textContent())!.split(' · ')[0]).not.toBe(first);
    await page.getByRole('button', { name: '■ Stop recording' }).click();
    await page.getByTestId('saved-recording').getByRole('button', { name: 'Replay it' }).click();
    await bar().waitFor({ timeout: 10_000 });
    await expect.poll(() => bar().locator('.scrubber-marks .mark.blocked').count(), { timeout: 10_000 }).toBe(2);
  });

  it('sits the blocked loops\' marks on the track', async () => {
    const track = await boxOf(bar().locator('.scrubber-track'));
    for (const mark of await bar().locator('.scrubber-marks .mark.blocked').all()) {
      const m = await boxOf(mark);
      expect(Math.abs(m.y + m.height / 2 - (track.y + track.height / 2))).toBeLessThanOrEqual(1);
      expect(m.x).toBeGreaterThanOrEqual(track.x - 1);
      expect(m.x + m.width).toBeLessThanOrEqual(track.x + track.width + 1);
    }
    await page.screenshot({ path: `${ARTIFACTS}/window-replay.png` });
  });

  it('moves a second per arrow key', async () => {
    const scrubber = bar().getByLabel('replay position');
    await scrubber.focus();
    await page.keyboard.press('Home');
    const start = Number(await scrubber.getAttribute('min'));
    await expect.poll(position).toBeCloseTo(start, 1);
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(position).toBeGreaterThanOrEqual(start + 2.9);
    expect(await position()).toBeLessThanOrEqual(start + 3.1);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(position).toBeLessThanOrEqual(start + 2.1);
  });

  it('goes to the next and the previous blocked loop', async () => {
    await openPane(page, 'Blocks');
    await bar().getByLabel('replay position').focus();
    await page.keyboard.press('Home');
    await expect.poll(blocks).toBe(0);
    const next = bar().getByRole('button', { name: 'block ▶' });
    const previous = bar().getByRole('button', { name: '◀ block' });
    expect(await previous.isDisabled()).toBe(true);
    await next.click();
    await expect.poll(blocks).toBe(1);
    const atFirst = await position();
    await next.click();
    await expect.poll(blocks).toBe(2);
    expect(await position()).toBeGreaterThan(atFirst + 0.5);
    expect(await next.isDisabled()).toBe(true);
    await previous.click();
    await expect.poll(blocks).toBe(1);
    expect(await position()).toBeCloseTo(atFirst, 1);
  });
});
