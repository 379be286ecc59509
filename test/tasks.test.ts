// tasks and trace modes in real target processes, over a real socket.

import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runProbed, waitFor, FIXTURES } from './helpers/probe-harness';
import { launch } from '../main/launch/launch';
import { probePath } from '../main/launch/probe-path';
import { createPrivateDir } from '../main/server/private-dir';
import { countOf, percentileUs } from '../probe/log-histogram';
import { FrameReader } from '../probe/wire-framing';
import { ProbeDecoder } from '../probe/wire-decoder';
import { causalChain, causalTree, type CausalNode } from '../main/session/trace-model';
import { summarize } from '../main/reports/summary';

const context = { durationMs: 0, exitCode: null, warnings: [] };

describe('tasks mode', () => {
  it('counts exactly the timers and file reads a fixture makes, and times a sample of a busy type', async () => {
    const run = await runProbed('task-counts.js', { N: '25', TICKS: '4000' }, { mode: 'tasks' });
    await run.exit;
    await run.closed;
    await run.server.close();
    const { byType } = run.state().tasks;
    expect(byType['Timeout']).toMatchObject({ created: 26, destroyed: 26, callbacks: 26, alive: 0 }); // 25 and the fixture's start timer
    expect(byType['FSREQCALLBACK']).toMatchObject({ created: 25, destroyed: 25, callbacks: 25, alive: 0 });
    // Few: every one timed. A burst of thousands in an interval: the first 64, then one in 8.
    expect(countOf(byType['Timeout']!.callbackUs)).toBe(26);
    expect(countOf(byType['FSREQCALLBACK']!.queueUs)).toBe(25);
    const ticks = byType['TickObject']!;
    expect(ticks.callbacks).toBeGreaterThanOrEqual(4000);
    expect(countOf(ticks.callbackUs) / ticks.callbacks).toBeGreaterThan(0.1);
    expect(countOf(ticks.callbackUs) / ticks.callbacks).toBeLessThan(0.3);
    const summary = summarize(run.feed, context);
    expect(summary.tasks!.byType['FSREQCALLBACK']!.queueMs!.p50).toBeGreaterThan(0);
    expect(summary.tasks!.promisesTracked).toBe(false);
    expect(byType['PROMISE']).toBeUndefined();
  });

  it('shows the queue time of the second four of eight pbkdf2 calls on a pool of four', async () => {
    const run = await runProbed('pool-saturation.js', { UV_THREADPOOL_SIZE: '4' }, { mode: 'tasks' });
    await run.exit;
    await run.closed;
    await run.server.close();
    const tasks = run.state().tasks;
    const pbkdf2 = tasks.byType['PBKDF2REQUEST']!;
    expect(pbkdf2.created).toBe(8);
    expect(tasks.threadpool).toMatchObject({ size: 4, maxInFlight: 8, maxQueued: 4 });
    // The second four cannot start before one of the first four ends, and need as much work
    // again: the slowest waits well over the fastest (twice, on an idle machine).
    const fastest = percentileUs(pbkdf2.queueUs, 0);
    const slowest = percentileUs(pbkdf2.queueUs, 100);
    expect(slowest, `queue times ${JSON.stringify(pbkdf2.queueUs)}`).toBeGreaterThan(1.5 * fastest);
    expect(summarize(run.feed, context).tasks!.threadpool.saturated).toBe(true);
  });

  it('takes no hook with it when modes are switched on and off', async () => {
    const run = await runProbed('hook-count.js', { RUN_MS: '8000' }, { mode: 'metrics' }, { nodeArgs: ['--expose-internals'] });
    const connection = await run.connection;
    const hooksNow = () => JSON.parse(run.stdout.at(-1) ?? '{"hooks":-1}').hooks as number;
    await waitFor(() => run.stdout.length > 0 && hooksNow() === 0, 'no hooks in metrics mode');
    connection.configure({ mode: 'tasks' });
    await waitFor(() => hooksNow() === 1, 'one hook in tasks mode');
    await waitFor(() => run.messages.some((m) => m.type === 'tasks'), 'a tasks sample');
    connection.configure({ mode: 'trace' });
    await waitFor(() => run.messages.some((m) => m.type === 'taskEvents'), 'trace events');
    expect(hooksNow()).toBe(1);
    connection.configure({ mode: 'metrics' });
    await waitFor(() => hooksNow() === 0, 'no hooks back in metrics mode');
    run.child.kill();
    await run.exit;
    await run.server.close();
  });
});

