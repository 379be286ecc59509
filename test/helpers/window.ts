// Shared steps of the window's tests in Chromium: `loopscope serve` and a page on it, where
// screenshots go, opening a session or a recording from the Start screen, switching panes, where things are
// on the page, and what the trace timeline's tip says.

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { launchChromium, type Browser } from './browser';
import { callHost, startServe, type Served } from './serve-process';

export const ARTIFACTS = resolve(__dirname, '../../test-artifacts');

/**
 * Where a screenshot that illustrates the README goes: docs/ when UPDATE_DOCS=1 (to refresh
 * them), else test-artifacts/, so that a test run leaves the repository as it found it.
 */
export function docScreenshot(name: string): string {
  const dir = process.env['UPDATE_DOCS'] === '1' ? resolve(__dirname, '../../docs') : ARTIFACTS;
  mkdirSync(dir, { recursive: true });
  return resolve(dir, name);
}

/** Shows the open session whose line on the Start screen holds `text`. */
export async function showSession(page: Page, text: string): Promise<void> {
  await page.getByRole('listitem').filter({ hasText: text }).getByRole('button', { name: 'Show' }).click();
  await page.getByTestId('status').waitFor({ timeout: 15_000 });
}

/** Opens `file` for replay through `loopscope serve` and shows it, its replay bar up; returns its session id. */
export async function showRecording(run: WindowRun, file: string): Promise<string> {
  const id = String(await callHost(run.served.url, 'openRecording', [file]));
  await run.page.locator(`li[data-session="${id}"]`).getByRole('button', { name: 'Show' }).click();
  await run.page.getByTestId('replay-bar').waitFor({ timeout: 15_000 });
  return id;
}

/** showRecording, once its marks are found, at its end (the scrubber's End key): the whole recording read. */
export async function showRecordingAtEnd(run: WindowRun, file: string): Promise<string> {
  const id = await showRecording(run, file);
  await run.page.locator('.replay-scan').waitFor({ state: 'detached', timeout: 15_000 });
  await run.page.getByTestId('replay-bar').getByLabel('replay position').focus();
  await run.page.keyboard.press('End');
  return id;
}

/** Switches the session screen's tab panel to `name` (Blocks, Profile, Tasks, Trace, Console). */
export async function openPane(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
  await page.locator(`[data-testid="tab-panel"][data-tab="${name.toLowerCase()}"]`).waitFor();
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export async function boxOf(locator: Locator): Promise<Box> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('the element is not on the page');
  return { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
}

/** Names a failed test's screenshot after the test. */
export const failureShot = (prefix: string, name: string): string => `${ARTIFACTS}/${prefix}-failure-${name.slice(0, 24).replace(/\W+/g, '-')}.png`;

export interface WindowRun {
  readonly served: Served;
  readonly browser: Browser;
  readonly page: Page;
  /** Closes the browser, then stops `loopscope serve` (which stops what it launched). */
  close(): Promise<void>;
}

/** `loopscope serve` and Chromium, with a page on the Start screen. */
export async function openWindow(serve: Parameters<typeof startServe>[0] = {}): Promise<WindowRun> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const [served, browser] = await Promise.all([startServe(serve), launchChromium()]);
  const page = await browser.context.newPage();
  await page.goto(served.url);
  return {
    served,
    browser,
    page,
    async close() {
      await browser.close();
      await served.stop();
    },
  };
}

/** The trace timeline's hover tip, read after the next frame has rendered (a string: runs in the page). */
export const TRACE_TIP = `new Promise((done) => requestAnimationFrame(() => {
  const tip = document.querySelector('[data-testid="trace-tip"]');
  done(tip ? { type: tip.dataset.type, name: tip.dataset.name, id: Number(tip.dataset.asyncId), ms: Number(tip.dataset.durationMs) } : null);
}))`;

export interface TraceTip {
  readonly type: string;
  readonly name: string;
  readonly id: number;
  readonly ms: number;
}
