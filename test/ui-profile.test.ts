// The blame issue's parts of the window, in Chromium through `loopscope serve`, against a real
// process whose blocks are inside JSON.parse: blocks grouped by place with the line of the
// parse and where the stack came from, and the CPU profile's tab (range picker, flame graph,
// bottom-up table) of the latest seconds, of a selected group's block, and of a stretch
// dragged over; and a pane that fails to draw, in its place. Screenshots go to docs/ (with
// UPDATE_DOCS=1).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM, launchChromium, type Browser } from './helpers/browser';
import { startServe, type Served } from './helpers/serve-process';
import { BLOCKERS, blockLine } from './helpers/blockers';
import { docScreenshot, openPane } from './helpers/window';

const ARTIFACTS = resolve(__dirname, '../test-artifacts');
const PARSE_LINE = blockLine('json-parse');

function startTarget(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BLOCKERS], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KIND: 'json-parse', COUNT: '100000', PERIOD_MS: '700' } });
  return new Promise((ok, fail) => {
    child.stdout?.once('data', () => ok(child));
    child.once('exit', (code) => fail(new Error(`the target exited (${code})`)));
  });
}

describe.skipIf(!existsSync(CHROMIUM))('blocks by place and the CPU profile, in Chromium', () => {
  let served: Served;
  let browser: Browser;
  let target: ChildProcess;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [served, browser, target] = await Promise.all([startServe(), launchChromium(), startTarget()]);
    page = await browser.context.newPage();
    await page.goto(served.url);
    await page.locator(`tr[data-pid="${target.pid}"] button`, { hasText: 'Attach' }).click({ timeout: 15_000 });
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: `${ARTIFACTS}/ui-profile-failure-${context.task.name.slice(0, 20).replace(/\W+/g, '-')}.png`, fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    target?.kill('SIGKILL');
  });

  it('shows the profile of the latest seconds: the parse on top by self time', async () => {
    // Before any block is selected.
    await openPane(page, 'Profile');
    const panel = page.getByTestId('profile-panel');
    await panel.getByTestId('flame-graph').locator('canvas').waitFor({ timeout: 10_000 });
    expect(await panel.getByTestId('profile-range-text').textContent()).toContain('(the latest)');
    await expect.poll(async () => (await panel.getByTestId('bottom-up-row').first().locator('code').textContent()), { timeout: 15_000 }).toBe('parseBig');
    expect(await panel.getByTestId('bottom-up-row').first().locator('td').nth(1).textContent()).toBe(`blockers.js:${PARSE_LINE}`);
    expect(await panel.getByTestId('profile-kinds').textContent()).toMatch(/samples every 20 ms/);
  });

  it('groups the blocks by place, blamed on the caller at the line of its JSON.parse', async () => {
    await openPane(page, 'Blocks');
    const groups = page.getByTestId('block-groups');
    const parse = groups.getByTestId('block-group').filter({ hasText: 'parseBig' }).first();
    await parse.waitFor({ timeout: 20_000 });
    // Several blocks, one group: the same place.
    await expect.poll(async () => Number(await parse.getAttribute('data-count')), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    expect(await parse.locator('.source').textContent()).toBe('samples');
    await parse.locator('button.block-group').click();
    const detail = page.getByTestId('block-detail');
    expect(await detail.locator('.stack li').filter({ hasText: 'parseBig' }).first().textContent()).toMatch(new RegExp(`blockers\\.js:${PARSE_LINE}\\b`));
    expect(await detail.locator('h3 .source').textContent()).toBe('samples');
    expect(await detail.getByTestId('block-samples').textContent()).toMatch(/in \d+ of the block's \d+ CPU samples/);
    // The program's own frames open in the editor; Node's are dimmed and do not.
    expect(await detail.locator('.stack li[data-kind="own"] .open-frame').count()).toBeGreaterThan(0);
    const nodeFrames = detail.locator('.stack li[data-kind="node"]');
    expect(await nodeFrames.count()).toBeGreaterThan(0);
    expect(await nodeFrames.locator('.open-frame').count()).toBe(0);
  });

  it('selecting a group shows the profile of its longest block', async () => {
    const parse = page.getByTestId('block-group').filter({ hasText: 'parseBig' }).first();
    await parse.locator('button.block-group').click();
    expect(await parse.locator('button.block-group').getAttribute('aria-current')).toBe('true');
    // The detail shows the group's longest block, the one the profile will show.
    // Read in one go, from one render: blocks keep coming.
    const { shown, listed } = (await page.evaluate(`({
      shown: Number.parseFloat(document.querySelector('[data-testid="block-detail"] h3').textContent),
      listed: [...document.querySelectorAll('.block-reports button')].map((b) => Number.parseFloat(b.textContent)),
    })`)) as { shown: number; listed: number[] };
    expect(shown).toBe(Math.max(...listed));
    await page.getByTestId('tab-panel').screenshot({ path: docScreenshot('ui-blocks.png') });
    // The length shown and the click in one task: a longer block may have come since.
    const clicked = (await page.evaluate(`(() => {
      const ms = Number.parseFloat(document.querySelector('[data-testid="block-detail"] h3').textContent);
      document.querySelector('[data-testid="block-profile"]').click();
      return ms;
    })()`)) as number;
    await page.locator('[data-testid="tab-panel"][data-tab="profile"]').waitFor();
    const panel = page.getByTestId('profile-panel');
    await expect.poll(() => panel.getByTestId('profile-range-text').textContent()).not.toContain('(the latest)');
    // The range is the block's, with its margins (blockRange); the text rounds each end to 0.1 s.
    const [fromS, toS] = ((await panel.getByTestId('profile-range-text').textContent()) ?? '').match(/-?[\d.]+/g)!.map(Number);
    expect(Math.abs((toS! - fromS!) * 1000 - (clicked + 2 * Math.min(50, clicked / 4)))).toBeLessThan(102);
    // Inside the block, the parse is nearly all of the code's samples. Not of all samples: the
    // margins are idle, the parse's garbage is GC, and a loaded machine delays samples.
    await expect.poll(async () => panel.getByTestId('bottom-up-row').first().locator('code').textContent()).toBe('parseBig');
    const parseMs = Number(/([\d.]+) ms/.exec((await panel.getByTestId('bottom-up-row').first().locator('td').nth(2).textContent()) ?? '')?.[1]);
    const codeMs = Number(/code ([\d.]+) ms/.exec((await panel.getByTestId('profile-kinds').textContent()) ?? '')?.[1]);
    expect(parseMs).toBeGreaterThan(0.9 * codeMs);
    // Clicking the flame graph zooms into a frame and says what it cost.
    const canvas = panel.getByTestId('flame-graph').locator('canvas');
    const box = (await canvas.boundingBox())!;
    await canvas.click({ position: { x: box.width / 2, y: 4 } });
    await panel.getByTestId('flame-selected').waitFor();
    await page.waitForTimeout(300);
    await panel.screenshot({ path: docScreenshot('ui-profile.png') });
  });

  it('dragging over the range picker selects that stretch', async () => {
    const panel = page.getByTestId('profile-panel');
    const before = await panel.getByTestId('profile-range-text').textContent();
    const strip = panel.getByTestId('profile-range').locator('canvas');
    await strip.scrollIntoViewIfNeeded();
    const box = (await strip.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => panel.getByTestId('profile-range-text').textContent()).not.toBe(before);
    const [fromS, toS] = ((await panel.getByTestId('profile-range-text').textContent()) ?? '').match(/-?[\d.]+/g)!.map(Number);
    expect(toS!).toBeGreaterThan(fromS!);
    // "Latest" follows the newest seconds again.
    await panel.getByRole('button', { name: 'Latest' }).click();
    await expect.poll(() => panel.getByTestId('profile-range-text').textContent()).toContain('(the latest)');
  });

  it('a pane that fails to draw says so in its place; the other panes and the charts work on, and it draws again once it can', async () => {
    // A stand-in for a mistake of the window's own: every canvas refuses to give a context.
    // (Page code as text: the tests' TypeScript has no DOM types.)
    await page.evaluate(`{
      const proto = HTMLCanvasElement.prototype;
      proto.realGetContext = proto.getContext;
      proto.getContext = () => { throw new Error('no canvas for the test'); };
    }`);
    await openPane(page, 'Profile');
    const failed = page.getByTestId('tab-panel').getByTestId('part-failed');
    await failed.waitFor({ timeout: 10_000 });
    expect(await failed.textContent()).toMatch(/^The Profile pane failed to draw: no canvas for the test\. The rest of the window works on/);
    // The charts above the panel still draw new samples, and another pane shows.
    const chartEnd = async (): Promise<string | null> => page.getByTestId('overview').locator('section.chart').first().getAttribute('data-t1');
    const before = await chartEnd();
    await expect.poll(chartEnd, { timeout: 10_000 }).not.toBe(before);
    await openPane(page, 'Blocks');
    await page.getByTestId('block-groups').getByTestId('block-group').first().waitFor();
    expect(await page.getByTestId('part-failed').count()).toBe(0);
    // Once canvases work again, "Try again" draws the pane.
    await openPane(page, 'Profile');
    await failed.waitFor();
    await page.evaluate('HTMLCanvasElement.prototype.getContext = HTMLCanvasElement.prototype.realGetContext');
    await failed.getByRole('button', { name: 'Try again' }).click();
    await page.getByTestId('profile-panel').getByTestId('flame-graph').locator('canvas').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('part-failed').count()).toBe(0);
  });
});
