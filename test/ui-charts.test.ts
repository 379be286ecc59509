// The charts and stacks (issue 16, item 6), in Chromium through `loopscope serve`: a dark
// tooltip with units and rounded values, one crosshair across the three charts, round axis
// ticks (seconds or the wall clock), the threshold named outside the plot, the heap chart's
// axes labelled, p99 drawn over the max, and an editor offered only for the program's own
// frames, with its error beside the frame clicked.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { callHost } from './helpers/serve-process';
import { ARTIFACTS, boxOf, failureShot, openPane, openWindow, showSession, type WindowRun } from './helpers/window';

const FIXTURE = resolve(__dirname, 'fixtures/window-blocks.js');
const NO_EDITOR = '/nonexistent/editor-for-loopscope-tests';

/** The numbers of an axis's tick labels ("2.5 s" → 2.5). */
const tickValues = async (axis: Locator): Promise<number[]> => (await axis.locator('.recharts-cartesian-axis-tick-value').allTextContents()).map((t) => Number.parseFloat(t));

/** Whether `ticks` step evenly by 1, 2 or 5 × 10ⁿ and each is a multiple of that step. */
function round(ticks: readonly number[]): boolean {
  if (ticks.length < 2) return false;
  const step = ticks[1]! - ticks[0]!;
  const mantissa = step / 10 ** Math.floor(Math.log10(step));
  const nice = [1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-6);
  return nice && ticks.every((t, i) => Math.abs(t - ticks[0]! - i * step) < step * 1e-6 && Math.abs(t / step - Math.round(t / step)) < 1e-6);
}

