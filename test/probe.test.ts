// The probe in real target processes, over a real socket.

import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { runProbed, waitFor } from './helpers/probe-harness';
import { startProbeServer } from '../main/server/probe-server';
import { PROTOCOL_VERSION } from '../probe/wire';
import { FrameReader } from '../probe/wire-framing';
import { encodeHello } from '../probe/wire-json';
import { decodeControl } from '../probe/wire-decoder';
import { summarize } from '../main/reports/summary';
import { beatLagMs, LagRecorder } from '../probe/sampler';

const context = { durationMs: 0, exitCode: null, warnings: [] };

describe('probe in metrics mode', () => {
  it('measures an injected block and names the function and line that blocked', async () => {
    const run = await runProbed('blocker.js', { BLOCK_MS: '120', PERIOD_MS: '400', COUNT: '3' });
    const exit = await run.exit;
    await run.closed;
    await run.server.close();
    expect(exit.code).toBe(0);
    const summary = summarize(run.feed, context);
    // The stall is measured from the loop's active time. Its accuracy is lag-accuracy.mjs's to
    // measure; here, that it is this block: a thread descheduled at a busy wait's end (a loaded
    // machine) lengthens it, and a second block counted in would double it.
    expect(summary.lag.maxMs).toBeGreaterThanOrEqual(119);
    expect(summary.lag.maxMs).toBeLessThan(170);
    expect(summary.blocked).toHaveLength(3);
    for (const b of summary.blocked) {
      expect(b.ongoing).toBe(false);
      expect(b.durationMs).toBeGreaterThan(115);
      expect(b.durationMs).toBeLessThan(170);
      const top = b.stack.find((f) => f.url.endsWith('blocker.js'));
      expect(top).toMatchObject({ functionName: 'blockFor', lineNumber: 14 });
    }
  });

  it('reports blocks inside synchronous native calls with the frame that made the call', async () => {
    const run = await runProbed('native-block.js', {}, { blockThresholdMs: 20 });
    await run.exit;
    await run.closed;
    await run.server.close();
    const names = run.state().blocked.map((b) => b.stack.map((f) => f.functionName));
    for (const caller of ['compressEverything', 'deriveKey', 'readHugeFile']) {
      expect(names.some((frames) => frames.includes(caller)), `a blocked report naming ${caller}`).toBe(true);
    }
  });

  it('samples every interval: utilization, CPU, memory, resources and GC', async () => {
    const run = await runProbed('allocate.js', {}, { intervalMs: 50 });
    await run.exit;
    await run.closed;
    await run.server.close();
    const state = run.state();
    expect(state.totals.samples).toBeGreaterThan(8);
    expect(state.totals.gcCount).toBeGreaterThan(0);
    const s = run.feed.recent.at(2);
    expect(s.intervalUs).toBeGreaterThan(30_000);
    expect(s.intervalUs).toBeLessThan(150_000);
    expect(s.heapUsedBytes).toBeGreaterThan(0);
    expect(s.rssBytes).toBeGreaterThan(s.heapUsedBytes);
    expect(s.utilization).toBeGreaterThan(0);
    expect(s.resources.find((r) => r.type === 'Timeout')?.count).toBeGreaterThanOrEqual(1);
    expect(state.goodbye).toMatchObject({ reason: 'target exiting', exitCode: 0 });
    // The probe's own time: its beats on the main thread, and its worker's busy time.
    const own = run.feed.recent.slice(1, -1);
    const mainUs = own.reduce((a, x) => a + x.probeMainUs, 0);
    const workerUs = own.reduce((a, x) => a + x.probeWorkerUs, 0);
    const intervalUs = own.reduce((a, x) => a + x.intervalUs, 0);
    expect(mainUs).toBeGreaterThan(0);
    expect(workerUs).toBeGreaterThan(0);
    expect(mainUs + workerUs).toBeLessThan(intervalUs / 2);
  });

  it('leaves the exit code of the target untouched', async () => {
    const run = await runProbed('idle.js', { RUN_MS: '300', EXIT_CODE: '7' });
    expect((await run.exit).code).toBe(7);
    await run.closed;
    await run.server.close();
    expect(run.state().goodbye?.exitCode).toBe(7);
  });

  it('keeps the target running, and turns itself off, when loopscope goes away', async () => {
    const run = await runProbed('idle.js', { RUN_MS: '2500' });
    await waitFor(() => run.messages.some((m) => m.type === 'metrics'), 'a first sample');
    await waitFor(() => run.stdout.some((l) => l.includes('"probe":true')), 'the target to see its probe');
    await run.server.close(); // loopscope dies mid-stream
    const linesBefore = run.stdout.length;
    await waitFor(() => run.stdout.slice(linesBefore).some((l) => l.includes('"probe":false')), 'the probe to turn off');
    const exit = await run.exit;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(run.stdout.at(-1)).toContain('"alive":true');
  });

  it('turns off when the token is refused, and the target carries on', async () => {
    const run = await runProbed('idle.js', { RUN_MS: '1200' }, {}, { token: 'not-a-token-it-issued' });
    const exit = await run.exit;
    await run.server.close();
    expect(exit.code).toBe(0);
    expect(run.stdout.at(-1)).toContain('"probe":false');
    expect(run.messages).toHaveLength(0);
  });
});