describe('trace mode', () => {
  it('gives the tasks views from its events, every callback timed', async () => {
    const run = await runProbed('task-counts.js', { N: '25', TICKS: '4000' }, { mode: 'trace' });
    await run.exit;
    await run.closed;
    await run.server.close();
    // The probe sent them without the views (loopscope works those out): every one came whole.
    expect(run.messages.filter((m) => m.type === 'tasks').every((m) => m.type === 'tasks' && m.sample.fromEvents === undefined)).toBe(true);
    const { byType } = run.state().tasks;
    expect(byType['Timeout']).toMatchObject({ created: 26, destroyed: 26, callbacks: 26, alive: 0 });
    expect(byType['FSREQCALLBACK']).toMatchObject({ created: 25, destroyed: 25, callbacks: 25, alive: 0 });
    expect(countOf(byType['FSREQCALLBACK']!.queueUs)).toBe(25);
    const ticks = byType['TickObject']!;
    expect(ticks.callbacks).toBeGreaterThanOrEqual(4000);
    expect(countOf(ticks.callbackUs)).toBe(ticks.callbacks);
    expect(byType['PROMISE']).toBeUndefined();
    expect(run.state().tasks.fanOut.max).toBeGreaterThanOrEqual(4000);
    // Each timer's lateness is read in the target as it fires (its marks: probe/id-marks.ts).
    expect(run.state().tasks.timers.fired).toBe(26);
  });

  it('shows the thread pool saturated by eight pbkdf2 calls on a pool of four', async () => {
    const run = await runProbed('pool-saturation.js', { UV_THREADPOOL_SIZE: '4' }, { mode: 'trace' });
    await run.exit;
    await run.closed;
    await run.server.close();
    const tasks = run.state().tasks;
    expect(tasks.byType['PBKDF2REQUEST']).toMatchObject({ created: 8, callbacks: 8 });
    expect(tasks.threadpool).toMatchObject({ size: 4, maxInFlight: 8, maxQueued: 4 });
  });

  it('rebuilds the causality chain of a request, from the accepted connection to the response', async () => {
    const run = await runProbed('http-request.js', {}, { mode: 'trace' });
    await run.exit;
    await run.closed;
    await run.server.close();
    const { trace } = run.feed;
    const incoming = [...trace.resources.values()].find((r) => r.type === 'HTTPINCOMINGMESSAGE')!;
    expect(incoming).toBeDefined();
    // (The server handle itself was created from the nextTick that listen() defers to.)
    const chain = causalChain(trace, incoming.asyncId);
    expect(chain.map((r) => r.type).slice(-3)).toEqual(['TCPSERVERWRAP', 'TCPWRAP', 'HTTPINCOMINGMESSAGE']);
    // What the accepted connection caused includes the handler's timer and the response's shutdown.
    const connectionId = chain[chain.length - 2]!.asyncId;
    const types = new Set<string>();
    const walk = (n: CausalNode): void => { types.add(n.type); n.children.forEach(walk); };
    walk(causalTree(trace, connectionId)!);
    expect(types).toContain('Timeout');
    expect(types).toContain('SHUTDOWNWRAP');
    expect(trace.turns.length).toBeGreaterThan(1);
    expect(trace.turns.some((t) => t.slices.some((s) => s.type === 'Timeout'))).toBe(true);
  });

  it('keeps the target\'s memory bounded and counts drops while loopscope reads nothing', async () => {
    // A bare server that takes the probe's connection and then stops reading for a while.
    const dir = createPrivateDir();
    const address = join(dir.path, 'stalled.sock');
    let socketReady: (s: import('node:net').Socket) => void = () => undefined;
    const accepted = new Promise<import('node:net').Socket>((r) => (socketReady = r));
    const server = createServer((s) => { s.pause(); socketReady(s); }).listen(address);
    const child = launch({
      command: process.execPath, args: [join(FIXTURES, 'event-flood.js')], probeFile: probePath(), socketPath: address, token: 'any',
      config: { mode: 'trace', promises: false, intervalMs: 100, blockThresholdMs: 50 }, stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, RUN_MS: '5000' },
    });
    const rss: number[] = [];
    child.stdout!.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach((l) => rss.push(JSON.parse(l).rss)));
    const socket = await accepted;
    await new Promise((r) => setTimeout(r, 3500));
    const reader = new FrameReader();
    const decoder = new ProbeDecoder();
    let dropped = 0;
    socket.on('data', (chunk) => {
      for (const f of reader.push(chunk)) {
        const m = decoder.decode(f);
        if (m.type === 'drops') dropped = Object.values(m.drops.frames).reduce((a, b) => a + b, 0);
      }
    });
    socket.resume();
    await waitFor(() => dropped > 0, 'a drop counter');
    child.kill();
    server.close();
    dir.remove();
    // Stalled for 3.5 s at full speed: the probe's buffers are a few MB, and nothing grows past them.
    const early = rss[2]!;
    const late = Math.max(...rss.slice(3));
    expect(late - early).toBeLessThan(48 * 1024 * 1024);
  });
});

describe('creation stacks', () => {
  it.each(['tasks', 'trace'] as const)('honour source maps when the target runs with --enable-source-maps (%s mode)', async (mode) => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { transformSync } = await import('esbuild');
    // TypeScript compiled with an inline source map: lines move, so only the map can say
    // where the timer was made in the original.
    const source = [
      'type Job = { ms: number };',
      'const job: Job = { ms: 40 };',
      '',
      'function spin(ms: number): void {',
      '  const end = Date.now() + ms;',
      '  while (Date.now() < end);',
      '}',
      '',
      'setTimeout(() => spin(job.ms), 200); // line 9',
      '',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-sourcemap-'));
    const file = join(dir, 'slow-timer.js');
    writeFileSync(file, transformSync(source, { loader: 'ts', sourcemap: 'inline', sourcefile: join(dir, 'slow-timer.ts') }).code);
    const run = await runProbed(file, {}, { mode }, { nodeArgs: ['--enable-source-maps'] });
    await run.exit;
    await run.closed;
    await run.server.close();
    rmSync(dir, { recursive: true, force: true });
    const slow = run.state().tasks.slowCallbacks.find((c) => c.type === 'Timeout' && c.durationUs > 30_000);
    expect(slow, 'the slow timer callback').toBeDefined();
    expect(slow!.initStack.find((f) => f.url.endsWith('slow-timer.ts'))).toMatchObject({ lineNumber: 9 });
  });
});
