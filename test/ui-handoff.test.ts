// `loopscope serve` opening the user's browser: the URL carries the web token, which anyone
// who has it can use to run commands as the user, and every local user can read every
// process's command line (/proc/<pid>/cmdline). So the opener (a stub xdg-open first on the
// PATH, recording what it was given) gets the path of a page only the user can read, and
// Chromium, given that path as xdg-open would give it, gets from the page to the UI.

import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from './helpers/browser';
import { startServe, type Served } from './helpers/serve-process';

const stub = mkdtempSync(join(tmpdir(), 'loopscope-opener-'));
afterAll(() => rmSync(stub, { recursive: true, force: true }));
writeFileSync(join(stub, 'xdg-open'), [
  '#!/bin/sh',
  'dir=$(dirname "$0")',
  'printf "%s\\0" "$@" > "$dir/argv.tmp" && env > "$dir/env.tmp" && mv "$dir/env.tmp" "$dir/env" && mv "$dir/argv.tmp" "$dir/argv"',
].join('\n'));
chmodSync(join(stub, 'xdg-open'), 0o755);

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

/** What every process this user can see was started with: its arguments and environment. */
function everyProcessText(): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => ['cmdline', 'environ'].flatMap((f) => {
    try {
      return [readFileSync(`/proc/${pid}/${f}`, 'latin1')];
    } catch {
      return []; // gone, or not ours to read
    }
  }));
}

/** serve, opening "the browser" through the stub; the path of the page the stub was given. */
async function serveWithStubOpener(): Promise<{ served: Served; page: string }> {
  rmSync(join(stub, 'argv'), { force: true });
  const served = await startServe({ args: [], env: { PATH: `${stub}:${process.env['PATH'] ?? ''}` } });
  await waitFor(() => existsSync(join(stub, 'argv')), 'the opener to run');
  const argv = readFileSync(join(stub, 'argv'), 'utf8').split('\0').filter(Boolean);
  expect(argv).toHaveLength(1);
  return { served, page: argv[0]! };
}

describe.skipIf(process.platform !== 'linux')('serve opens the browser without the token on any command line', () => {
  it('gives the opener a page only the user can read, and puts the token in no process\'s arguments or environment', async () => {
    const { served, page } = await serveWithStubOpener();
    try {
      const token = new URL(served.url).pathname.split('/')[1]!;
      expect(token.length).toBeGreaterThan(20);
      expect(readFileSync(join(stub, 'argv'), 'latin1')).not.toContain(token);
      expect(readFileSync(join(stub, 'env'), 'latin1')).not.toContain(token);
      expect(everyProcessText().filter((t) => t.includes(token))).toEqual([]);

      expect(statSync(page).mode & 0o777).toBe(0o600);
      expect(statSync(dirname(page)).mode & 0o777).toBe(0o700);
      expect(readFileSync(page, 'utf8')).toContain(`url=${served.url}"`);
    } finally {
      await served.stop();
    }
    expect(existsSync(page)).toBe(false);
  });
});

describe.skipIf(process.platform !== 'linux' || !existsSync(CHROMIUM))('the UI in Chromium, opened through the hand-off page', () => {
  it('goes from the page to the UI, which lists processes over its WebSocket', async () => {
    const { served, page: handoff } = await serveWithStubOpener();
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`file://${handoff}`);
      await page.waitForURL(served.url, { timeout: 15_000 });
      await page.getByRole('heading', { name: 'Your Node.js processes' }).waitFor({ timeout: 10_000 });
      await page.locator('table.processes tr[data-pid]').first().waitFor({ timeout: 10_000 });
    } finally {
      await browser.close();
      await served.stop();
    }
  });
});
