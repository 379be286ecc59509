// `loopscope attach` on real processes: the real CLI attaches to real targets started here
// with no flags, over the real inspector and the real probe socket, and the tests check what
// the user sees and what the target went through.

import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileLinks } from '../main/attach/proc-info';
import { isProbeFile } from '../main/attach/probe-marker';
import { FIXTURES } from './helpers/probe-harness';
import { eventually, killAll, listening, loopscope, sleep, startLoopscope, startTarget, unexpectedStderr, type Target } from './helpers/attach-harness';
import { NODE_VERSIONS, otherNode } from './helpers/node-versions';

afterEach(killAll);

const INSPECTOR_PORT = 9229;

function blockLine(fixture: string): number {
  return readFileSync(join(FIXTURES, fixture), 'utf8').split('\n').findIndex((l) => l.includes('BLOCK LINE')) + 1;
}

/**
 * The longest block with a stack. A block in the first moments of the probe has none (its
 * watchdog thread is still starting), and may be longer than the fixture's own: it can hold
 * the target's close of the inspector that the injection reopened (SIGUSR1's wake-up).
 */
const longestWithStack = (blocked: readonly { stack: readonly { url: string }[] }[]): readonly { url: string }[] =>
  blocked.find((b) => b.stack.length > 0)?.stack ?? [];

/** The first frame in the fixture's own code (what the views show first, too). */
function ownFrame(stack: readonly { url: string }[], fixture: string): unknown {
  return stack.find((f) => f.url.endsWith(fixture));
}

/**
 * Each step of the attach was reached, in order. How fast is attach-latency.mjs's to measure (a
 * timed test fails on a loaded machine, and says nothing a bench does not).
 */
function expectStepsInOrder(timingsMs: Record<string, number | null>): void {
  const steps = ['checked', 'signalled', 'inspectorOpen', 'injected', 'connected', 'firstSample'].map((k) => timingsMs[k]);
  for (const [i, ms] of steps.entries()) {
    expect(ms, JSON.stringify(timingsMs)).toBeGreaterThan(0);
    if (i > 0) expect(ms!, JSON.stringify(timingsMs)).toBeGreaterThanOrEqual(steps[i - 1]!);
  }
}

const hasProbe = (pid: number): boolean => openFileLinks(pid).some(isProbeFile);

/** The target after a detach: running, its inspector closed, no probe left inside. */
async function expectLeftAsItWas(target: Target): Promise<void> {
  expect(target.alive()).toBe(true);
  expect(await listening(INSPECTOR_PORT)).toBe(false);
  expect(await eventually(() => !hasProbe(target.pid), 2000)).toBe(true);
  expect(unexpectedStderr(target.stderr())).toEqual([]);
}