describe('probe server', () => {
  const raw = (address: string, bytes: Uint8Array) =>
    new Promise<{ replies: ReturnType<typeof decodeControl>[]; closed: boolean }>((resolve) => {
      const socket = connect(address);
      const reader = new FrameReader();
      const replies: ReturnType<typeof decodeControl>[] = [];
      socket.on('data', (d) => replies.push(...reader.push(d).map(decodeControl)));
      socket.on('connect', () => socket.write(bytes));
      socket.on('close', () => resolve({ replies, closed: true }));
      socket.on('error', () => undefined);
    });

  const hello = (token: string) => encodeHello({
    protocol: PROTOCOL_VERSION, token, probeVersion: 'test', pid: 1, ppid: 0, nodeVersion: 'v20', platform: 'linux', arch: 'x64',
    argv: [], execArgv: [], title: 't', cwd: '/', threadId: 0, timeOriginMs: 0,
    config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, loadedBy: 'preload',
  });

  it('refuses a wrong token, a reused token and garbage, and keeps serving', async () => {
    const server = await startProbeServer();
    const rejected: string[] = [];
    server.onRejected((r) => rejected.push(r));
    let accepted = 0;
    server.onConnection(() => accepted++);

    const wrong = await raw(server.address, hello('guess'));
    expect(wrong.replies).toEqual([{ type: 'reject', reject: { reason: 'unknown or already used token' } }]);

    const garbage = await raw(server.address, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    expect(garbage.closed).toBe(true);
    expect(rejected[1]).toMatch(/unsupported protocol version|bad frame length|unknown message type/);

    const token = server.issueToken();
    const socket = connect(server.address);
    socket.write(hello(token));
    await waitFor(() => accepted === 1, 'the valid probe to be accepted');
    const reused = await raw(server.address, hello(token));
    expect(reused.replies[0]).toMatchObject({ type: 'reject' });
    socket.destroy();
    await server.close();
    expect(rejected).toHaveLength(3);
  });

  it('makes its socket private to the user', async () => {
    const { statSync } = await import('node:fs');
    const { dirname } = await import('node:path');
    const server = await startProbeServer();
    expect(statSync(dirname(server.address)).mode & 0o777).toBe(0o700);
    expect(statSync(server.address).mode & 0o777).toBe(0o600);
    await server.close();
  });
});

describe('blocked-loop stacks', () => {
  it('honour source maps when the target runs with --enable-source-maps', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { transformSync } = await import('esbuild');
    const source = [
      'interface Work { ms: number }',
      'const work: Work = { ms: 120 };',
      '',
      'function renderReport(ms: number): number {',
      '  const end = Date.now() + ms;',
      '  let n = 0;',
      '  while (Date.now() < end) n++; // line 7',
      '  return n;',
      '}',
      '',
      'setTimeout(() => renderReport(work.ms), 200);',
      '',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-sourcemap-'));
    const file = join(dir, 'report.js');
    writeFileSync(file, transformSync(source, { loader: 'ts', sourcemap: 'inline', sourcefile: join(dir, 'report.ts') }).code);
    const run = await runProbed(file, {}, {}, { nodeArgs: ['--enable-source-maps'] });
    await run.exit;
    await run.closed;
    await run.server.close();
    rmSync(dir, { recursive: true, force: true });
    const [block] = run.state().blocked;
    expect(block?.stack.find((f) => f.functionName === 'renderReport')).toMatchObject({ lineNumber: 7 });
    expect(block?.stack.find((f) => f.functionName === 'renderReport')?.url).toMatch(/report\.ts$/);
  });
});

describe('loop lag from heartbeats', () => {
  it('takes the busy stretch that held a beat, not the beat\'s lateness, which depends on where the block fell', () => {
    expect(beatLagMs(17.8, 20.2, 2.5)).toBe(20.2); // the block began early in the period
    expect(beatLagMs(21.3, 20.2, 2.5)).toBe(20.2); // idle time after the block made the beat later still
    expect(beatLagMs(0.4, 0, 2.5)).toBe(0.4);
    expect(beatLagMs(-0.6, 0, 2.5)).toBe(0); // a timer may fire up to a ms early
  });

  it('takes the lateness when the loop was held by something other than running code', () => {
    expect(beatLagMs(30, 0.3, 10)).toBe(30); // the process was not running: the loop was idle, yet late
  });

  it('gives exact statistics and percentiles for one interval, then starts the next', () => {
    const lag = new LagRecorder();
    for (const us of [300, 100, 200, 20_000, 400]) lag.record(us, us === 20_000 ? 20_000 : 0);
    expect(lag.take()).toEqual({
      minUs: 100, meanUs: 4200, p50Us: 300, p90Us: 20_000, p99Us: 20_000, maxUs: 20_000, count: 5, stallMaxUs: 20_000,
      percentiles: [[20, 100], [40, 200], [60, 300], [80, 400], [100, 20_000]],
    });
    expect(lag.take()).toMatchObject({ count: 0, maxUs: 0, minUs: 0, percentiles: [] });
  });

  it('keeps its memory bounded in a long interval, with exact count and max', () => {
    const lag = new LagRecorder();
    for (let i = 1; i <= 100_000; i++) lag.record(i, 0);
    const stats = lag.take();
    expect(stats).toMatchObject({ count: 100_000, minUs: 1, maxUs: 100_000 });
    expect(stats.percentiles).toHaveLength(32);
    expect(stats.p50Us).toBeGreaterThan(40_000);
    expect(stats.p50Us).toBeLessThan(60_000);
  });
});
