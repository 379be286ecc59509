// Production mode as it runs beside a service: headless, recording on demand into a directory
// kept under its cap, and memory that stays flat under a flood of blocks, pushes and scrapes.

import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from './helpers/probe-harness';
import { freePort, startCli, startProcess, stopAll, waitFor, type Running } from './helpers/fleet';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterEach(stopAll);

const recordings = (dir: string): { name: string; bytes: number }[] =>
  readdirSync(dir).filter((f) => f.endsWith('.lsrec')).map((name) => ({ name, bytes: statSync(join(dir, name)).size }));

describe('loopscope run --headless', () => {
  it('records on demand (HTTP from this machine, or SIGUSR2) into a directory kept under its cap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-rec-'));
    try {
      const port = await freePort();
      const capMb = 4;
      const run = startCli(['run', '--headless', '--mode', 'trace', '--prometheus', `127.0.0.1:${port}`, '--record-dir', dir, '--record-cap', String(capMb),
        '--', process.execPath, join(FIXTURES, 'event-flood.js')], { RUN_MS: '40000' });
      await waitFor(async () => (/probe connected/.test(run.stderr()) ? true : undefined), 15_000, run.stderr);
      expect(run.stdout()).not.toContain('loopscope');
      const url = `http://127.0.0.1:${port}`;

      // A browser's request carries an Origin: refused, so no web page can switch it.
      const fromPage = await fetch(`${url}/recording/start`, { method: 'POST', headers: { Origin: 'http://example.com' } });
      expect(fromPage.status).toBe(403);
      expect(recordings(dir)).toEqual([]);

      const started = await fetch(`${url}/recording/start`, { method: 'POST' });
      expect(started.status).toBe(200);
      const status = (await started.json()) as { recording: boolean; files: string[] };
      expect(status.recording).toBe(true);
      expect(status.files).toHaveLength(1);
      // A trace-mode flood (about a megabyte a second): pieces are cut at a quarter of the cap,
      // checked every second, and the oldest deleted.
      const piece = (f: { name: string }): number => Number(/-(\d+)\.lsrec$/.exec(f.name)?.[1]);
      await waitFor(async () => (recordings(dir).some((f) => piece(f) >= 6) ? true : undefined), 40_000, () => `${JSON.stringify(recordings(dir))} ${run.stderr()}`);
      const kept = recordings(dir);
      const total = kept.reduce((a, f) => a + f.bytes, 0);
      expect(kept.some((f) => piece(f) === 1), JSON.stringify(kept)).toBe(false);
      // The cap, plus what the piece being written took since the last check.
      expect(total, JSON.stringify(kept)).toBeLessThan(capMb * 1e6 * 1.5);
      const stopped = (await (await fetch(`${url}/recording/stop`, { method: 'POST' })).json()) as { recording: boolean; files: string[] };
      expect(stopped.recording).toBe(false);
      const last = stopped.files[0]!;
      expect(last).toMatch(/loopscope-\d+-.*-t0-\d+\.lsrec$/);
      const summary = startCli(['summary', '--json', last]);
      expect((await summary.exit).code, summary.stderr()).toBe(0);
      expect(JSON.parse(summary.stdout()).mode).toBe('trace');

      // SIGUSR2 switches it too, and says so on stderr.
      const before = recordings(dir).length;
      run.child.kill('SIGUSR2');
      await waitFor(async () => (recordings(dir).length > before ? true : undefined), 10_000, run.stderr);
      run.child.kill('SIGUSR2');
      await waitFor(async () => ((run.stderr().match(/recording stopped/g) ?? []).length >= 2 ? true : undefined), 10_000, run.stderr);
      expect(run.stderr()).toMatch(/loopscope: recording into .* \(at most 4 MB kept\)/);

      run.child.kill('SIGTERM');
      expect((await run.exit).code, run.stderr()).toBe(0);
      // Headless: no summary on stdout.
      expect(run.stdout()).not.toMatch(/"pid"|lag /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('attaches again when the probe goes away while the program runs on, and exports the new session', async () => {
    const port = await freePort();
    const run = startCli(['run', '--headless', '--prometheus', `127.0.0.1:${port}`, '--', process.execPath, join(FIXTURES, 'probe-stops.js')], {
      STOP_AFTER_MS: '1500', RUN_MS: '15000',
    });
    await waitFor(async () => ((run.stderr().match(/probe connected/g) ?? []).length >= 2 ? true : undefined), 25_000, run.stderr);
    expect(run.stderr()).toMatch(/probe disconnected\n.*runs on without its probe: attaching again/);
    // One series per loop (the ended session is replaced, not kept beside the new one), counting again.
    await waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const counts = [...text.matchAll(/^loopscope_eventloop_blocked_total\{[^}]*\} (\d+)$/gm)].map((m) => Number(m[1]));
      return counts.length === 1 && counts[0]! >= 2 ? true : undefined;
    }, 15_000, run.stderr);
    run.child.kill('SIGTERM');
    expect((await run.exit).code, run.stderr()).toBe(0);
  }, 60_000);

  it('a --record-dir that cannot be made is refused at the start in one line; one unusable later is said, and the service runs on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-rec-'));
    try {
      const file = join(dir, 'a-file');
      writeFileSync(file, '');
      // /proc/sys/…: the parent exists and the folder cannot be made, where Node's recursive mkdirSync loops for ever.
      for (const [bad, why] of [['/proc/sys/loopscope-test', 'no such file or folder'], [join(file, 'x'), 'a part of the path is a file, not a folder']] as const) {
        const run = startCli(['run', '--headless', '--record-dir', bad, '--', process.execPath, '-e', '0']);
        expect((await run.exit).code).toBe(2);
        expect(run.stderr()).toBe(`loopscope run: --record-dir ${bad}: cannot make that folder: ${why}\nSee loopscope run --help.\n`);
      }
      const port = await freePort();
      const later = join(dir, 'later');
      const run = startCli(['run', '--headless', '--prometheus', `127.0.0.1:${port}`, '--record-dir', later, '--', process.execPath, join(FIXTURES, 'idle.js')], { RUN_MS: '20000' });
      await waitFor(async () => (/probe connected/.test(run.stderr()) ? true : undefined), 15_000, run.stderr);
      expect(statSync(later).mode & 0o777).toBe(0o700);
      rmSync(later, { recursive: true });
      writeFileSync(later, '');
      const started = await fetch(`http://127.0.0.1:${port}/recording/start`, { method: 'POST' });
      expect(started.status).toBe(500);
      expect(await started.json()).toMatchObject({ recording: false, error: `cannot record into ${later}: a part of the path is a file, not a folder` });
      run.child.kill('SIGUSR2');
      await waitFor(async () => ((run.stderr().match(/cannot record into/g) ?? []).length >= 2 ? true : undefined), 10_000, run.stderr);
      run.child.kill('SIGTERM');
      expect((await run.exit).code, run.stderr()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a port in use, and a bad --prometheus, in one line', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (busy.address() as { port: number }).port;
      const inUse = startCli(['run', '--headless', '--prometheus', String(port), '--', process.execPath, '-e', '0']);
      expect((await inUse.exit).code).toBe(2);
      expect(inUse.stderr()).toMatch(new RegExp(`^loopscope run: --prometheus: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use\\n`));
      const bad = startCli(['run', '--prometheus', 'localhost', '--', process.execPath, '-e', '0']);
      expect((await bad.exit).code).toBe(2);
      expect(bad.stderr()).toMatch(/^loopscope run: --prometheus takes \[host:\]port/);
    } finally {
      busy.close();
    }
  });
});