describe('loopscope attach', () => {
  it('attaches to a CommonJS app started with no flags, reports its loop and blocked stacks, and leaves it as it was', async () => {
    const target = await startTarget('attach-app.js', { env: { BLOCK_MS: '80', PERIOD_MS: '300', RUN_MS: '5000', EXIT_CODE: '7' } });
    const r = await loopscope(['attach', String(target.pid), '--duration', '2', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ pid: target.pid, nodeVersion: process.version, mode: 'metrics', exitCode: null, warnings: [] });
    expect(summary.samples).toBeGreaterThan(10);
    expect(summary.lag.maxMs).toBeGreaterThan(70);
    expect(summary.blockedCount).toBeGreaterThanOrEqual(3);
    expect(ownFrame(longestWithStack(summary.blocked), 'attach-app.js')).toMatchObject({ functionName: 'blockFor', lineNumber: blockLine('attach-app.js') });
    expect(summary.attach.inspector).toMatchObject({ port: INSPECTOR_PORT, wasOpen: false, closed: true, state: 'closed', reopened: 0, otherClients: [] });
    expectStepsInOrder(summary.attach.timingsMs);
    await expectLeftAsItWas(target);
    // Its own output and its exit code are its own.
    expect(await target.exit).toEqual({ code: 7, signal: null });
    expect(target.stdout()).toBe(`ready ${target.pid}\nbye\n`);
  });

  it(`attaches to an ESM app on Node ${NODE_VERSIONS[22]} (require comes from the inspector)`, async (ctx) => {
    const other = await otherNode(NODE_VERSIONS[22]);
    if ('reason' in other) return ctx.skip(`no Node ${NODE_VERSIONS[22]}: ${other.reason}`);
    const target = await startTarget('attach-app.mjs', { node: other.node, env: { BLOCK_MS: '80', PERIOD_MS: '300', RUN_MS: '4000', EXIT_CODE: '4' } });
    const r = await loopscope(['attach', String(target.pid), '--duration', '1.5', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.nodeVersion).toBe(`v${NODE_VERSIONS[22]}`);
    expect(summary.samples).toBeGreaterThan(5);
    expect(ownFrame(longestWithStack(summary.blocked), 'attach-app.mjs')).toMatchObject({ functionName: 'blockFor', lineNumber: blockLine('attach-app.mjs') });
    await expectLeftAsItWas(target);
    expect(await target.exit).toEqual({ code: 4, signal: null });
    expect(target.stdout()).toBe(`ready ${target.pid}\nbye\n`);
  });

  // V8 12 waits for a value that is not a promise through a promise of its own that nothing
  // holds: a GC before the target's next microtask checkpoint failed the attach with "Promise
  // was collected" (the test fails so when the attach asks V8 to await a plain value).
  it(`attaches on Node ${NODE_VERSIONS[22]} while the target collects garbage inside a block, where the evaluation is served`, async (ctx) => {
    const other = await otherNode(NODE_VERSIONS[22]);
    if ('reason' in other) return ctx.skip(`no Node ${NODE_VERSIONS[22]}: ${other.reason}`);
    const target = await startTarget('attach-gc-block.mjs', { node: other.node, nodeArgs: ['--expose-gc'], env: { RUN_MS: '5000' } });
    const r = await loopscope(['attach', String(target.pid), '--duration', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).samples).toBeGreaterThan(0);
    await expectLeftAsItWas(target);
  });

  it('attaches to an HTTP server under load without failing a request', async () => {
    const target = await startTarget('attach-app.js', { env: { PORT: '0' } });
    const port = Number(/port (\d+)/.exec(target.readyLine)![1]);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let ok = 0;
    let failed = 0;
    let loading = true;
    const one = (): Promise<void> => new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failed++;
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
    const load = Promise.all(Array.from({ length: 8 }, async () => {
      while (loading) await one();
    }));
    await sleep(300);
    const r = await loopscope(['attach', String(target.pid), '--duration', '1.5', '--json']);
    const okAtDetach = ok;
    await sleep(300);
    loading = false;
    await load;
    agent.destroy();
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.samples).toBeGreaterThan(5);
    expect(summary.utilization.mean).toBeGreaterThan(0.05);
    expectStepsInOrder(summary.attach.timingsMs);
    expect(failed).toBe(0);
    expect(ok).toBeGreaterThan(okAtDetach); // it serves on after the detach
    await expectLeftAsItWas(target);
  });

  it('refuses a second attach while the first watches, and starts the probe afresh once it is gone', async () => {
    const target = await startTarget('attach-app.js');
    const first = startLoopscope(['attach', String(target.pid), '--duration', '2.5', '--json']);
    expect(await eventually(() => hasProbe(target.pid), 5000)).toBe(true);
    const second = await loopscope(['attach', String(target.pid), '--json']);
    expect(second.code).toBe(10);
    expect(second.stderr).toMatch(/already has a loopscope probe, connected to another loopscope/);
    expect(second.stdout).toBe('');
    expect((await first.done).code).toBe(0);
    await expectLeftAsItWas(target);

    // loopscope killed outright: the probe notices the lost connection and turns itself off.
    const killed = startLoopscope(['attach', String(target.pid), '--json']);
    expect(await eventually(() => hasProbe(target.pid), 5000)).toBe(true);
    killed.child.kill('SIGKILL');
    await killed.done;
    expect(await eventually(() => !hasProbe(target.pid), 3000)).toBe(true);
    const again = await loopscope(['attach', String(target.pid), '--duration', '0.5', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).samples).toBeGreaterThan(0);
    await expectLeftAsItWas(target);
    expect(target.stdout()).toBe(`ready ${target.pid}\n`);
  });

  it('leaves open an inspector that was open before (--inspect)', async () => {
    const target = await startTarget('attach-app.js', { nodeArgs: ['--inspect=127.0.0.1:0'] });
    await eventually(() => /ws:\/\/127\.0\.0\.1:\d+\//.test(target.stderr()), 5000);
    const port = Number(/ws:\/\/127\.0\.0\.1:(\d+)\//.exec(target.stderr())![1]);
    const r = await loopscope(['attach', String(target.pid), '--duration', '0.5', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.samples).toBeGreaterThan(0);
    expect(summary.attach.inspector).toMatchObject({ port, wasOpen: true, closed: false, state: 'left-open', openMs: null });
    expect(await listening(port)).toBe(true);
    expect(await eventually(() => !hasProbe(target.pid), 2000)).toBe(true);
  });

  it('attaches to a program whose global Promise is its own (as with Bluebird), inspector closed or left open', async () => {
    const preload = ['-r', join(FIXTURES, 'program-promise.js')];
    for (const nodeArgs of [preload, [...preload, '--inspect=127.0.0.1:0']]) {
      const target = await startTarget('attach-app.js', { nodeArgs });
      const r = await loopscope(['attach', String(target.pid), '--duration', '0.5', '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).samples).toBeGreaterThan(0);
      expect(target.alive()).toBe(true);
    }
  });

  it('at the end of --duration, the blocks that ended are reported ended, with their lengths; only one still in progress is ongoing', async () => {
    // Blocks back to back: at the detach, the last second's have ended but wait for samples.
    const target = await startTarget('attach-app.js', { env: { BLOCK_MS: '120', PERIOD_MS: '200', RUN_MS: '9000' } });
    const r = await loopscope(['attach', String(target.pid), '--duration', '2.5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const blocked = (JSON.parse(r.stdout) as { blocked: { startMs: number; durationMs: number; ongoing: boolean; stackSource?: string }[] }).blocked
      .slice().sort((a, b) => a.startMs - b.startMs);
    expect(blocked.length).toBeGreaterThanOrEqual(5);
    const ongoing = blocked.filter((b) => b.ongoing);
    expect(ongoing.length, JSON.stringify(ongoing)).toBeLessThanOrEqual(1);
    if (ongoing.length === 1) expect(ongoing[0]).toBe(blocked.at(-1));
    // The last ended ones have their whole length (the ongoing report had ~50 ms of the 120),
    // whether their samples were in by then or not (their stack is the interrupt's, or none).
    for (const b of blocked.filter((x) => !x.ongoing).slice(-3)) expect(b.durationMs).toBeGreaterThan(100);
  });

  it('detaches on Ctrl-C and the target runs on', async () => {
    const target = await startTarget('attach-app.js');
    const run = startLoopscope(['attach', String(target.pid), '--json']);
    expect(await eventually(() => hasProbe(target.pid), 5000)).toBe(true);
    await sleep(300);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).samples).toBeGreaterThan(0);
    await expectLeftAsItWas(target);
  });

  it('stops at once on a Ctrl-C as the probe comes in, and leaves the target as it was', async () => {
    const target = await startTarget('attach-app.js');
    const run = startLoopscope(['attach', String(target.pid), '--json']);
    expect(await eventually(() => hasProbe(target.pid), 5000)).toBe(true);
    run.child.kill('SIGINT');
    const r = await run.done;
    // Most often the attach is still confirming that the inspector closed; else the session had begun.
    if (r.code === 130) expect(r.stderr).toBe('loopscope attach: attaching was interrupted.\n');
    else expect([r.code, r.stderr]).toEqual([0, '']);
    await expectLeftAsItWas(target);
  });

  it(`refuses a Node ${NODE_VERSIONS[22]} started with --disable-sigusr1, and a Node under the permission model, without killing them`, async (ctx) => {
    const permission = await startTarget('attach-app.js', { nodeArgs: ['--experimental-permission', '--allow-fs-read=*'] });
    const refused = await loopscope(['attach', String(permission.pid)]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/permission model/);
    const other = await otherNode(NODE_VERSIONS[22]);
    if ('reason' in other) return ctx.skip(`no Node ${NODE_VERSIONS[22]}: ${other.reason}`);
    const target = await startTarget('attach-app.js', { node: other.node, nodeArgs: ['--disable-sigusr1'] });
    const r = await loopscope(['attach', String(target.pid)]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/--disable-sigusr1.*loopscope run/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    await sleep(200);
    for (const t of [permission, target]) {
      expect(t.alive()).toBe(true);
      expect(t.stderr()).not.toMatch(/Debugger/);
    }
  });

  it('refuses a process that is not Node, without signalling it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-test-'));
    try {
      const log = join(dir, 'signals.log');
      const target = await startTarget('attach-not-node.sh', { executable: true, env: { SIGNAL_LOG: log } });
      const r = await loopscope(['attach', String(target.pid)]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/is not a Node\.js process \(it runs .*bash\).*loopscope run/);
      await sleep(300);
      expect(existsSync(log)).toBe(false);
      expect(target.alive()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which process holds the inspector port, before signalling the target', async () => {
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${INSPECTOR_PORT}, '127.0.0.1', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      const target = await startTarget('attach-app.js');
      const r = await loopscope(['attach', String(target.pid)]);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`in use by process ${holder.pid}`);
      await sleep(200);
      expect(target.alive()).toBe(true);
      expect(target.stderr()).toBe(''); // never signalled: Node would have said "Debugger listening" or failed to bind
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
  });

  it('reports a target that exits in the middle of attaching, and leaves nothing open', async () => {
    const target = await startTarget('attach-exit-on-inspect.js');
    const r = await loopscope(['attach', String(target.pid), '--json']);
    if (r.code === 0) {
      // The probe was in (and said hello) within the 5 ms the target lives with its inspector open.
      expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 3, warnings: [expect.stringMatching(/exited during the session with code 3/)] });
    } else {
      expect(r.code).toBe(8);
      expect(r.stderr).toMatch(/exited while loopscope was attaching/);
    }
    expect(await target.exit).toEqual({ code: 3, signal: null });
    expect(await listening(INSPECTOR_PORT)).toBe(false);
  });

  it('gives up on a target that does not answer in time, and closes its inspector once it opens late', async () => {
    // 6 s: the attach's 1 s timeout, with loopscope's own start, ends well inside it on a loaded machine.
    const target = await startTarget('attach-native-block.js', { env: { BLOCK_S: '6' } });
    await sleep(200); // it is now inside its native block
    const r = await loopscope(['attach', String(target.pid), '--timeout', '1']);
    expect(r.code).toBe(9);
    expect(r.ms).toBeLessThan(5000); // it did not wait for the block to end
    expect(r.stderr).toMatch(/did not answer in time.*background loopscope.*will close it/);
    expect(await eventually(() => target.stdout().includes('unblocked'), 10_000)).toBe(true);
    // The pending SIGUSR1 opened the inspector when the block ended; the closer shuts it.
    expect(await eventually(() => /Debugger listening/.test(target.stderr()), 3000)).toBe(true);
    expect(await eventually(async () => !(await listening(INSPECTOR_PORT)), 5000)).toBe(true);
    expect(target.alive()).toBe(true);
  });

  it('rejects a missing process, another user\'s process, and a bad PID, each with its own exit code', async (ctx) => {
    const missing = await loopscope(['attach', '4194304']); // above Linux's highest PID
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no process has PID 4194304.*loopscope ps/);
    for (const bad of [['attach'], ['attach', 'abc'], ['attach', '12', '13']]) {
      const r = await loopscope(bad);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    if (process.getuid?.() !== 0) return ctx.skip('starting a process as another user needs root');
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000); console.log("ready")'], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise((resolve) => other.stdout.once('data', resolve));
      const r = await loopscope(['attach', String(other.pid)]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/belongs to another user \(uid 65534\)/);
      expect(other.exitCode).toBe(null);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
  });
});
