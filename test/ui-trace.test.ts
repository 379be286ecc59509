// trace mode's screens end to end: `loopscope serve`, Debian's Chromium, and an HTTP server
// calling itself, launched in trace mode. The timeline draws its callbacks, zooms with the
// wheel, and a click on a slow timer shows the chain that led to it. Screenshots go to
// test-artifacts/.

import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM, launchChromium, type Browser } from './helpers/browser';
import { callHost, startServe, type Served } from './helpers/serve-process';
import { openPane, TRACE_TIP, type TraceTip } from './helpers/window';
import { ROW_H, TURN_H, AXIS_H } from '../renderer/timeline/timeline-math';

const ARTIFACTS = resolve(__dirname, '../test-artifacts');
const FIXTURE = resolve(__dirname, 'fixtures/trace-http.js');
/** The fixture's default: each request's timer spins this long. */
const SPIN_MS = 20;

async function canvasBox(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  const canvas = page.locator('.trace-canvas canvas');
  await canvas.scrollIntoViewIfNeeded();
  return (await canvas.boundingBox())!;
}

const attr = async (page: Page, name: string): Promise<number> => Number(await page.getByTestId('trace-timeline').getAttribute(name));

describe.skipIf(!existsSync(CHROMIUM))('trace mode in Chromium, through loopscope serve', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let sessionId: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [served, browser] = await Promise.all([startServe(), launchChromium()]);
    page = await browser.context.newPage();
    // A high block threshold: the spinning timers are not what this test is about.
    sessionId = String(await callHost(served.url, 'launch', [[process.execPath, FIXTURE], { mode: 'trace', blockThresholdMs: 10_000 }]));
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: `${ARTIFACTS}/ui-trace-failure-${context.task.name.slice(0, 20).replace(/\W+/g, '-')}.png`, fullPage: true });
  });

  afterAll(async () => {
    if (sessionId) await callHost(served.url, 'stop', [sessionId]).catch(() => undefined);
    await browser?.close();
    await served?.stop();
  });

  it('draws the loop turns and callbacks of a program launched in trace mode, following live', async () => {
    await page.goto(served.url);
    await page.getByRole('listitem').filter({ hasText: 'trace-http.js' }).getByRole('button', { name: 'Show' }).click();
    await openPane(page, 'Trace');
    const timeline = page.getByTestId('trace-timeline');
    await timeline.waitFor({ timeout: 10_000 });
    await expect.poll(() => attr(page, 'data-slices'), { timeout: 10_000 }).toBeGreaterThan(10);
    // Polled as well: the turns drawn grow with each answer, not with the slices (a turn may run several callbacks).
    await expect.poll(() => attr(page, 'data-turns'), { timeout: 10_000 }).toBeGreaterThan(5);
    expect(await timeline.getAttribute('data-follow')).toBe('true');
    // Following: the window moves on with the program.
    const before = await attr(page, 'data-to');
    await expect.poll(() => attr(page, 'data-to'), { timeout: 5000 }).toBeGreaterThan(before + 0.3);
    // Past the program's start-up, so that the window holds requests.
    await expect.poll(() => attr(page, 'data-to'), { timeout: 10_000 }).toBeGreaterThan(2);
    await page.getByText('Click a callback on the timeline').waitFor();
    await timeline.screenshot({ path: `${ARTIFACTS}/ui-trace-timeline.png` });
  });

  it('stops following, and zooms in around the pointer with the wheel', async () => {
    const timeline = page.getByTestId('trace-timeline');
    await timeline.getByRole('button', { name: 'Follow live' }).click();
    expect(await timeline.getAttribute('data-follow')).toBe('false');
    const [from, to] = [await attr(page, 'data-from'), await attr(page, 'data-to')];
    const box = await canvasBox(page);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await expect.poll(() => attr(page, 'data-to')).not.toBe(to);
    const [zFrom, zTo] = [await attr(page, 'data-from'), await attr(page, 'data-to')];
    expect(zTo - zFrom).toBeLessThan(0.7 * (to - from));
    // The time under the pointer stayed put.
    expect((zFrom + zTo) / 2).toBeCloseTo((from + to) / 2, 3);
    await expect.poll(() => attr(page, 'data-slices'), { timeout: 5000 }).toBeGreaterThan(0);
  });

  it('hovers a slow timer, clicks it, and shows the chain that led to it', async () => {
    const timeline = page.getByTestId('trace-timeline');
    // Depth 0's row: each request's timer spins SPIN_MS there. On a loaded machine the
    // client's interval timer can be as slow: click each slow Timeout until one is a handler's.
    // The canvas is measured at each step: the page above it may still grow.
    const handlerChain = ['TCPSERVERWRAP', 'TCPWRAP', 'HTTPINCOMINGMESSAGE', 'Timeout'];
    let found = false;
    let slowTimers = 0;
    for (let dx = 2; dx < (await canvasBox(page)).width && !found; dx += 8) {
      const box = await canvasBox(page);
      const [x, y] = [box.x + dx, box.y + AXIS_H + TURN_H + 4 + ROW_H / 2];
      await page.mouse.move(x, y);
      const tip = (await page.evaluate(TRACE_TIP)) as TraceTip | null;
      if (tip?.type !== 'Timeout' || tip.ms < SPIN_MS * 0.9) continue;
      if (slowTimers++ === 0) await timeline.screenshot({ path: `${ARTIFACTS}/ui-trace-hover.png` });
      await page.mouse.click(x, y);
      await expect.poll(() => timeline.getAttribute('data-selected')).toBe(String(tip.id));
      await page.getByRole('heading', { name: `Causality of Timeout #${tip.id}`, exact: true }).waitFor();
      const chain = await page.getByTestId('causal-chain').locator('li[data-type]').evaluateAll((items) => items.map((li) => li.getAttribute('data-type')));
      found = chain.slice(-4).join() === handlerChain.join();
      dx += 20; // past this slice
    }
    expect(slowTimers, 'slow Timeouts under the pointer along the row').toBeGreaterThan(0);
    expect(found, 'a slow Timeout whose chain runs from the listening socket through the request').toBe(true);
    await page.getByTestId('causality-tree').screenshot({ path: `${ARTIFACTS}/ui-trace-causality.png` });
    await page.screenshot({ path: `${ARTIFACTS}/ui-trace.png`, fullPage: true });
  });

  it('selects a cause from the chain, and shows what it caused, collapsibly', async () => {
    await page.getByTestId('causal-chain').locator('li[data-type="TCPWRAP"] button').click();
    await page.getByRole('heading', { name: /^Causality of TCPWRAP #\d+$/ }).waitFor();
    const subtree = page.getByTestId('causal-subtree');
    const request = subtree.locator(':scope > li[data-type="HTTPINCOMINGMESSAGE"]');
    await request.waitFor();
    // The request's timer sits one level down, open at first; its toggle closes it.
    await request.locator('li[data-type="Timeout"]').first().waitFor();
    await request.getByRole('button', { name: 'collapse' }).first().click();
    expect(await request.locator('li[data-type="Timeout"]').count()).toBe(0);
    await request.getByRole('button', { name: 'expand' }).first().click();
    await request.locator('li[data-type="Timeout"]').first().waitFor();
  });
});
