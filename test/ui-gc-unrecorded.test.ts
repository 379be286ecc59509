// GC pauses V8's trace has only half of, in the window, in Chromium through `loopscope serve`:
// a recording whose probe told, midway, of 3 pauses whose begin or end the trace lost (probe/
// gc-trace.ts) is opened for replay. The key findings say so from that point of the recording
// on, and not before it. Their screenshot goes to test-artifacts/gc-unrecorded.png.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { RecordingWriter } from '../main/recording/recording-writer';
import { GC_PAUSES_UNRECORDED, MessageType } from '../probe/wire';
import { encodeDrops } from '../probe/wire-json';
import { CHROMIUM } from './helpers/browser';
import { syntheticHello, syntheticSession, toRaw } from './helpers/recording-synthetic';
import { ARTIFACTS, failureShot, openWindow, showRecording, type WindowRun } from './helpers/window';

describe.skipIf(!existsSync(CHROMIUM))('GC pauses not recorded, in the window', () => {
  let dir: string;
  let run: WindowRun;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-gc-unrecorded-'));
    const file = join(dir, 'unrecorded.lsrec');
    const writer = RecordingWriter.create(file);
    const t0 = Date.now();
    writer.start(syntheticHello, t0);
    // 30 s of samples; the probe tells of the lost pauses 20 s in. Its drops are totals so far:
    // the synthetic session's own (none) would take them back.
    const session = syntheticSession(300).filter((f) => f.raw.type !== MessageType.Drops);
    const frames = [...session, { raw: toRaw(encodeDrops({ frames: { [GC_PAUSES_UNRECORDED]: 3 }, bytes: 0 })), atMs: 20_000 }].sort((a, b) => a.atMs - b.atMs);
    for (const f of frames) writer.write(f.raw, t0 + f.atMs);
    await writer.close({ exitCode: 0, warnings: [] });
    run = await openWindow();
    page = run.page;
    await showRecording(run, file);
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-gc-unrecorded', context.task.name) });
  });

  afterAll(async () => {
    await run?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says among the key findings how many pauses the GC chart is short of, from the point the probe told of them', async () => {
    const slider = page.getByRole('slider', { name: 'replay position' });
    const findings = page.getByTestId('key-findings');
    const note = findings.locator('li.finding', { hasText: /GC pauses? not recorded/ });
    await slider.press('End');
    await expect.poll(() => note.count(), { timeout: 15_000 }).toBe(1);
    expect(await note.textContent()).toBe('3 GC pauses not recorded: V8\'s trace lost their begin or end as the probe\'s GC tracing changed sessions, so the GC chart and counts are short by them');
    // Below the blocked loops: it tells how far to trust the GC figures, not a cause of lag.
    expect(await findings.locator('li.finding').last().textContent()).toBe(await note.textContent());
    await findings.screenshot({ path: `${ARTIFACTS}/gc-unrecorded.png` });
    await slider.press('Home');
    await expect.poll(() => note.count(), { timeout: 15_000 }).toBe(0);
  });
});
