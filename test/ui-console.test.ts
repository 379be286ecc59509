// A launched program's output and the launch options (issue 16, item 3), in Chromium through
// `loopscope serve`: VAR=value prefixes, a working directory, the mode, the block threshold
// and promises from the Start screen; the program's stdout and stderr in the console pane,
// kept with its exit code once it dies, and quoted when it dies before its probe connects; a
// PID box; each process's working directory and uptime, loopscope's own left out; ended
// sessions closed. And the program outlives a loopscope killed under it, still writing.

import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CHROMIUM, launchChromium, type Browser } from './helpers/browser';
import { killAll, startLoopscope, startTarget, type CliRun, type Target } from './helpers/attach-harness';
import { REPO } from './helpers/probe-harness';
import { callHost, sessionViewOf, startServe, type Served } from './helpers/serve-process';
import { ARTIFACTS, docScreenshot, failureShot, openPane } from './helpers/window';

const FIXTURE = resolve(__dirname, 'fixtures/window-console.js');
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!existsSync(CHROMIUM))('launching from the window, and the program\'s output', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let target: Target;
  let run: CliRun;
  let workDir: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    workDir = realpathSync(mkdtempSync(join(tmpdir(), 'loopscope-console-')));
    // A process to attach to by its PID (its inspector on a port of its own), and a `loopscope run`, which is not one to list.
    run = startLoopscope(['run', '--duration', '60', '--', process.execPath, join(REPO, 'test/fixtures/ui-target.js')]);
    [served, browser, target] = await Promise.all([startServe(), launchChromium(), startTarget('ui-target.js', { nodeArgs: ['--inspect-port=0'] })]);
    page = await browser.context.newPage();
    await page.goto(served.url);
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await page?.screenshot({ path: failureShot('ui-console', context.task.name) });
  });

  afterAll(async () => {
    // SIGTERM: `run` stops its program too.
    if (run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await run.done;
    }
    await killAll();
    await browser?.close();
    await served?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('launches with VAR=value prefixes, a working directory, the mode, the block threshold and promises; shows its output, and keeps it with the exit code when it dies', async () => {
    await page.getByLabel('mode').selectOption('tasks');
    await page.getByLabel('block threshold (ms)').fill('80');
    await page.getByLabel('track promises').check();
    await page.getByLabel('command to launch').fill(`GREETING='hi there' EXIT_CODE=3 EXIT_AFTER_MS=3000 node ${FIXTURE}`);
    await page.getByLabel('working directory').fill(workDir);
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    await page.getByTestId('overview').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('group', { name: 'mode' }).getByRole('button', { name: 'tasks' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('.session-header .who').textContent()).toMatch(/threshold 80 ms · promises tracked/);
    await openPane(page, 'Console');
    const lines = page.getByTestId('console-lines');
    await expect.poll(() => lines.textContent(), { timeout: 10_000 }).toMatch(/line 2 on stderr/);
    const text = (await lines.textContent())!;
    expect(text).toContain('greeting hi there');
    expect(text).toContain(`cwd ${workDir}`);
    expect(text).toMatch(/line 1 on stdout\nline 2 on stderr/);
    await expect.poll(() => page.getByTestId('console-exit').textContent(), { timeout: 15_000 }).toBe('The program exited with code 3');
    // The exit shows with the view; the last lines come with the fetch that view starts.
    await expect.poll(() => lines.textContent()).toMatch(/greeting hi there[\s\S]*fatal: giving up$/);
    await expect.poll(() => page.getByTestId('status').textContent()).toBe('ended');
    expect(await page.getByRole('tab', { name: /^Console/ }).locator('.count.bad').count()).toBe(1);
    await page.screenshot({ path: docScreenshot('window-console.png') });
  });

  it('closes the ended session', async () => {
    await page.locator('.session-header').getByRole('button', { name: 'Close' }).click();
    await page.getByLabel('command to launch').waitFor();
    expect(await page.locator('.sessions li').filter({ hasText: 'window-console.js' }).count()).toBe(0);
  });

  it('says what a program wrote before it died at its start', async () => {
    await page.getByLabel('working directory').fill('');
    await page.getByLabel('command to launch').fill('node -e "console.error(\'boom: no config file\'); process.exit(2)"');
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    // Its probe may say hello before the program dies, or not: an error that quotes its
    // output, or a session whose console holds it and how it ended.
    const alert = page.getByRole('alert');
    const status = page.getByTestId('status');
    await expect.poll(async () => (await alert.count()) + (await status.count()), { timeout: 15_000 }).toBeGreaterThan(0);
    if (await alert.count() > 0) {
      expect(await alert.textContent()).toMatch(/exited \(code 2\) before its probe connected\. Its last output:\nboom: no config file/);
      return;
    }
    await openPane(page, 'Console');
    await expect.poll(() => page.getByTestId('console-exit').textContent(), { timeout: 10_000 }).toBe('The program exited with code 2');
    await expect.poll(() => page.getByTestId('console-lines').textContent()).toContain('boom: no config file');
    await page.locator('.session-header').getByRole('button', { name: 'Close' }).click();
    await page.getByLabel('command to launch').waitFor();
  });

  it('refuses a working directory that is not there, saying which', async () => {
    await page.getByLabel('working directory').fill(join(workDir, 'missing'));
    await page.getByLabel('command to launch').fill('node -e 1');
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe(`the working directory ${join(workDir, 'missing')} does not exist: give an existing folder, or leave it empty for loopscope's own`);
    await page.getByLabel('working directory').fill('');
  });

  it('lists each process with its working directory and uptime, and not loopscope\'s own', async () => {
    const row = page.locator(`tr[data-pid="${target.pid}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getByTestId('process-cwd').textContent()).toBe(process.cwd());
    expect(await row.getByTestId('process-uptime').textContent()).toMatch(/^\d+ (s|min)$/);
    // The program `run` started is listed (with its probe inside); `run` itself is not.
    await expect.poll(() => page.locator('tr', { hasText: 'a loopscope probe is already inside' }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.locator(`tr[data-pid="${run.child.pid}"]`).count()).toBe(0);
    expect(await page.locator('tr', { hasText: 'loopscope.js' }).count()).toBe(0);
  });

  it('attaches to the PID typed in its box', async () => {
    await page.getByLabel('mode').selectOption('metrics');
    await page.getByLabel('PID to attach').fill(String(target.pid));
    await page.locator('form').filter({ has: page.getByLabel('PID to attach') }).getByRole('button', { name: 'Attach' }).click();
    await page.getByTestId('overview').waitFor({ timeout: 15_000 });
    expect(await page.locator('.session-header .who strong').textContent()).toBe(`pid ${target.pid}`);
    await expect.poll(() => page.getByTestId('status').textContent()).toBe('live');
    await openPane(page, 'Console');
    expect(await page.getByTestId('console-none').textContent()).toMatch(/attached process keeps its own stdout and stderr/);
    await page.getByRole('button', { name: 'Detach' }).click();
    await expect.poll(() => page.getByTestId('status').textContent()).toBe('ended');
  });

  it('leaves a launched program running and writing when loopscope is killed', async () => {
    const own = await startServe();
    let pid = 0;
    try {
      const id = String(await callHost(own.url, 'launch', [[process.execPath, FIXTURE], {}, { env: { INTERVAL_MS: '20' } }]));
      await expect.poll(async () => (await sessionViewOf(own.url, id)).output?.total ?? 0, { timeout: 10_000 }).toBeGreaterThan(10);
      pid = (await sessionViewOf(own.url, id)).pid;
      own.child.kill('SIGKILL');
      await new Promise((r) => own.child.once('exit', r));
      // It writes every 20 ms; a write to a pipe whose reader died would make it exit (code 9).
      await new Promise((r) => setTimeout(r, 1500));
      expect(alive(pid)).toBe(true);
    } finally {
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      await own.stop();
    }
  });
});
