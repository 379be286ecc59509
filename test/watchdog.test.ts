// The watchdog's decisions, driven by a scripted heartbeat and clock.

import { describe, expect, it } from 'vitest';
import { CAPTURE_SKIPPED, CaptureBudget, Watchdog, type BlockSamples, type HeartbeatSource } from '../probe/watchdog';
import type { BlockedReport, StackFrame } from '../probe/wire';
import type { CaptureResult } from '../probe/stack-capture';
import { outsideProbe, parseCapturedStack } from '../probe/stack-capture';

function setup(captureResult: CaptureResult | undefined) {
  let now = 0;
  const source = { heartbeat: 0, lastBeatMs: 0, lastStall: { stallMs: 0, spanMs: 0, endMs: 0 }, ownPause: { sinceMs: 0, sinceBeatMs: 0 }, stallSeen: () => undefined } satisfies HeartbeatSource;
  const reports: BlockedReport[] = [];
  let pendingCapture: ((r: CaptureResult) => void) | undefined;
  const dog = new Watchdog(source, {
    thresholdMs: 50, nowMs: () => now,
    capture: (done) => (captureResult ? done(captureResult) : (pendingCapture = done)),
    emit: (r) => reports.push(r),
  });
  const beat = (at: number, stall?: number) => {
    source.heartbeat++;
    source.lastBeatMs = at;
    if (stall !== undefined) source.lastStall = { stallMs: stall, spanMs: stall, endMs: at };
  };
  return { dog, reports, beat, source, at: (t: number) => (now = t), capture: () => pendingCapture };
}

const frame = { functionName: 'work', url: '/app.js', lineNumber: 3, columnNumber: 9 };

/**
 * Every report of one block with `samples` beside the watchdog: seen at 170 ms while it lasts
 * (its interrupt stack, `stack`, taken then), ended by the beat at 300 ms after `spanMs` of
 * stall, 150 ms of which the loop was busy.
 */
function blockWith(samples: BlockSamples, stack: readonly StackFrame[] = [frame], spanMs = 195): BlockedReport[] {
  const source = { heartbeat: 1, lastBeatMs: 100, lastStall: { stallMs: 0, spanMs: 0, endMs: 0 }, ownPause: { sinceMs: 0, sinceBeatMs: 0 }, stallSeen: () => undefined } satisfies HeartbeatSource;
  const reports: BlockedReport[] = [];
  let now = 100;
  const dog = new Watchdog(source, {
    thresholdMs: 50, nowMs: () => now, capture: (done) => done(stack.length > 0 ? { stack } : { error: 'no stack' }), emit: (r) => reports.push(r), samples,
  });
  dog.tick();
  now = 170;
  dog.tick();
  now = 300;
  Object.assign(source, { heartbeat: 2, lastBeatMs: 300, lastStall: { stallMs: 150, spanMs, endMs: 300 } });
  dog.tick();
  return reports;
}

describe('watchdog', () => {
  it('stays quiet while the heartbeat keeps time', () => {
    const w = setup({ stack: [frame] });
    for (let t = 10; t < 1000; t += 10) {
      w.at(t);
      w.beat(t);
      w.dog.tick();
    }
    expect(w.reports).toEqual([]);
  });

  it('reports a block while it lasts, with the stack, then its exact duration once it ends', () => {
    const w = setup({ stack: [frame] });
    w.at(100);
    w.beat(100);
    w.dog.tick();
    w.at(145);
    w.dog.tick(); // 45 ms since the last beat: not yet
    expect(w.reports).toHaveLength(0);
    w.at(170);
    w.dog.tick();
    expect(w.reports.map((r) => r.state)).toEqual(['ongoing', 'ongoing']);
    expect(w.reports[1]!.stack).toEqual([frame]);
    w.at(300);
    w.beat(300, 195.5);
    w.dog.tick();
    const last = w.reports.at(-1)!;
    expect(last).toMatchObject({ state: 'ended', durationUs: 195_500, startUs: 104_500, stack: [frame] });
    expect(new Set(w.reports.map((r) => r.id)).size).toBe(1);
  });

  it('waits for a stack still on its way when the block ends, then gives up with a reason', () => {
    const w = setup(undefined);
    w.beat(0);
    w.at(100);
    w.dog.tick();
    w.at(120);
    w.beat(120, 110);
    w.dog.tick();
    expect(w.reports.every((r) => r.state === 'ongoing')).toBe(true);
    w.at(2200);
    w.dog.tick();
    // (No beat since 120 ms: by now the loop is blocked again, a block of its own.)
    expect(w.reports.filter((r) => r.id === w.reports[0]!.id).at(-1)).toMatchObject({ state: 'ended', stack: [], stackError: 'the stack did not arrive in time' });
  });

  it('re-reports a long block every second', () => {
    const w = setup({ stack: [frame] });
    w.beat(0);
    for (let t = 100; t <= 3100; t += 10) {
      w.at(t);
      w.dog.tick();
    }
    const ongoing = w.reports.filter((r) => r.state === 'ongoing');
    expect(ongoing.length).toBeGreaterThanOrEqual(4);
    expect(ongoing.at(-1)!.durationUs).toBeGreaterThan(2_900_000);
  });
});

