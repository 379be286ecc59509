// The loop overview's pure parts (renderer/loops/loop-rows): what a loop's and a process's
// status say, the worst loop first when a process has many, and the sparklines' scale; their
// time axis and points (renderer/loops/spark-axis); and the key findings about a session's other loops (renderer/screens/loop-findings).

import { describe, expect, it } from 'vitest';
import type { LoopView, ProcessLoops } from '../main/ui/ui-api';
import { loopCount, loopStatusText, orderLoops, processEndText, recentPeakMs, sparkScale, WORST_FIRST_FROM } from '../renderer/loops/loop-rows';
import { sparkDomain, sparkPoints } from '../renderer/loops/spark-axis';
import { loopFindings, LOOPS_NAMED } from '../renderer/screens/loop-findings';
import { keyFindings, type FindingSources } from '../renderer/screens/key-findings';

const loop = (threadId: number, over: Partial<LoopView> = {}): LoopView => ({
  sessionId: `s${threadId}`, pid: 10, ppid: 1, threadId, name: threadId === 0 ? 'main' : `worker ${threadId}`,
  status: 'live', exitCode: null, terminated: false, lagP99Ms: 1, lagMaxMs: 1, utilization: 0.1, blockedCount: 0, recentLagMs: [1, 1], recentLagEndMs: 2000, ...over,
});
const proc = (loops: LoopView[], pid = 10): ProcessLoops => ({ pid, ppid: 1, command: ['node', 'app.js'], loops: loops.map((l) => ({ ...l, pid })) });

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

  it('puts every loop on one scale, at least the floor, and counts them', () => {
    const ps = [proc([loop(0, { recentLagMs: [5] }), loop(1, { recentLagMs: [120, 3] })]), proc([loop(0)])];
    expect(sparkScale(ps, 50)).toBe(120);
    expect(sparkScale([proc([loop(0)])], 50)).toBe(50);
    expect(loopCount(ps)).toBe(3);
  });
});

describe('the sparklines\' time axis', () => {
  const T = 1_700_000_000_000;

  it('ends at the latest second of any loop, the given seconds long; none before a loop has one', () => {
    const ps = [proc([loop(0, { recentLagEndMs: T - 10_000 }), loop(1, { recentLagEndMs: T })]), proc([loop(0, { recentLagEndMs: T - 500 })])];
    expect(sparkDomain(ps, 30)).toEqual({ fromMs: T - 30_000, toMs: T });
    expect(sparkDomain([proc([loop(0, { recentLagEndMs: null })])], 30)).toBeUndefined();
    expect(sparkDomain([], 30)).toBeUndefined();
  });

  it('puts each second at its end\'s place: 0 at the bottom, the scale at the top, clipped above it', () => {
    const domain = { fromMs: T - 2000, toMs: T };
    expect(sparkPoints([0, 50, 100], T, domain, 100, 20, 100)).toBe('0,20 50,10 100,0');
    expect(sparkPoints([10, 400], T, { fromMs: T - 1000, toMs: T }, 10, 10, 200)).toBe('0,9.5 10,0');
    expect(sparkPoints([], T, domain, 100, 20, 100)).toBe('');
  });

  it('gives a young session\'s seconds only their share of the width, at the right, as the same seconds of an older one', () => {
    const domain = { fromMs: T - 30_000, toMs: T };
    const young = sparkPoints([5, 5, 5, 5, 5], T, domain, 180, 18, 10);
    // 5 of 30 s: the last sixth of the width.
    expect(young).toBe('156,9 162,9 168,9 174,9 180,9');
    const older = sparkPoints([...new Array<number>(25).fill(0), 5, 5, 5, 5, 5], T, domain, 180, 18, 10);
    expect(older.endsWith(young)).toBe(true);
  });

  it('leaves a loop that ended where it ended, and out the seconds before the domain', () => {
    const domain = { fromMs: T - 30_000, toMs: T };
    // Ended 10 s ago: its latest second a third of the width short of the right edge.
    expect(sparkPoints([1, 2], T - 10_000, domain, 180, 18, 10)).toBe('114,16.2 120,14.4');
    // Ended 40 s ago: nothing of it in the latest 30 s.
    expect(sparkPoints([1, 2], T - 40_000, domain, 180, 18, 10)).toBe('');
    // The first of these ends before the domain: left out.
    expect(sparkPoints([7, 8, 9], T - 29_000, domain, 180, 18, 10)).toBe('0,3.6 6,1.8');
  });
});

