// The loop overview's pure parts (renderer/loops/loop-rows): what a loop's and a process's
// status say, the worst loop first when a process has many, and the sparklines' points and scale.

import { describe, expect, it } from 'vitest';
import type { LoopView, ProcessLoops } from '../main/ui/ui-api';
import { loopCount, loopStatusText, orderLoops, processEndText, recentPeakMs, sparkPoints, sparkScale, WORST_FIRST_FROM } from '../renderer/loops/loop-rows';

const loop = (threadId: number, over: Partial<LoopView> = {}): LoopView => ({
  sessionId: `s${threadId}`, pid: 10, ppid: 1, threadId, name: threadId === 0 ? 'main' : `worker ${threadId}`,
  status: 'live', exitCode: null, terminated: false, lagP99Ms: 1, lagMaxMs: 1, utilization: 0.1, blockedCount: 0, recentLagMs: [1, 1], ...over,
});
const proc = (loops: LoopView[]): ProcessLoops => ({ pid: 10, ppid: 1, command: ['node', 'app.js'], loops });

describe('loop overview rows', () => {
  it('says how a loop ended: its exit code, terminated, or only ended', () => {
    expect(loopStatusText(loop(1))).toBe('live');
    expect(loopStatusText(loop(1, { status: 'replay' }))).toBe('replay');
    expect(loopStatusText(loop(1, { status: 'ended', exitCode: 3 }))).toBe('ended, exit code 3');
    expect(loopStatusText(loop(1, { status: 'ended', exitCode: 0 }))).toBe('ended, exit code 0');
    expect(loopStatusText(loop(1, { status: 'ended', terminated: true }))).toBe('terminated');
    expect(loopStatusText(loop(1, { status: 'ended' }))).toBe('ended');
  });

  it('says a process ended once its main thread did, with its exit code; not while it runs, whatever its workers do', () => {
    expect(processEndText(proc([loop(0), loop(1, { status: 'ended', exitCode: 4 })]))).toBeNull();
    expect(processEndText(proc([loop(0, { status: 'ended', exitCode: 2 }), loop(1)]))).toBe('ended, exit code 2');
    expect(processEndText(proc([loop(0, { status: 'ended' })]))).toBe('ended');
  });

  it('keeps a few loops in their order; many go worst first: most blocks, then the highest recent lag', () => {
    const few = [loop(0), loop(1, { blockedCount: 9 }), loop(2)];
    expect(few.length).toBeLessThan(WORST_FIRST_FROM);
    expect(orderLoops(few)).toBe(few);
    const many = [loop(0), loop(1, { recentLagMs: [3, 80, 2] }), loop(2, { blockedCount: 2 }), loop(3, { blockedCount: 5 }), loop(4)];
    expect(orderLoops(many).map((l) => l.threadId)).toEqual([3, 2, 1, 0, 4]);
    expect(many.map((l) => l.threadId)).toEqual([0, 1, 2, 3, 4]);
  });

  it('takes the peak of the recent seconds, or the latest second\'s max if higher', () => {
    expect(recentPeakMs(loop(1, { recentLagMs: [2, 50, 3], lagMaxMs: 4 }))).toBe(50);
    expect(recentPeakMs(loop(1, { recentLagMs: [], lagMaxMs: 7 }))).toBe(7);
  });

  it('draws a sparkline: the latest value at the right edge, 0 at the bottom, the scale at the top, clipped above it', () => {
    expect(sparkPoints([0, 50, 100], 3, 100, 20, 100)).toBe('0,20 50,10 100,0');
    // Fewer values than slots: they start further right.
    expect(sparkPoints([100], 3, 100, 20, 100)).toBe('100,0');
    expect(sparkPoints([10, 400], 2, 10, 10, 200)).toBe('0,9.5 10,0');
    // More values than slots: the latest ones.
    expect(sparkPoints([1, 2, 0, 0], 2, 10, 10, 10)).toBe('0,10 10,10');
    expect(sparkPoints([], 30, 100, 20, 100)).toBe('');
  });

  it('puts every loop on one scale, at least the floor, and counts them', () => {
    const ps = [proc([loop(0, { recentLagMs: [5] }), loop(1, { recentLagMs: [120, 3] })]), proc([loop(0)])];
    expect(sparkScale(ps, 50)).toBe(120);
    expect(sparkScale([proc([loop(0)])], 50)).toBe(50);
    expect(loopCount(ps)).toBe(3);
  });
});
