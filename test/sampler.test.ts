// The CPU sampler in a real process: what the probe leaves on the target's output (nothing,
// even at process.exit()), its own pauses kept apart from the target's blocks (the profiler's
// first start with 50,000 functions, at attach), its harvests never a block, and the others
// who use V8's profiler in the same process: the program's own console.profile(), the
// samplers of its worker threads, another inspector session (DevTools), Node's --cpu-prof.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Summary } from '../main/reports/summary';
import { groupKey } from '../main/session/blocked-groups';
import { loopscope } from './helpers/cli';
import { killAll, startTarget } from './helpers/attach-harness';
import { FIXTURES } from './helpers/probe-harness';

afterEach(killAll);

const run = async (fixture: string, env: Record<string, string>, args: readonly string[] = [], nodeArgs: readonly string[] = []) => {
  const r = await loopscope(['run', '--json', ...args, '--', process.execPath, ...nodeArgs, join(FIXTURES, fixture)], env);
  return { ...r, summary: JSON.parse(r.stdout) as Summary };
};

const isProbeFrame = (url: string): boolean => url.startsWith('loopscope-probe') || url.endsWith('dist/probe.js');

describe('the sampler and the target\'s output', () => {
  it('prints nothing on the target\'s output, even when it ends with process.exit() (no "Waiting for the debugger to disconnect...")', async () => {
    // With --json, the program's stdout and stderr are loopscope's stderr: all of it is the target's.
    const r = await run('exit-early.js', { EXIT_MS: '1500', EXIT_CODE: '3' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    expect(r.summary.exitCode).toBe(3);
    // The sampler ran until the exit, and its last samples came.
    expect(r.summary.profile).toMatchObject({ sampler: 'on' });
    expect(r.summary.profile!.samples).toBeGreaterThan(20);
  });

  it('is off with --no-profile, and blocked stacks come from the interrupt alone', async () => {
    const r = await run('blockers.js', { KIND: 'loop', COUNT: '3' }, ['--no-profile']);
    expect(r.stderr).toMatch(/^ready \d+ [\d.]+\n$/);
    expect(r.summary.profile).toMatchObject({ sampler: 'off', samples: 0, samplerNote: 'turned off (--no-profile)' });
    const stacks = r.summary.blocked.filter((b) => b.stack.length > 0);
    expect(stacks.length).toBeGreaterThan(0);
    for (const b of stacks) expect(b.stackSource).toMatch(/interrupt/);
    for (const b of r.summary.blocked.filter((x) => !x.ongoing)) expect(b.unsampled).toBe('the CPU sampler was off: turned off (--no-profile)');
  });

  it('a block in a native call at the program\'s start, before the sampler\'s first start (served by the main thread), says so; the next is blamed from samples', async () => {
    const r = await run('start-block.js', {});
    const readyMs = Number(/^ready \d+ ([\d.]+)\n$/.exec(r.stderr)?.[1]);
    expect(readyMs, r.stderr).toBeGreaterThan(0);
    const blocks = r.summary.blocked.filter((b) => !b.ongoing).sort((a, b) => a.startMs - b.startMs);
    const detail = JSON.stringify(blocks.map(({ startMs, durationMs, stackSource, samples, unsampled }) => ({ startMs, durationMs, stackSource, samples, unsampled })));
    const first = blocks.find((b) => b.startMs < readyMs);
    expect(first, detail).toMatchObject({ unsampled: 'the CPU sampler had not started yet' });
    expect(first, detail).not.toHaveProperty('samples');
    const later = blocks.find((b) => b.startMs > readyMs);
    expect(later, detail).toMatchObject({ stackSource: 'samples' });
    expect(later, detail).not.toHaveProperty('unsampled');
    expect(later!.stack.find((f) => f.url.endsWith('start-block.js'))?.functionName, detail).toBe('parseLater');
  });

  it('an anonymous callback reads the same from the interrupt as from the samples (the same place is one group)', async () => {
    // window-blocks.js blocks in spin() ← parseBig() ← an arrow given to setInterval.
    const places = async (args: readonly string[]): Promise<Set<string>> => {
      const r = await run('window-blocks.js', {}, ['--duration', '2', ...args]);
      const keys = r.summary.blocked.filter((b) => b.stack.some((f) => f.functionName === 'parseBig')).map((b) => groupKey(b.stack));
      expect(keys.length).toBeGreaterThan(0);
      return new Set(keys);
    };
    const fromInterrupt = await places(['--no-profile']);
    expect([...fromInterrupt]).toEqual([expect.stringMatching(/^spin@.*\|parseBig@.*\|@.*window-blocks\.js:19$/)]);
    // From the samples, a block may also be placed by the functions' own lines (a few samples): the interrupt's place is among them.
    expect([...(await places([]))]).toContain([...fromInterrupt][0]);
  }, 30_000);

  it('stays off under --cpu-prof, whose session would print every harvest on the target\'s stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-cpu-prof-'));
    try {
      const r = await run('blockers.js', { KIND: 'loop', COUNT: '2' }, [], ['--cpu-prof', '--cpu-prof-dir', dir]);
      expect(r.stderr).toMatch(/^ready \d+ [\d.]+\n$/);
      expect(r.summary.profile).toMatchObject({ sampler: 'off', samplerNote: expect.stringContaining('--cpu-prof') });
      // Node's own profile is written as ever.
      expect(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the probe\'s own pauses', () => {
  it('attaching to an app of 50,000 functions: the profiler\'s first start is the probe\'s pause, not a block of the app', async () => {
    const target = await startTarget('many-functions.js', { env: { FUNCTIONS: '50000', RUN_MS: '30000' } });
    const r = await loopscope(['attach', String(target.pid), '--duration', '3', '--json', '--block-threshold', '100']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    const start = summary.probePauses.find((p) => p.what.startsWith('CPU profiler start'));
    // V8 logs 50,000 functions' code when the profiler first starts: a pause of its own.
    expect(start, JSON.stringify(summary.probePauses)).toBeDefined();
    expect(start!.durationMs).toBeGreaterThan(5);
    expect(summary.probePauses.some((p) => p.what === 'probe start')).toBe(true);
    // The app idles: no block, and no lag from the probe's pauses.
    expect(summary.blocked, JSON.stringify(summary.blocked)).toEqual([]);
    expect(summary.lag.maxMs).toBeLessThan(start!.durationMs);
    expect(summary.profile!.samples).toBeGreaterThan(50);
  }, 60_000);

  it('never reports a harvest as a block: not with 50,000 functions spread over the stacks, at a 5 ms threshold', async () => {
    const r = await run('many-functions.js', { FUNCTIONS: '50000', SPREAD: '1', RUN_MS: '5000' }, ['--block-threshold', '5', '--duration', '6']);
    const s = r.summary;
    expect(s.profile!.samples).toBeGreaterThan(100);
    // Blocks there are (a busy timer, GC, the machine's load), none of them is the probe's.
    for (const b of s.blocked) expect(b.stack.filter((f) => isProbeFrame(f.url)), JSON.stringify(b)).toEqual([]);
    for (const g of s.blockedGroups) expect(g.stack.some((f) => isProbeFrame(f.url))).toBe(false);
    // The harvests' own evaluations never make it into the profile (V8 adds a sample whenever a
    // profile starts: a harvest would look like a sample's worth of the probe's time).
    expect(s.profile!.top.some((f) => f.functionName === 'control')).toBe(false);
  }, 60_000);
});

describe('others using the profiler in the same process', () => {
  it('the program\'s own console.profile() and profileEnd(): the sampler goes on, and blames the blocks after it', async () => {
    const r = await run('profiler-neighbours.js', { WHO: 'console', COUNT: '5', PERIOD_MS: '500' });
    expect(r.stderr).toBe('');
    const line = readFileSync(join(FIXTURES, 'profiler-neighbours.js'), 'utf8').split('\n').findIndex((l) => l.endsWith('// BLOCK parse')) + 1;
    const sampled = r.summary.blocked.filter((b) => b.stackSource === 'samples' && b.stack.some((f) => f.functionName === 'parse' && f.lineNumber === line));
    expect(sampled.length, JSON.stringify(r.summary.blocked.map((b) => b.stack.slice(0, 2)))).toBeGreaterThanOrEqual(3);
    expect(r.summary.profile).toMatchObject({ sampler: 'on' });
  }, 60_000);

  it('the samplers of the program\'s worker threads: the main loop\'s goes on, and blames its blocks', async () => {
    // They draw profile ids from the process's one counter: between two harvests of the main
    // loop's, the ids step by more than one, as they do with a debugger's session.
    const r = await run('profiler-neighbours.js', { WHO: 'workers', COUNT: '8', PERIOD_MS: '500' });
    expect(r.stderr).toBe('');
    expect(r.summary.loops.map((l) => l.name)).toEqual(['main', expect.stringMatching(/idler-/), expect.stringMatching(/idler-/)]);
    const line = readFileSync(join(FIXTURES, 'profiler-neighbours.js'), 'utf8').split('\n').findIndex((l) => l.endsWith('// BLOCK parse')) + 1;
    const sampled = r.summary.blocked.filter((b) => b.stackSource === 'samples' && b.stack.some((f) => f.functionName === 'parse' && f.lineNumber === line));
    expect(sampled.length, JSON.stringify(r.summary.blocked.map((b) => [b.stackSource, b.stack.slice(0, 2)]))).toBeGreaterThanOrEqual(5);
    expect(r.summary.profile).toMatchObject({ sampler: 'on' });
  }, 60_000);

  it('another inspector session with the profiler on (as DevTools keeps one): the sampler pauses, and says why', async () => {
    const r = await run('profiler-neighbours.js', { WHO: 'session', COUNT: '6', PERIOD_MS: '500' });
    expect(r.stderr).toBe('');
    expect(r.summary.profile).toMatchObject({ sampler: 'paused', samplerNote: expect.stringContaining('another inspector session') });
  }, 60_000);
});
