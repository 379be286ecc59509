// trace mode on an attached process (issue 16, item 4), in Chromium through `loopscope
// serve`: callbacks named by their function where the probe can tell, resources from before
// tracing called that, the trace's length shown and set, a paused view kept as the trace lets
// it go, the probe's drops shown prominently in human units, and a replayed trace without
// "Follow live" or negative times.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { killAll, startTarget } from './helpers/attach-harness';
import { callHost } from './helpers/serve-process';
import { ARTIFACTS, docScreenshot, boxOf, failureShot, openPane, openWindow, showSession, TRACE_TIP, type TraceTip, type WindowRun } from './helpers/window';
import { AXIS_H, ROW_H, TURN_H } from '../renderer/timeline/timeline-math';
import { BEFORE_TRACE_TYPE } from '../main/common/trace-terms';

const FLOOD = resolve(__dirname, 'fixtures/event-flood.js');

describe.skipIf(!existsSync(CHROMIUM))('trace mode on an attached process', () => {
  let run: WindowRun;
  let page: Page;
  let id: string;
  const timeline = () => page.getByTestId('trace-timeline');
  const attr = async (name: string): Promise<number> => Number(await timeline().getAttribute(name));

  beforeAll(async () => {
    const [window, target] = await Promise.all([openWindow(), startTarget('window-trace.js', { nodeArgs: ['--inspect-port=0'] })]);
    run = window;
    page = run.page;
    id = String(await callHost(run.served.url, 'attach', [target.pid, { mode: 'trace', blockThresholdMs: 10_000 }]));
    await showSession(page, 'window-trace.js');
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-trace-attached', context.task.name) });
  });

  afterAll(async () => {
    await run?.close();
    await killAll();
  });

  /** Hovers along the row of top-level callbacks, collecting what the tips say, until `enough` says so. */
  async function sweep(enough: (tips: readonly TraceTip[]) => boolean): Promise<TraceTip[]> {
    const tips: TraceTip[] = [];
    const box = await boxOf(page.locator('.trace-canvas canvas'));
    for (let dx = 1; dx < box.width && !enough(tips); dx += 3) {
      await page.mouse.move(box.x + dx, box.y + AXIS_H + TURN_H + 4 + ROW_H / 2);
      const tip = (await page.evaluate(TRACE_TIP)) as TraceTip | null;
      if (tip) tips.push(tip);
    }
    return tips;
  }

  it('names a callback by the function it called, and one whose resource came before tracing as such', async () => {
    await openPane(page, 'Trace');
    await expect.poll(() => attr('data-slices'), { timeout: 15_000 }).toBeGreaterThan(20);
    await timeline().getByRole('button', { name: 'Follow live' }).click();
    const tips = await sweep((t) => t.some((x) => x.name === 'handleRequest') && t.some((x) => x.type === BEFORE_TRACE_TYPE));
    expect(tips.find((t) => t.name === 'handleRequest')?.type).toBe('Timeout');
    const before = tips.find((t) => t.type === BEFORE_TRACE_TYPE);
    expect(before, 'the interval made at start, before tracing').toBeDefined();
    await page.getByTestId('trace-tip').waitFor();
    expect(await page.getByTestId('trace-tip').textContent()).toMatch(/^(Timeout handleRequest|created before tracing started|Immediate flushQueue) #\d+/);
    await timeline().screenshot({ path: `${ARTIFACTS}/window-trace-timeline.png` });
    // Its causality: what made it is not known, and says why.
    const box = await boxOf(page.locator('.trace-canvas canvas'));
    for (let dx = 1; dx < box.width; dx += 3) {
      await page.mouse.move(box.x + dx, box.y + AXIS_H + TURN_H + 4 + ROW_H / 2);
      const tip = (await page.evaluate(TRACE_TIP)) as TraceTip | null;
      if (tip?.type !== BEFORE_TRACE_TYPE) continue;
      await page.mouse.click(box.x + dx, box.y + AXIS_H + TURN_H + 4 + ROW_H / 2);
      break;
    }
    await expect.poll(() => page.getByTestId('causality-untraced').textContent()).toMatch(/^Resource #\d+ was created before tracing started/);
    await page.screenshot({ path: docScreenshot('window-trace.png') });
  });

  it('shows how much the trace keeps, and sets it', async () => {
    const keep = page.getByTestId('trace-keep');
    expect(await keep.getAttribute('data-keep-s')).toBe('10');
    expect(await keep.textContent()).toMatch(/holds \d/);
    await keep.getByLabel('trace length').selectOption('30');
    await expect.poll(() => keep.getAttribute('data-keep-s'), { timeout: 10_000 }).toBe('30');
  });

  it('keeps what a paused view shows when the trace lets that stretch go', async () => {
    const shown = await attr('data-slices');
    expect(shown).toBeGreaterThan(0);
    expect(await timeline().getAttribute('data-follow')).toBe('false');
    await callHost(run.served.url, 'setTraceLength', [id, 1]);
    await page.getByTestId('trace-paused-kept').waitFor({ timeout: 10_000 });
    expect(await attr('data-slices')).toBe(shown);
  });

  it('replays a recorded trace following the playback, on a time axis from 0', async () => {
    await page.getByRole('button', { name: '● Record' }).click();
    await page.getByTestId('recording').waitFor();
    await expect.poll(async () => (await page.getByTestId('recording-progress').textContent()) ?? '', { timeout: 10_000 }).toMatch(/^0:0[2-9]/);
    await page.getByRole('button', { name: '■ Stop recording' }).click();
    await page.getByTestId('saved-recording').getByRole('button', { name: 'Replay it' }).click();
    await page.getByTestId('replay-bar').waitFor({ timeout: 10_000 });
    await openPane(page, 'Trace');
    await timeline().getByRole('button', { name: 'Follow playback' }).waitFor();
    expect(await timeline().getByRole('button', { name: 'Follow live' }).count()).toBe(0);
    await page.getByTestId('replay-bar').getByLabel('speed').selectOption('4');
    await page.getByTestId('replay-bar').getByRole('button', { name: 'Play' }).click();
    await expect.poll(() => attr('data-slices'), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await attr('data-from')).toBeGreaterThanOrEqual(0);
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByLabel('command to launch').waitFor();
  });

  it('shows the probe\'s drops prominently, in human units', async () => {
    const flood = String(await callHost(run.served.url, 'launch', [[process.execPath, FLOOD], { mode: 'trace' }, { env: { RUN_MS: '20000' } }]));
    try {
      await showSession(page, 'event-flood.js');
      await openPane(page, 'Trace');
      // loopscope stops reading for two seconds: the probe's buffer fills, and it drops.
      process.kill(run.served.child.pid!, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 2000));
      process.kill(run.served.child.pid!, 'SIGCONT');
      const drops = page.getByTestId('drops');
      await expect.poll(async () => Number(await drops.getAttribute('data-frames')), { timeout: 15_000 }).toBeGreaterThan(0);
      expect(await drops.textContent()).toMatch(/^dropped [\d,]+ frames \(\d+(\.\d+)? (B|kB|MB|GB)\)$/);
      expect(await drops.getAttribute('class')).toBe('drops bad');
      expect(await page.getByTestId('trace-drops').textContent()).toMatch(/^The probe dropped [\d,]+ frames \(\d+(\.\d+)? (B|kB|MB|GB)\) because loopscope read too slowly/);
      expect(await page.getByTestId('key-findings').textContent()).toMatch(/The probe dropped [\d,]+ frames/);
    } finally {
      await callHost(run.served.url, 'stop', [flood]).catch(() => undefined);
    }
  });
});