/** Evaluates `expression` in a process through its inspector (Node printed the URL on stderr). */
async function evaluate(run: Running, expression: string): Promise<string> {
  const wsUrl = /Debugger listening on (ws:\/\/\S+)/.exec(run.stderr())?.[1];
  if (!wsUrl) throw new Error(`no inspector URL in: ${run.stderr()}`);
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  try {
    const call = (id: number, method: string, params: object): Promise<{ result?: { result?: { value?: string } } }> => new Promise((resolve) => {
      const onMessage = (data: WebSocket.RawData): void => {
        const m = JSON.parse(data.toString()) as { id?: number };
        if (m.id === id) {
          ws.off('message', onMessage);
          resolve(m as never);
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
    await call(1, 'HeapProfiler.collectGarbage', {});
    const r = await call(2, 'Runtime.evaluate', { expression, returnByValue: true });
    return r.result?.result?.value ?? '';
  } finally {
    ws.close();
  }
}

describe('loopscope run --headless, an hour compressed', () => {
  let receiver: Server | undefined;
  afterEach(() => receiver?.close());

  it('keeps its heap flat under a flood: a sample every 10 ms, ~30 blocks a second, an OTLP push and a scrape every 100 ms', async () => {
    let pushes = 0;
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        pushes++;
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', () => r()));
    const otlp = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    const port = await freePort();
    // loopscope itself under an inspector, to read its heap after a full GC.
    const run = startProcess(process.execPath, ['--inspect=127.0.0.1:0', join(REPO, 'bin', 'loopscope.js'),
      'run', '--headless', '--interval', '10', '--block-threshold', '5', '--prometheus', `127.0.0.1:${port}`, '--otlp', otlp,
      '--', process.execPath, join(FIXTURES, 'blocker.js')], { BLOCK_MS: '7', PERIOD_MS: '30', COUNT: '6000', OTEL_METRIC_EXPORT_INTERVAL: '100' });
    await waitFor(async () => (/probe connected/.test(run.stderr()) ? true : undefined), 15_000, run.stderr);
    let scrapes = 0;
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (res?.ok) {
          await res.text();
          scrapes++;
        }
        await sleep(100);
      }
    })();
    const heap = async (): Promise<{ heapUsed: number; rss: number }> => JSON.parse(await evaluate(run, 'JSON.stringify(process.memoryUsage())')) as { heapUsed: number; rss: number };
    // The session keeps its last 6,000 samples: a minute or more at 10 ms (a loaded probe's
    // intervals run long). Measure once they are full.
    await sleep(75_000);
    const first = await heap();
    const blocksBefore = Number(/loopscope_eventloop_blocked_total\{[^}]*\} (\d+)/.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]);
    await sleep(20_000);
    const second = await heap();
    const blocksAfter = Number(/loopscope_eventloop_blocked_total\{[^}]*\} (\d+)/.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]);
    scraping = false;
    await scraper;
    const grown = second.heapUsed - first.heapUsed;
    const message = `heap ${(first.heapUsed / 1e6).toFixed(1)} → ${(second.heapUsed / 1e6).toFixed(1)} MB, rss ${(first.rss / 1e6).toFixed(1)} → ${(second.rss / 1e6).toFixed(1)} MB; ${blocksAfter - blocksBefore} blocks, ${pushes} pushes, ${scrapes} scrapes`;
    console.log(message);
    expect(blocksAfter - blocksBefore, message).toBeGreaterThan(200);
    expect(pushes, message).toBeGreaterThan(300);
    expect(scrapes, message).toBeGreaterThan(300);
    expect(grown, message).toBeLessThan(2e6);
    expect(second.rss - first.rss, message).toBeLessThan(20e6);
  }, 150_000);
});