describe('stack capture parsing', () => {
  it('drops its own frames and malformed entries', () => {
    const parsed = parseCapturedStack({
      atMs: 12.5,
      frames: [
        ['', 'loopscope-probe-stack-capture', 1, 1],
        ['work', '/app.js', 3, 9],
        ['bad', 5, 1, 1],
        'junk',
      ],
    });
    expect(parsed).toEqual({ stack: [frame], atMs: 12.5 });
  });

  it('says why when nothing is left', () => {
    expect(parseCapturedStack({ atMs: 1, frames: [['', 'loopscope-probe-stack-capture', 1, 1]] })).toEqual({ error: 'the loop was free again before its stack could be taken' });
    expect(parseCapturedStack(undefined)).toEqual({ error: 'the inspector returned no stack' });
  });

  it('gives no stack read in the probe\'s own code (the GC observer after a GC pause), and says why', () => {
    const probe = { functionName: 'add', url: '/opt/loopscope/dist/probe.js', lineNumber: 355, columnNumber: 36 };
    const dispatch = { functionName: 'processImmediate', url: 'node:internal/timers', lineNumber: 483, columnNumber: 21 };
    expect(outsideProbe({ stack: [probe, dispatch], atMs: 3 }, '/opt/loopscope/dist/probe.js')).toEqual({ error: expect.stringMatching(/loopscope's own code, after what blocked the loop \(a GC pause, native code\) had returned/) });
    expect(outsideProbe({ stack: [frame], atMs: 3 }, '/opt/loopscope/dist/probe.js')).toEqual({ stack: [frame], atMs: 3 });
    expect(outsideProbe({ error: 'no inspector' }, '/opt/loopscope/dist/probe.js')).toEqual({ error: 'no inspector' });
  });
});

describe('watchdog and short blocks', () => {
  it('reports a block that ended between two polls, without a stack, and only once', () => {
    const w = setup({ stack: [frame] });
    w.beat(0);
    w.at(40);
    w.dog.tick(); // 40 ms since the beat: not yet a block
    w.at(60);
    w.beat(60, 53); // the loop was busy for 53 ms, between two polls
    w.dog.tick();
    w.at(70);
    w.dog.tick();
    expect(w.reports).toHaveLength(1);
    expect(w.reports[0]).toMatchObject({ state: 'ended', durationUs: 53_000, startUs: 7_000, stack: [] });
    expect(w.reports[0]!.stackError).toMatch(/ended before the watchdog saw it/);
  });
});

describe('watchdog and the probe\'s own work inside a block', () => {
  it('starts the block where it began and looks for its samples over all of it; its duration is the target\'s time', () => {
    const source = { heartbeat: 0, lastBeatMs: 0, lastStall: { stallMs: 0, spanMs: 0, endMs: 0 }, ownPause: { sinceMs: 0, sinceBeatMs: 0 }, stallSeen: () => undefined } satisfies HeartbeatSource;
    const reports: BlockedReport[] = [];
    const windows: [number, number][] = [];
    let now = 0;
    const dog = new Watchdog(source, {
      thresholdMs: 50, nowMs: () => now, capture: (done) => done({ stack: [frame] }), emit: (r) => reports.push(r),
      samples: { active: true, coveredUntilMs: 1000, harvest: () => undefined, blame: (from, to) => void windows.push([from, to]), unsampled: () => undefined },
    });
    source.heartbeat = 1;
    source.lastBeatMs = 100;
    dog.tick();
    // 195 ms from the last beat to the next, 45 of them the profiler's first start: 150 of the target's.
    now = 300;
    source.heartbeat = 2;
    source.lastBeatMs = 300;
    source.lastStall = { stallMs: 150, spanMs: 195, endMs: 300 };
    dog.tick();
    expect(reports.at(-1)).toMatchObject({ state: 'ended', startUs: 105_000, durationUs: 150_000 });
    expect(windows.at(-1)).toEqual([105, 300]);
  });

  it('takes the interrupt stack taken inside the block over samples that ran no code, with what they ran beside it', () => {
    const gcOnly = { stack: [{ functionName: '(garbage collector)', url: '', lineNumber: 0, columnNumber: 0 }], samples: 3, sampled: 3, lineSource: 'function' as const, kinds: { gc: 3, idle: 0, program: 0, probe: 0 }, ranCode: false, others: [] };
    const run = (spanMs: number, stack: readonly StackFrame[] = [frame]): BlockedReport =>
      blockWith({ active: true, coveredUntilMs: 1000, harvest: () => undefined, blame: () => gcOnly, unsampled: () => 'not asked: it had samples' }, stack, spanMs).at(-1)!;
    const taken = { state: 'ended', stackSource: 'interrupt', stack: [frame], samples: 0, sampled: 3, sampleKinds: gcOnly.kinds };
    // 45 ms of the profiler's first start inside: the samples saw only the collection after it.
    expect(run(195)).toMatchObject(taken);
    // All of it in GC by the samples (a busy loop's scavenges on a loaded machine): the
    // interrupt still saw the code that ran.
    expect(run(150)).toMatchObject(taken);
    // No interrupt stack: the samples say where the block's time went.
    expect(run(150, [])).toMatchObject({ state: 'ended', stackSource: 'samples', stack: gcOnly.stack, samples: 3, sampled: 3 });
    // Nor from one with none of the program's frames (served after a native call returned, as a timer re-arms).
    const timers = [{ functionName: 'insert', url: 'node:internal/timers', lineNumber: 366, columnNumber: 16 }, { functionName: 'listOnTimeout', url: 'node:internal/timers', lineNumber: 587, columnNumber: 11 }];
    expect(run(150, timers)).toMatchObject({ state: 'ended', stackSource: 'samples', stack: gcOnly.stack });
    for (const spanMs of [150, 195]) expect(run(spanMs)).not.toHaveProperty('unsampled');
  });

  it('says why an ended block has no samples, as the sampler tells it, and only once it ended', () => {
    const asked: [number, number][] = [];
    const reports = blockWith({ active: true, coveredUntilMs: 1000, harvest: () => undefined, blame: () => undefined, unsampled: (from, to) => (asked.push([from, to]), 'the CPU sampler had not started yet') });
    const [ongoing, ended] = [reports.at(-2)!, reports.at(-1)!];
    expect(ongoing).toMatchObject({ state: 'ongoing', stackSource: 'interrupt' });
    expect(ongoing).not.toHaveProperty('unsampled');
    expect(ended).toMatchObject({ state: 'ended', stackSource: 'interrupt', stack: [frame], unsampled: 'the CPU sampler had not started yet' });
    expect(asked).toEqual([[105, 300]]);
  });
});

describe('watchdog and a starved thread', () => {
  it('withdraws a block when the loop turns out not to have been busy', () => {
    const w = setup({ stack: [frame] });
    w.beat(0);
    w.at(100);
    w.dog.tick();
    w.at(110);
    w.beat(110, 0.3); // the gap was long, but the loop was active for 0.3 ms of it
    w.dog.tick();
    expect(w.reports.map((r) => r.state)).toEqual(['ongoing', 'ongoing', 'cancelled']);
  });
});

describe('watchdog wake-ups', () => {
  it('sleeps until the beat would be a threshold late; during a block, until its re-report; polls for a late stack', () => {
    const w = setup(undefined);
    w.beat(0);
    w.at(5);
    expect(w.dog.nextTickInMs(10)).toBe(46); // at 51 ms the beat is past the threshold
    expect(w.dog.awaitedBeat).toBeUndefined();
    w.at(60);
    w.dog.tick(); // a block, its stack on its way
    expect(w.dog.awaitedBeat).toBe(w.source.heartbeat); // the beat that ends it wakes the worker
    w.at(100);
    expect(w.dog.nextTickInMs(10)).toBe(960); // otherwise only the re-report, a second after the first
    w.at(300);
    w.beat(300, 300);
    w.dog.tick(); // ended; the stack is still on its way
    expect(w.dog.awaitedBeat).toBeUndefined();
    expect(w.dog.nextTickInMs(10)).toBe(10);
  });

  it('catches a block just over the threshold while it lasts, waking only at its deadlines and its end', () => {
    const w = setup({ stack: [frame] });
    // The loop beats every 10 ms, except that it is blocked from 190 to 242 ms.
    const beats = [...Array.from({ length: 20 }, (_, i) => i * 10), 242, 250, 260];
    let next = 0;
    let wakes = 0;
    for (let t = 0; t < 270; wakes++) {
      while (next < beats.length && beats[next]! <= t) {
        const at = beats[next++]!;
        w.beat(at, at === 242 ? 52 : undefined);
      }
      w.at(t);
      w.dog.tick();
      const deadline = t + w.dog.nextTickInMs(10);
      // As the worker does: while a block lasts, the next beat wakes it, if it comes first.
      t = w.dog.awaitedBeat !== undefined && next < beats.length ? Math.min(deadline, beats[next]!) : deadline;
    }
    expect(w.reports[0]).toMatchObject({ state: 'ongoing', startUs: 190_000 });
    expect(w.reports[1]).toMatchObject({ state: 'ongoing', stack: [frame] });
    expect(w.reports.at(-1)).toMatchObject({ state: 'ended', startUs: 190_000, durationUs: 52_000, stack: [frame] });
    expect(wakes).toBeLessThan(10); // polling every 10 ms would have been 27
  });

  it('never asks for less than a millisecond of sleep', () => {
    const w = setup({ stack: [frame] });
    w.beat(0);
    w.at(49.9);
    expect(w.dog.nextTickInMs(10)).toBe(2);
  });
});

describe('capture budget', () => {
  it('takes a burst of stacks at once, then a steady few a second', () => {
    const budget = new CaptureBudget(5, 2);
    const taken = (from: number, to: number, step: number) => {
      let n = 0;
      for (let t = from; t < to; t += step) if (budget.take(t)) n++;
      return n;
    };
    expect(taken(0, 1000, 100)).toBe(5 + 1); // the burst, and one more refilled meanwhile
    expect(taken(1000, 11_000, 100)).toBe(20); // then 2 a second
    expect(taken(20_000, 20_500, 100)).toBe(5); // full again after a quiet spell
  });

  it('reports every block of a storm, with a stack for the first ones and a reason for the rest', () => {
    const w = setup({ stack: [frame] });
    // A block of 80 ms every 100 ms, for 3 s.
    for (let start = 0; start < 3000; start += 100) {
      w.at(start);
      w.beat(start);
      w.dog.tick();
      w.at(start + 60);
      w.dog.tick(); // the block begins here
      w.at(start + 80);
      w.beat(start + 80, 80);
      w.dog.tick();
    }
    const ended = w.reports.filter((r) => r.state === 'ended');
    expect(ended).toHaveLength(30);
    expect(ended.every((r) => r.durationUs === 80_000)).toBe(true);
    const withStack = ended.filter((r) => r.stack.length > 0);
    expect(withStack.length).toBeGreaterThanOrEqual(5 + 2 * 2);
    expect(withStack.length).toBeLessThanOrEqual(5 + 2 * 3);
    expect(ended.slice(0, 5).every((r) => r.stack.length > 0)).toBe(true);
    expect(ended.filter((r) => r.stack.length === 0).every((r) => r.stackError === CAPTURE_SKIPPED)).toBe(true);
  });
});
