// What a review of the replay in the window found, in Chromium through `loopscope serve`: a
// program that blocks at its start and then every 400 ms, recorded by `loopscope run --record`
// and opened for replay. The CPU profile's latest seconds end at the replay's position; Pause
// stops where the position showed; one block shows one duration everywhere; "block ▶" selects
// the block it goes to; every blocked loop counted has its mark.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { loopscope } from './helpers/cli';
import { sessionViewOf } from './helpers/serve-process';
import { blockStep, PAST_BLOCK_S } from '../renderer/replay/scrubber';
import type { ReplayMark } from '../main/ui/ui-api';
import { failureShot, openPane, openWindow, showRecording, type WindowRun } from './helpers/window';

const FIXTURE = resolve(__dirname, 'fixtures/replay-blocks.js');
/** Reads the position and the Blocks count the page shows, and presses Pause, in one go (a string: runs in the page). */
const PAUSE_AS_SHOWN = `(() => {
  const at = Number(document.querySelector('[data-testid="replay-position"]').getAttribute('data-position-s'));
  const blocks = document.querySelector('[role="tab"] .count').textContent;
  [...document.querySelectorAll('[data-testid="replay-bar"] button')].find((b) => b.textContent === 'Pause').click();
  return { at, blocks };
})()`;

describe.skipIf(!existsSync(CHROMIUM))('the replay in the window, after its review', () => {
  let dir: string;
  let run: WindowRun;
  let page: Page;
  let id = '';
  /** The blocks the recording's own summary counts. */
  let recordedBlocks = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-replay-review-'));
    const file = join(dir, 'blocks.lsrec');
    const recorded = await loopscope(['run', '--json', '--record', file, '--', process.execPath, FIXTURE], { RUN_MS: '5000' });
    expect(recorded.code, recorded.stderr).toBe(0);
    recordedBlocks = (JSON.parse(recorded.stdout) as { blockedCount: number }).blockedCount;
    run = await openWindow();
    page = run.page;
    id = await showRecording(run, file);
    await page.locator('.replay-scan').waitFor({ state: 'detached', timeout: 15_000 });
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-replay-review', context.task.name) });
  });

  afterAll(async () => {
    await run?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bar = () => page.getByTestId('replay-bar');
  const position = async (): Promise<number> => Number(await bar().getByTestId('replay-position').getAttribute('data-position-s'));
  const seekTo = async (s: number): Promise<void> => {
    const scrubber = bar().getByLabel('replay position');
    await scrubber.focus();
    await page.keyboard.press('Home');
    const start = Number(await scrubber.getAttribute('min'));
    await expect.poll(position).toBeCloseTo(start, 1);
    for (let i = 0; i < s; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(position).toBeCloseTo(start + s, 1);
  };
  const rangeText = () => page.getByTestId('profile-range-text').textContent();
  const range = async (): Promise<{ fromS: number; toS: number; latest: boolean }> => {
    const m = /^(-?[\d.]+) s – (-?[\d.]+) s( \(the latest\))?$/.exec(String(await rangeText()));
    if (!m) throw new Error(`the range reads "${await rangeText()}"`);
    return { fromS: Number(m[1]), toS: Number(m[2]), latest: m[3] !== undefined };
  };

  it('profiles the latest seconds up to the replay\'s position, not past it, and keeps a picked range', async () => {
    await seekTo(3);
    const at = await position();
    await openPane(page, 'Profile');
    await expect.poll(rangeText, { timeout: 10_000 }).toContain('(the latest)');
    // Again after a few polls: the range must not creep on into what the file holds next.
    for (let i = 0; i < 3; i++) {
      const r = await range();
      expect(r.fromS).toBeGreaterThanOrEqual(0);
      expect(r.toS).toBeLessThanOrEqual(at + 0.05);
      expect(r.toS).toBeGreaterThanOrEqual(at - 0.05);
      await new Promise((done) => setTimeout(done, 1200));
    }
    // A range dragged over the picker stays as picked.
    const picker = page.getByTestId('profile-range').locator('canvas');
    const box = (await picker.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect.poll(rangeText).not.toContain('(the latest)');
    // The range picked is asked for on the next poll; until it comes, the text shows the one before.
    await expect.poll(async () => (await range()).toS, { timeout: 5000 }).toBeLessThan(at - 0.5);
    const picked = await range();
    await new Promise((done) => setTimeout(done, 1500));
    expect(await range()).toEqual(picked);
    expect(picked.toS).toBeLessThanOrEqual(at + 0.05);
    await page.getByRole('button', { name: 'Latest' }).click();
    await expect.poll(rangeText).toContain('(the latest)');
  });

  it('stops where the position showed when Pause was pressed, and nothing more comes', async () => {
    await seekTo(0);
    await bar().getByRole('button', { name: 'Play' }).click();
    await new Promise((done) => setTimeout(done, 2000));
    // Read and clicked in one go: what the page showed at the click.
    const shown = await page.evaluate(PAUSE_AS_SHOWN) as { at: number; blocks: string };
    await bar().getByRole('button', { name: 'Play' }).waitFor();
    await new Promise((done) => setTimeout(done, 800));
    expect(await position()).toBeCloseTo(shown.at, 3);
    expect(await page.getByRole('tab', { name: /^Blocks/ }).locator('.count').textContent()).toBe(shown.blocks);
  });

  const blockedMarks = async () => (await sessionViewOf(run.served.url, id)).replay!.marks.filter((m) => m.kind === 'blocked');
  const next = () => bar().getByRole('button', { name: 'block ▶' });
  /** Presses "block ▶"; returns the mark it went to, once the replay is there. */
  const toNextBlock = async (marks: readonly ReplayMark[]): Promise<ReplayMark> => {
    const step = blockStep(marks, await position(), 1)!;
    await next().click();
    await expect.poll(position).toBeCloseTo(step.t, 2);
    return step.mark;
  };

  it('shows a block with one duration wherever its final report is known: the Blocks pane, its place, the scrubber', async () => {
    await openPane(page, 'Blocks');
    await seekTo(0);
    const marks = await blockedMarks();
    expect(marks.length).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < 5; i++) {
      const mark = await toNextBlock(marks);
      const view = await sessionViewOf(run.served.url, id);
      const report = view.blocked.find((b) => Math.abs(b.t - mark.t) < 0.02);
      expect(report, `a report at ${mark.t}`).toBeDefined();
      expect(report!.durationMs).toBeCloseTo(mark.durationMs, 2);
      const group = view.blockGroups.find((g) => g.key === report!.group);
      expect(group, 'its place').toBeDefined();
      expect(group!.maxMs).toBeGreaterThanOrEqual(report!.durationMs - 0.001);
    }
  });

  it('"block ▶" selects the block it goes to, with its stack, and its CPU profile', async () => {
    await seekTo(0);
    const marks = await blockedMarks();
    for (let i = 0; i < 4; i++) {
      await openPane(page, 'Blocks');
      const mark = await toNextBlock(marks);
      const detail = page.getByTestId('block-detail');
      await expect.poll(() => detail.locator('h3').first().textContent(), { timeout: 5000 }).toContain(`${mark.durationMs.toFixed(1)} ms at`);
      expect(await detail.locator('h3').first().textContent()).not.toContain('still blocked');
      // The startup block may have none: it can end before the watchdog takes one, and before the sampler starts.
      const report = (await sessionViewOf(run.served.url, id)).blocked.find((b) => b.id === mark.id)!;
      // Its own stack: on a loaded machine a block may be a stall elsewhere than the fixture's
      // own (seen in CI: processTicksAndRejections), and the detail is to show that one.
      const top = report.stack[0];
      if (top) expect(await detail.locator('.stack').textContent()).toContain(top.functionName || `:${top.lineNumber}`);
      else expect(await detail.textContent()).toContain('No stack');
      expect(await page.getByTestId('blocked-now').count()).toBe(0);
      await detail.getByTestId('block-profile').click();
      await expect.poll(rangeText, { timeout: 10_000 }).toMatch(/ s$/);
      const r = await range();
      expect(r.latest).toBe(false);
      // The range reads in tenths of a second.
      expect(r.fromS).toBeLessThanOrEqual(mark.t + 0.05);
      expect(r.toS).toBeGreaterThanOrEqual(mark.t + mark.durationMs / 1000 - 0.05);
      expect(r.toS).toBeLessThan(mark.t + mark.durationMs / 1000 + PAST_BLOCK_S);
    }
  }, 60_000);

  it('marks every blocked loop it counts, the one before the first sample too', async () => {
    const said = Number(/^(\d+) blocked loops? marked/.exec(String(await bar().getByText(/blocked loops? marked/).textContent()))?.[1]);
    expect(said).toBe(recordedBlocks);
    // A column of the scrubber holds every mark in its pixels: its title says how many.
    const titles = await bar().locator('.scrubber-marks .mark.blocked').evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
    const shown = titles.reduce((n, t) => n + Number(/\((\d+) here\)$/.exec(t)?.[1] ?? 1), 0);
    expect(shown).toBe(said);
    expect(titles[0]).toMatch(/ at -?0:00\.[01]/);
  });
});
