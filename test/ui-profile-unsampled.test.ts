// The CPU profile in the window says how much time passed with no sample, and where it ended,
// as the summary does: a replay, in Chromium through `loopscope serve`, of a user's HTTP server
// blocked in readFileSync (its main thread takes the sampler's signal only when a read returns).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM } from './helpers/browser';
import { FIXTURES } from './helpers/probe-harness';
import { failureShot, openPane, openWindow, showRecordingAtEnd } from './helpers/window';

describe.skipIf(!existsSync(CHROMIUM))('the time the CPU sampler missed, in the window', () => {
  it('is told under the profile of a server blocked in readFileSync, with the function it ended in', async () => {
    const run = await openWindow();
    const { page } = run;
    try {
      await showRecordingAtEnd(run, join(FIXTURES, 'readfile-blocks.lsrec'));
      await openPane(page, 'Profile');
      const note = page.getByTestId('profile-unsampled');
      await expect.poll(() => note.textContent(), { timeout: 15_000 })
        .toMatch(/^\d+ ms of the \d+ ms sampled passed with no sample; \d+ ms of it ended in loadReport \(s1-readfile\.js:6\)\. The sampler's signal waits while the main thread is in a system call/);
    } catch (err) {
      await page.screenshot({ path: failureShot('ui-profile-unsampled', 'readfile') });
      throw err;
    } finally {
      await run.close();
    }
  }, 60_000);
});