describe.skipIf(!existsSync(CHROMIUM))('the charts and stacks', () => {
  let run: WindowRun;
  let page: Page;

  beforeAll(async () => {
    run = await openWindow({ env: { LOOPSCOPE_EDITOR: `${NO_EDITOR} {file}:{line}` } });
    page = run.page;
    await callHost(run.served.url, 'launch', [[process.execPath, FIXTURE], { blockThresholdMs: 40 }]);
    await showSession(page, 'window-blocks.js');
    // A block in view (runs in the page; this file is typechecked without the DOM's types).
    await page.waitForFunction(() => Number((globalThis as unknown as { document: { querySelector(s: string): { dataset: { peakMs?: string } } | null } })
      .document.querySelector('[data-testid="lag-peak"]')?.dataset.peakMs) > 40, undefined, { timeout: 15_000 });
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-charts', context.task.name) });
  });

  afterAll(() => run?.close());

  it('shows a dark tooltip with units and rounded values, and one crosshair across the three charts', async () => {
    const grid = await boxOf(page.getByTestId('lag-chart').locator('.recharts-cartesian-grid'));
    await page.mouse.move(grid.x + grid.width * 0.6, grid.y + grid.height / 2);
    const tip = page.getByTestId('lag-chart').getByTestId('chart-tip');
    await tip.waitFor();
    const text = (await tip.textContent())!;
    // Rounded to the axis's step: tenths, or hundredths while the session is under a second old.
    expect(text).toMatch(/^at \d+(\.\d{1,2})? s/);
    expect(text).toMatch(/max [\d.]+ ms.*p99 [\d.]+ ms.*p50 [\d.]+ ms/);
    expect(text).not.toMatch(/\d\.\d{4,}/);
    const rgb = (await tip.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor)).match(/\d+/g)!.map(Number);
    expect((0.2126 * rgb[0]! + 0.7152 * rgb[1]! + 0.0722 * rgb[2]!) / 255).toBeLessThan(0.2);
    for (const chart of ['lag-chart', 'load-chart', 'heap-chart']) {
      await expect.poll(() => page.getByTestId(chart).locator('.recharts-tooltip-cursor').count(), { message: chart }).toBeGreaterThan(0);
    }
    await page.screenshot({ path: `${ARTIFACTS}/window-charts-crosshair.png` });
    // Every chart's tip says the same time as the one hovered.
    const at = async (chart: string): Promise<string | undefined> => (await page.getByTestId(chart).getByTestId('chart-tip').textContent())?.match(/^at [\d.]+ s/)?.[0];
    const hovered = await at('lag-chart');
    for (const chart of ['load-chart', 'heap-chart']) await expect.poll(() => at(chart), { message: chart }).toBe(hovered);
    // Leaving through the value axis, then off the charts: no tip stays behind (they stuck at the first sample).
    const lag = await boxOf(page.getByTestId('lag-chart'));
    await page.mouse.move(lag.x + 10, grid.y + grid.height / 2, { steps: 4 });
    await page.mouse.move(0, 0, { steps: 4 });
    const noTips = async (): Promise<void> => {
      for (const chart of ['lag-chart', 'load-chart', 'heap-chart']) {
        await expect.poll(() => page.getByTestId(chart).getByTestId('chart-tip').filter({ visible: true }).count(), { message: chart }).toBe(0);
      }
    };
    await noTips();
    // A click on a chart (picking a time) focuses it; once the pointer has left, no tip stays either.
    await page.mouse.click(grid.x + grid.width * 0.5, grid.y + grid.height / 2);
    await page.mouse.move(0, 0, { steps: 4 });
    await noTips();
    // From the keyboard: a focused chart's arrow keys walk its samples; moving on leaves no tip.
    await page.getByRole('button', { name: 'since start' }).focus();
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('ArrowRight');
    }
    await page.getByRole('tab', { name: /^Blocks/ }).focus();
    await noTips();
  });

  it('puts its axis ticks on round values, each once', async () => {
    for (const chart of ['lag-chart', 'load-chart', 'heap-chart']) {
      const xAxis = page.getByTestId(chart).locator('.recharts-xAxis-tick-labels');
      // A session under a second old has one time tick: its second comes with its age.
      await expect.poll(async () => (await tickValues(xAxis)).length, { message: chart, timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const x = await tickValues(xAxis);
      expect(new Set(x).size, `${chart}: ${x}`).toBe(x.length);
      expect(round(x), `${chart} time ticks ${x}`).toBe(true);
      for (const y of await page.getByTestId(chart).locator('.recharts-yAxis-tick-labels').all()) {
        const values = await tickValues(y);
        expect(round(values) && values[0] === 0, `${chart} value ticks ${values}`).toBe(true);
      }
    }
  });

  it('names the block threshold outside the plot, and labels the heap chart\'s two axes', async () => {
    expect(await page.getByTestId('lag-chart').locator('.recharts-reference-line .recharts-label').count()).toBe(0);
    expect(await page.getByTestId('lag-threshold').textContent()).toBe(' threshold 40 ms');
    expect(await page.getByTestId('lag-threshold').getAttribute('title')).toMatch(/^The block threshold/);
    // The peak is never cut short (the threshold's words give way first).
    const peak = page.getByTestId('lag-peak');
    expect(await peak.evaluate((el) => el.scrollWidth <= el.clientWidth && el.getBoundingClientRect().right <= el.parentElement!.getBoundingClientRect().right + 0.5)).toBe(true);
    const labels = await page.getByTestId('heap-chart').locator('.recharts-label').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['heap MB', 'GC ms']));
  });

  it('draws p99 and p50 over the max, which is an area under them', async () => {
    const chart = page.getByTestId('lag-chart');
    expect(await chart.locator('.recharts-area').count()).toBe(1);
    expect(await chart.locator('.recharts-line').count()).toBe(2);
    // Later in the document is drawn on top.
    const areaFirst = await chart.evaluate((el) => {
      const area = el.querySelector('.recharts-area');
      const lines = el.querySelectorAll('.recharts-line');
      // 4: Node.DOCUMENT_POSITION_FOLLOWING
      return [...lines].every((l) => (area!.compareDocumentPosition(l) & 4) !== 0);
    });
    expect(areaFirst).toBe(true);
  });

  it('switches the time axis to the wall clock', async () => {
    await page.getByRole('group', { name: 'time axis' }).getByRole('button', { name: 'clock' }).click();
    await expect.poll(() => page.getByTestId('lag-chart').locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents())
      .toEqual(expect.arrayContaining([expect.stringMatching(/^\d\d:\d\d:\d\d(\.\d)?$/)]));
    const clock = await page.getByTestId('load-chart').locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents();
    expect(clock.every((t) => /^\d\d:\d\d:\d\d(\.\d)?$/.test(t)), clock.join(' ')).toBe(true);
    // The clock's labels are wider than seconds': none may overlap the next (the heap chart's two value axes leave it the least room).
    for (const chart of ['lag-chart', 'load-chart', 'heap-chart']) {
      // Two labels at least (a young session's clock axis has one), read at once: they are redrawn as samples come.
      await expect.poll(() => page.getByTestId(chart).locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').count(), { timeout: 15_000, message: chart }).toBeGreaterThan(1);
      const spans = await page.getByTestId(chart).locator('.recharts-xAxis-tick-labels').evaluate((axis) =>
        [...axis.querySelectorAll('.recharts-cartesian-axis-tick-value')].map((l) => { const r = l.getBoundingClientRect(); return [r.left, r.right] as const; }));
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0], `${chart} label ${i}`).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    }
    await page.getByRole('group', { name: 'time axis' }).getByRole('button', { name: 'since start' }).click();
  });

  it('offers the editor for the program\'s own frames only, and says beside the frame why it could not open it', async () => {
    await openPane(page, 'Blocks');
    const detail = page.getByTestId('block-detail');
    await detail.locator('.stack li[data-kind="node"]').first().waitFor();
    expect(await detail.locator('.stack li[data-kind="node"] .open-frame').count()).toBe(0);
    const own = detail.locator('.stack li[data-kind="own"]').nth(1);
    await own.locator('.open-frame').click();
    await expect.poll(() => own.locator('.frame-note.error').textContent()).toContain(`cannot start the editor "${NO_EDITOR}"`);
    expect(await detail.locator('.frame-note').count()).toBe(1);
  });
});