describe('key findings about the other loops', () => {
  const MAIN = { pid: 10, threadId: 0 };
  const texts = (ps: ProcessLoops[], shown = MAIN) => loopFindings(ps, shown).map((f) => f.text);

  it('names a worker that blocked while the loop shown did not, and opens its loop', () => {
    const ps = [proc([loop(0), loop(2, { name: 'worker 2 cruncher', blockedCount: 22 }), loop(3, { name: 'worker 3 quick' })])];
    expect(loopFindings(ps, MAIN)).toEqual([{ id: 'loop-10-2', severity: 'problem', pane: 'loops', session: 's2', text: 'Worker 2 cruncher blocked 22×' }]);
    // Nothing wrong anywhere: nothing to say.
    expect(loopFindings([proc([loop(0), loop(1)])], MAIN)).toEqual([]);
  });

  it('leaves out the loop shown, whose own findings describe it; on a worker\'s screen names the main thread', () => {
    const ps = [proc([loop(0, { blockedCount: 3 }), loop(1, { blockedCount: 5 })])];
    expect(texts(ps)).toEqual(['Worker 1 blocked 5×']);
    expect(texts(ps, { pid: 10, threadId: 1 })).toEqual(['The main thread blocked 3×']);
  });

  it('says how a loop ended badly: an exit code other than 0, a worker terminated while its process ran on', () => {
    const ps = [
      proc([loop(0), loop(1, { status: 'ended', exitCode: 0 }), loop(2, { status: 'ended', exitCode: 3 }), loop(3, { status: 'ended', terminated: true })]),
      proc([loop(0, { status: 'ended', exitCode: 1 }), loop(1, { status: 'ended', terminated: true, blockedCount: 1 })], 20),
    ];
    const found = loopFindings(ps, MAIN);
    expect(found.map((f) => [f.text, f.severity])).toEqual([
      // The process's end terminated its worker: no news, but the worker's block is.
      ['Worker 1 of process 20 blocked 1×', 'problem'],
      ['Worker 2 exited with code 3', 'problem'],
      ['and 2 more loops that blocked or ended badly', 'problem'],
    ]);
    expect(texts([ps[0]!], { pid: 10, threadId: 2 })).toEqual(['Worker 3 was terminated']);
    expect(loopFindings([ps[0]!], { pid: 10, threadId: 2 })[0]!.severity).toBe('warning');
    expect(texts([proc([loop(0), loop(4, { status: 'ended', exitCode: 2, blockedCount: 6 })])])).toEqual(['Worker 4 blocked 6× and exited with code 2']);
  });

  it('names the most serious first (most blocks, then a bad exit), a few of them, and counts the rest', () => {
    const ps = [
      proc([loop(0), loop(1, { status: 'ended', terminated: true }), loop(2, { blockedCount: 2 }), loop(3, { status: 'ended', exitCode: 9 })]),
      proc([loop(0, { blockedCount: 40 }), loop(1, { blockedCount: 2, status: 'ended', exitCode: 1 })], 20),
    ];
    const found = loopFindings(ps, MAIN);
    expect(found).toHaveLength(LOOPS_NAMED + 1);
    expect(found.map((f) => f.text)).toEqual(['Process 20 blocked 40×', 'Worker 1 of process 20 blocked 2× and exited with code 1', 'and 3 more loops that blocked or ended badly']);
    expect(found.at(-1)).toMatchObject({ id: 'loops-more', pane: 'loops', severity: 'problem' });
    expect(found.at(-1)).not.toHaveProperty('session');
    // Only warnings left over: the count is one.
    const mild = loopFindings([proc([loop(0), loop(1, { blockedCount: 1 }), loop(2, { blockedCount: 1 }), loop(3, { status: 'ended', terminated: true })])], MAIN);
    expect(mild.at(-1)).toMatchObject({ text: 'and 1 more loop that blocked or ended badly', severity: 'warning' });
  });

  it('points at the Loops pane for a loop that cannot be opened on its own', () => {
    const [f] = loopFindings([proc([loop(0), loop(1, { sessionId: null, blockedCount: 1 })])], MAIN);
    expect(f).toEqual({ id: 'loop-10-1', severity: 'problem', pane: 'loops', text: 'Worker 1 blocked 1×' });
  });

  it('come among the key findings of a loop that has none of its own, problems first', () => {
    const view: FindingSources = {
      blockGroups: [], warnings: [], dropped: { frames: 0, bytes: 0 }, gcUnrecorded: 0, risingHeapFloor: null, exit: null, findings: [], pid: 10, threadId: 0,
      loops: [proc([loop(0), loop(1, { status: 'ended', terminated: true }), loop(2, { name: 'worker 2 cruncher', blockedCount: 4 })])],
    };
    expect(keyFindings(view, '/app').map((f) => [f.text, f.session])).toEqual([['Worker 2 cruncher blocked 4×', 's2'], ['Worker 1 was terminated', 's1']]);
    expect(keyFindings({ ...view, loops: [] }, '/app')).toEqual([]);
  });
});
