// The replay's keyboard in the window, in Chromium through `loopscope serve`, on a recording
// opened for replay: Space plays and pauses wherever focus is, but where Space means something
// else (a select, a button, a tab); the tab strip is one Tab stop, its arrow keys, Home and
// End selecting the tabs (the WAI-ARIA tabs pattern).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { failureShot, openWindow, showRecording, type WindowRun } from './helpers/window';

const RECORDING = resolve(__dirname, 'fixtures/readfile-blocks.lsrec');
/** Long enough for a toggle that was going to come to have come. */
const SETTLE_MS = 600;

describe.skipIf(!existsSync(CHROMIUM))('the replay\'s keyboard in the window', () => {
  let run: WindowRun;
  let page: Page;

  beforeAll(async () => {
    run = await openWindow();
    page = run.page;
    await showRecording(run, RECORDING);
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-replay-keys', context.task.name) });
  });

  afterAll(() => run?.close());

  const bar = () => page.getByTestId('replay-bar');
  /** What the play button offers: 'Play' while paused, 'Pause' while playing. */
  const playButton = () => bar().locator('.replay-controls button').first().textContent();
  const playing = async (): Promise<boolean> => (await playButton()) === 'Pause';
  /** Back to the start, paused: the recording is 9 s long, and the replay stops at its end. */
  const rewind = async (): Promise<void> => {
    if (await playing()) await bar().getByRole('button', { name: 'Pause' }).click();
    await expect.poll(playButton).toBe('Play');
    await bar().getByLabel('replay position').focus();
    await page.keyboard.press('Home');
  };
  const activeRole = () => page.evaluate('document.activeElement?.getAttribute("role") ?? document.activeElement?.tagName');
  const selectedTab = () => page.locator('[role="tab"][aria-selected="true"]').getAttribute('id');

  it('plays and pauses on Space with nothing focused, and on the scrubber', async () => {
    await rewind();
    await page.evaluate('document.activeElement?.blur()');
    expect(await page.evaluate('document.activeElement === document.body')).toBe(true);
    await page.keyboard.press('Space');
    await expect.poll(playing).toBe(true);
    await page.keyboard.press('Space');
    await expect.poll(playing).toBe(false);

    await rewind();
    await bar().getByLabel('replay position').focus();
    await page.keyboard.press('Space');
    await expect.poll(playing).toBe(true);
    await page.keyboard.press('Space');
    await expect.poll(playing).toBe(false);
  });

  it('leaves Space to a select, a button and a tab', async () => {
    await rewind();
    await bar().getByLabel('speed').focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Escape');
    await page.waitForTimeout(SETTLE_MS);
    expect(await playing()).toBe(false);

    // Step is a button: Space presses it (a step, paused), and does not also play.
    const at = await bar().getByTestId('replay-position').getAttribute('data-position-s');
    await bar().getByRole('button', { name: 'Step' }).focus();
    await page.keyboard.press('Space');
    await expect.poll(() => bar().getByTestId('replay-position').getAttribute('data-position-s')).not.toBe(at);
    await page.waitForTimeout(SETTLE_MS);
    expect(await playing()).toBe(false);

    // A tab that is not selected: Space selects it, and does not play.
    const profile = page.getByRole('tab', { name: /^Profile/ });
    await profile.focus();
    await page.keyboard.press('Space');
    await expect.poll(selectedTab).toBe('tab-profile');
    await page.waitForTimeout(SETTLE_MS);
    expect(await playing()).toBe(false);
  });

  it('makes the tab strip one Tab stop, the selected tab, with the arrow keys, Home and End moving between tabs', async () => {
    const tabs = page.getByRole('tab');
    const ids = await tabs.evaluateAll((ts) => ts.map((t) => t.id));
    expect(ids.slice(0, 5)).toEqual(['tab-blocks', 'tab-profile', 'tab-tasks', 'tab-trace', 'tab-console']);
    await page.getByRole('tab', { name: /^Blocks/ }).click();
    await expect.poll(selectedTab).toBe('tab-blocks');
    const tabIndexes = () => tabs.evaluateAll((ts) => ts.map((t) => (t as unknown as { tabIndex: number }).tabIndex));
    expect(await tabIndexes()).toEqual(ids.map((id) => (id === 'tab-blocks' ? 0 : -1)));

    // Tab leaves the strip, and Shift+Tab comes back to the selected tab.
    await page.keyboard.press('Tab');
    expect(await activeRole()).not.toBe('tab');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement?.id')).toBe('tab-blocks');

    const focusedAndSelected = async (id: string): Promise<void> => {
      await expect.poll(selectedTab).toBe(id);
      expect(await page.evaluate('document.activeElement?.id')).toBe(id);
      expect(await page.getByTestId('tab-panel').getAttribute('aria-labelledby')).toBe(id);
      expect(await tabIndexes()).toEqual(ids.map((i) => (i === id ? 0 : -1)));
    };
    await page.keyboard.press('ArrowRight');
    await focusedAndSelected('tab-profile');
    await page.keyboard.press('End');
    await focusedAndSelected(ids[ids.length - 1]!);
    // Round the ends.
    await page.keyboard.press('ArrowRight');
    await focusedAndSelected('tab-blocks');
    await page.keyboard.press('ArrowLeft');
    await focusedAndSelected(ids[ids.length - 1]!);
    await page.keyboard.press('Home');
    await focusedAndSelected('tab-blocks');
  });
});
