// Shared steps of the window's tests in Chromium: where screenshots go, opening a session
// from the Start screen, switching panes, and where things are on the page.

import { resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';

export const ARTIFACTS = resolve(__dirname, '../../test-artifacts');

/** Shows the open session whose line on the Start screen holds `text`. */
export async function showSession(page: Page, text: string): Promise<void> {
  await page.getByRole('listitem').filter({ hasText: text }).getByRole('button', { name: 'Show' }).click();
  await page.getByTestId('overview').waitFor({ timeout: 15_000 });
}

/** Switches the session screen's tab panel to `name` (Blocks, Tasks, Trace, Console). */
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
