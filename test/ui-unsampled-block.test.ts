// A block without CPU samples, in Chromium through `loopscope serve`: a program launched from
// the window blocks inside JSON.parse as it starts, before the sampler's first start (which
// the main thread serves), then again from a timer once the sampler runs. The first block's
// detail says why it has no samples; the second's stack comes from its samples.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM } from './helpers/browser';
import { callHost } from './helpers/serve-process';
import { failureShot, openPane, openWindow, showSession, type WindowRun } from './helpers/window';

const FIXTURE = resolve(__dirname, 'fixtures/start-block.js');

describe.skipIf(!existsSync(CHROMIUM))('a block without samples, in the window', () => {
  let run: WindowRun;
  let page: Page;

  beforeAll(async () => {
    run = await openWindow();
    page = run.page;
    await callHost(run.served.url, 'launch', [[process.execPath, FIXTURE, 'hold'], {}]);
    await showSession(page, 'start-block.js');
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-unsampled-block', context.task.name) });
  });

  afterAll(() => run?.close());

  it('says why the block at the start has no samples, and the later one shows its samples', async () => {
    await openPane(page, 'Blocks');
    const groups = page.getByTestId('block-group');
    await expect.poll(() => groups.count(), { timeout: 20_000 }).toBe(2);
    const detail = page.getByTestId('block-detail');
    const seen: { source: string | null; unsampled: string | null; samples: string | null; stack: string | null }[] = [];
    for (let i = 0; i < 2; i++) {
      await groups.nth(i).locator('button.block-group').click();
      // The group's longest block, then that block itself.
      await page.locator('.block-reports button').first().click();
      await detail.locator('h3').waitFor();
      seen.push({
        source: await detail.locator('h3 .source').textContent(),
        unsampled: (await detail.getByTestId('block-unsampled').count()) > 0 ? await detail.getByTestId('block-unsampled').textContent() : null,
        samples: (await detail.getByTestId('block-samples').count()) > 0 ? await detail.getByTestId('block-samples').textContent() : null,
        stack: await detail.locator('.stack').textContent(),
      });
    }
    const detailText = JSON.stringify(seen);
    const atStart = seen.find((s) => s.unsampled !== null);
    expect(atStart?.unsampled, detailText).toBe('No CPU samples: the CPU sampler had not started yet.');
    expect(atStart?.samples, detailText).toBeNull();
    const later = seen.find((s) => s !== atStart);
    expect(later, detailText).toMatchObject({ source: 'samples', unsampled: null });
    expect(later?.stack, detailText).toContain('parseLater');
  });
});
