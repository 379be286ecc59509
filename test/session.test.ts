// The pure parts of a session: merging lag distributions, the reducer, the summary, the views.

import { describe, expect, it } from 'vitest';
import { addInterval, emptyLagHistogram, percentileOf } from '../main/session/lag-histogram';
import { KEPT_BLOCKED } from '../main/session/session-state';
import { feedOf } from './helpers/feed';
import { summarize } from '../main/reports/summary';
import { probeCost } from '../main/ui/view-model';
import { formatFrame, userFrames } from '../main/common/format';
import { renderLiveView } from '../main/terminal/live-view';
import { renderSummaryText } from '../main/terminal/summary-text';
import { TerminalScreen } from '../main/terminal/terminal-screen';
import { EventEmitter } from 'node:events';
import type { BlockedReport, MetricsSample, ProbeMessage, PromiseSkipping } from '../probe/wire';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './helpers/probe-harness';

const hello = {
  protocol: 1, token: 't', probeVersion: 'x', pid: 9, ppid: 1, nodeVersion: 'v20.1.0', platform: 'linux', arch: 'x64',
  argv: ['/usr/bin/node', '/srv/app.js'], execArgv: ['--inspect'], title: 'node', cwd: '/srv', threadId: 0, timeOriginMs: 0,
  config: { mode: 'metrics' as const, promises: false, intervalMs: 100, blockThresholdMs: 50 }, loadedBy: 'preload' as const,
};

function sample(i: number, lagUs: number, extra: Partial<MetricsSample> = {}): MetricsSample {
  return {
    timeUs: (i + 1) * 100_000, intervalUs: 100_000,
    lag: { minUs: lagUs, meanUs: lagUs, p50Us: lagUs, p90Us: lagUs, p99Us: lagUs, maxUs: lagUs, count: 10, stallMaxUs: 0, percentiles: [[0, lagUs], [100, lagUs]] },
    utilization: i % 2 ? 0.5 : 0.1, cpuUserUs: 10_000, cpuSystemUs: 1_000, rssBytes: 1e8 + i, heapUsedBytes: 1e7 + i,
    heapTotalBytes: 2e7, externalBytes: 0, arrayBuffersBytes: 0, gc: [], resources: [{ type: 'Timeout', count: 2 }], probeMainUs: 0, probeWorkerUs: 0, ...extra,
  };
}

describe('lag histogram', () => {
  it('merges intervals by their sample counts', () => {
    let h = emptyLagHistogram();
    for (let i = 0; i < 99; i++) h = addInterval(h, [[0, 100], [100, 100]], 10);
    h = addInterval(h, [[0, 200_000], [100, 200_000]], 10);
    expect(h.total).toBe(1000);
    expect(percentileOf(h, 50)).toBeCloseTo(100, -1);
    expect(percentileOf(h, 99)).toBeCloseTo(100, -1);
    expect(percentileOf(h, 99.5)).toBeGreaterThan(190_000);
    expect(percentileOf(emptyLagHistogram(), 99)).toBe(0);
  });

  it('is within 2% of the true value', () => {
    for (const v of [1.5, 37, 1234, 98_765]) {
      const h = addInterval(emptyLagHistogram(), [[100, v]], 1);
      expect(Math.abs(percentileOf(h, 50) - v) / v).toBeLessThan(0.02);
    }
  });
});

describe('session state and summary', () => {
  const run = feedOf;

  it('summarizes samples, GC and blocks in the documented shape', () => {
    const session = run([
      { type: 'hello', hello },
      ...Array.from({ length: 20 }, (_, i): ProbeMessage => ({ type: 'metrics', sample: sample(i, i === 5 ? 80_000 : 200, i === 3 ? { gc: [{ kind: 'major', startUs: 1, durationUs: 4000 }] } : {}) })),
      { type: 'blocked', report: { id: 1, state: 'ongoing', startUs: 500_000, durationUs: 60_000, stack: [{ functionName: 'f', url: '/srv/a.js', lineNumber: 1, columnNumber: 2 }] } },
      { type: 'blocked', report: { id: 1, state: 'ended', startUs: 500_000, durationUs: 80_000, stack: [] } },
      { type: 'blocked', report: { id: 2, state: 'ended', startUs: 900_000, durationUs: 55_000, stack: [], stackError: 'why' } },
    ]);
    const s = summarize(session, { durationMs: 2000, exitCode: 0, warnings: [] });
    expect(s).toMatchObject({
      pid: 9, nodeVersion: 'v20.1.0', mode: 'metrics', samples: 20, command: ['/usr/bin/node', '--inspect', '/srv/app.js'],
      lag: { maxMs: 80 }, utilization: { mean: 0.3, max: 0.5 }, cpu: { userMs: 200, systemMs: 20 },
      memory: { rssMaxBytes: 1e8 + 19, heapUsedMaxBytes: 1e7 + 19 }, gc: { count: 1, totalMs: 4, maxMs: 4 }, blockedCount: 2,
    });
    expect(s.lag.p50Ms).toBeCloseTo(0.2, 1);
    // Every sample's lag is one value: each percentile is that value, not its bucket's bound above it.
    const flat = summarize(run([{ type: 'hello', hello }, ...Array.from({ length: 20 }, (_, i): ProbeMessage => ({ type: 'metrics', sample: sample(i, 80_500) }))]), { durationMs: 2000, exitCode: 0, warnings: [] });
    expect([flat.lag.p50Ms, flat.lag.p99Ms, flat.lag.maxMs]).toEqual([80.5, 80.5, 80.5]);
    // The ended report kept the stack its ongoing report carried; longest first.
    expect(s.blocked.map((b) => [b.durationMs, b.stack.length, b.ongoing])).toEqual([[80, 1, false], [55, 0, false]]);
    expect(s.blocked[1]!.stackError).toBe('why');
    const text = renderSummaryText(s, '/srv');
    expect(text).toContain('f (a.js:1:2)');
    expect(text).toContain('no stack: why');
  });

  it('says where a block group\'s stack came from when not from the samples: the interrupt, and why', () => {
    const frame = { functionName: 'f', url: '/srv/a.js', lineNumber: 1, columnNumber: 2 };
    const text = (sampler: 'on' | 'off', unsampled?: string): string => renderSummaryText(summarize(run([
      { type: 'hello', hello },
      { type: 'profilerState', profiler: { state: sampler, intervalMs: 20 } },
      { type: 'blocked', report: { id: 1, state: 'ended', startUs: 1000, durationUs: 60_000, stack: [frame], stackSource: 'interrupt', ...(unsampled ? { unsampled } : {}) } },
    ]), { durationMs: 1000, exitCode: 0, warnings: [] }), '/srv');
    expect(text('on')).toContain('once (stack from the watchdog\'s interrupt: no CPU sample inside the block ran JavaScript)');
    expect(text('off')).toContain('once (stack from the watchdog\'s interrupt: the CPU sampler was not on)');
    // The probe's word on the block goes over the sampler's state at the end.
    expect(text('on', 'the CPU sampler had not started yet')).toContain('once (stack from the watchdog\'s interrupt: no CPU samples, the CPU sampler had not started yet)');
  });

  it('says where a group\'s stacks came from when its blocks\' differ: most from the samples, how many from the interrupt (a real attach)', () => {
    // `loopscope attach --json` to an HTTP server blocking in readFileSync under load: its first
    // block came before the sampler's first start, its stack from the interrupt; the next 25
    // at the same place from samples. The group once took the first's source for all 26.
    const { blocked } = JSON.parse(readFileSync(join(FIXTURES, 'readfile-attach-blocks.json'), 'utf8')) as { blocked: BlockedReport[] };
    const s = summarize(run([
      { type: 'hello', hello: { ...hello, cwd: '/tmp/journey' } },
      { type: 'profilerState', profiler: { state: 'on', intervalMs: 20 } },
      ...blocked.map((report): ProbeMessage => ({ type: 'blocked', report })),
    ]), { durationMs: 5466, exitCode: 0, warnings: [] });
    const [top] = s.blockedGroups;
    expect(top).toMatchObject({ count: 26, stackSource: 'samples', sources: { samples: 25, interrupt: 1, 'late-interrupt': 0, none: 0 } });
    expect(renderSummaryText(s, '/tmp/journey')).toContain('26× 4761 ms in all, longest 743 ms (stacks from CPU samples in 25 of 26 blocks, from the watchdog\'s interrupt in 1: no CPU samples, the CPU sampler had not started yet)\n      at loadReport (s1-readfile.js:7:18)');
    // One source for all: as before, no counts.
    expect(renderSummaryText(s, '/tmp/journey')).toMatch(/\n    267 ms once\n/);
  });

  it('forgets a withdrawn block', () => {
    const report = { id: 3, startUs: 0, durationUs: 60_000, stack: [] };
    const { state } = run([{ type: 'blocked', report: { ...report, state: 'ongoing' } }, { type: 'blocked', report: { ...report, state: 'cancelled' } }]);
    expect(state.blocked).toEqual([]);
    expect(state.totals.blockedCount).toBe(0);
  });

  it('keeps a bounded number of blocked reports, the longest', () => {
    const messages: ProbeMessage[] = Array.from({ length: KEPT_BLOCKED + 50 }, (_, i) => ({
      type: 'blocked', report: { id: i, state: 'ended', startUs: i, durationUs: i * 1000, stack: [] },
    }));
    const { state } = run(messages);
    expect(state.blocked).toHaveLength(KEPT_BLOCKED);
    expect(state.blocked[0]!.durationUs).toBe((KEPT_BLOCKED + 49) * 1000);
    expect(state.totals.blockedCount).toBe(KEPT_BLOCKED + 50);
  });

  it('keeps a bounded number of reports still ongoing, and of task types, whatever a stream says', () => {
    const ongoing: ProbeMessage[] = Array.from({ length: 5000 }, (_, i) => ({
      type: 'blocked', report: { id: i, state: 'ongoing', startUs: i, durationUs: 1000, stack: [] },
    }));
    expect(run(ongoing).state.blocked.length).toBeLessThanOrEqual(KEPT_BLOCKED + 16);
    const hist: [number, number][] = [];
    const types = (from: number) => Array.from({ length: 500 }, (_, i) => ({
      type: `T${from + i}`, created: 1, destroyed: 0, alive: 1, callbacks: 0, callbackUs: hist, callbackMaxUs: 0, queueUs: hist, queueMaxUs: 0,
    }));
    const tasks: ProbeMessage[] = Array.from({ length: 10 }, (_, k) => ({
      type: 'tasks', sample: {
        timeUs: k, intervalUs: 1, promisesTracked: false, types: types(k * 500), untracked: 0,
        threadpool: { size: 4, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [] }, timers: { fired: 0, lateUs: [], lateMaxUs: 0 },
        fanOut: { perCallback: [], max: 0, maxType: '' }, slowCallbacks: [], liveSites: [],
      },
    }));
    const byType = run(tasks).state.tasks.byType;
    expect(Object.keys(byType)).toHaveLength(1000);
    expect(byType['T0']!.aliveSeries).toHaveLength(10);
  });
});

describe('what the views say about promises', () => {
  const tasksMessage = (promisesTracked: boolean, promiseSkipping?: PromiseSkipping): ProbeMessage => ({
    type: 'tasks', sample: {
      timeUs: 100_000, intervalUs: 100_000, promisesTracked, ...(promiseSkipping ? { promiseSkipping } : {}), untracked: 0,
      types: [{ type: 'Timeout', created: 1, destroyed: 1, alive: 0, callbacks: 1, callbackUs: [[1, 1]], callbackMaxUs: 1, queueUs: [[1, 1]], queueMaxUs: 1 }],
      threadpool: { size: 4, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [] }, timers: { fired: 0, lateUs: [], lateMaxUs: 0 },
      fanOut: { perCallback: [], max: 0, maxType: '' }, slowCallbacks: [], liveSites: [],
    },
  });
  const views = (promisesTracked: boolean, promiseSkipping?: PromiseSkipping) => {
    const feed = feedOf([{ type: 'hello', hello: { ...hello, config: { ...hello.config, mode: 'tasks' } } }, { type: 'metrics', sample: sample(0, 100) }, tasksMessage(promisesTracked, promiseSkipping)]);
    const summary = summarize(feed, { durationMs: 100, exitCode: 0, warnings: [] });
    return {
      summary,
      text: renderSummaryText(summary),
      live: renderLiveView(feed, { width: 400, elapsedMs: 100, status: undefined, remainingMs: undefined }).join('\n'),
    };
  };

  it('name the way promises are left out, and say nothing of a cost where there is none', () => {
    for (const [skipping, words] of [['trackPromises', "Node's trackPromises: false"], ['kNoPromiseHook', "Node's kNoPromiseHook flag"], ['inspector', "the probe turned Node's promise hook off, through an inspector session of its own inside the process"]] as const) {
      const v = views(false, skipping);
      expect(v.summary.tasks!.promiseSkipping).toBe(skipping);
      expect(v.text).toContain(`promises not tracked (${words}`);
      expect(v.live).not.toContain('promises');
    }
  });

  it('say what the mode costs where this Node cannot leave promises out, and what --promises costs', () => {
    const none = views(false, 'none');
    expect(none.text).toMatch(/promises not tracked, but this Node runs its promise hooks for any async hook: tasks mode costs as much as tracking them, about half the requests\/s/);
    expect(none.live).toContain('this Node runs its promise hooks');
    const tracked = views(true);
    expect(tracked.text).toContain('promises tracked (--promises): this costs about half the requests/s');
    expect(tracked.live).toContain('promises tracked (--promises)');
    // A probe that did not say how: as before.
    expect(views(false).text).toContain('promises not tracked; --promises to include them');
  });
});

describe('terminal views', () => {
  it('renders the live view within the terminal width', () => {
    const state = run2();
    const lines = renderLiveView(state, { width: 60, elapsedMs: 65_000, status: undefined, remainingMs: 5000 });
    expect(lines[0]).toContain('pid 9');
    expect(lines[0]).toContain('01:05');
    expect(lines.join('\n')).toContain('blocked  1 in 1 place (most blocked time first)');
    expect(lines.join('\n')).toContain('70.0 ms  work (app.js:3:4)');
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(60);
  });

  it('keeps the latest seconds of the lag sparkline in a narrow terminal', () => {
    // 10 s of samples, with a spike 2.4 s before the end.
    const messages: ProbeMessage[] = [{ type: 'hello', hello }, ...Array.from({ length: 100 }, (_, i): ProbeMessage => ({ type: 'metrics', sample: sample(i, i === 75 ? 150_000 : 200) }))];
    const state = feedOf(messages);
    for (const width of [80, 120]) {
      const line = renderLiveView(state, { width, elapsedMs: 10_000, status: undefined, remainingMs: undefined }).find((l) => l.startsWith(' lag'))!;
      const [, seconds, spark] = /(\d+) s: (\S+)$/.exec(line)!;
      expect([...line].length).toBeLessThanOrEqual(width);
      expect([...spark!].length).toBe(Number(seconds));
      expect([...spark!].slice(-3)).toEqual(['█', '▁', '▁']); // the spike, then the two seconds after it
    }
  });

  it('says where a frame is, and puts the target\'s own frames first', () => {
    const own = { functionName: 'work', url: 'file:///srv/app.js', lineNumber: 3, columnNumber: 4 };
    const builtin = { functionName: 'hasOwnProperty', url: '', lineNumber: 0, columnNumber: 0 };
    const evald = { functionName: 'eval', url: '', lineNumber: 2, columnNumber: 7 };
    const node = { functionName: 'now', url: 'node:internal/perf/performance', lineNumber: 90, columnNumber: 5 };
    expect(formatFrame(own, '/srv')).toBe('work (app.js:3:4)');
    expect(formatFrame(builtin)).toBe('hasOwnProperty (built-in)');
    expect(formatFrame(evald)).toBe("eval (eval'd code:2:7)");
    expect(userFrames([builtin, node, own])).toEqual([own]);
    expect(userFrames([builtin, node])).toEqual([builtin, node]); // nothing of its own: all of it
  });

  it('gives the GC rate over a span whose pauses have all arrived, by their start', () => {
    // A pause every 100 ms of 2 ms, delivered in batches once a second, as traced pauses are.
    const messages: ProbeMessage[] = Array.from({ length: 50 }, (_, i) => {
      const batch = i % 10 === 9 ? Array.from({ length: 10 }, (_, k) => ({ kind: 'minor' as const, startUs: (i - 9 + k) * 100_000 + 20_000, durationUs: 2000 })) : [];
      return { type: 'metrics', sample: sample(i, 200, { gc: batch }) };
    });
    const lines = renderLiveView(feedOf(messages), { width: 100, elapsedMs: 5000, status: undefined, remainingMs: undefined }).join('\n');
    expect(lines).toMatch(/gc +10\/s, 20(\.0)? ms\/s \(the last settled 2 s\)/);
  });

  it('keeps the footer below a scroll region the target\'s output scrolls in, each change one write, and gives the screen back', () => {
    const writes: string[] = [];
    const out = Object.assign(new EventEmitter(), { columns: 80, rows: 24, write: (s: string) => writes.push(s) > 0 });
    const screen = new TerminalScreen(out);
    screen.draw(['A', 'B']);
    expect(writes).toHaveLength(1);
    // Room made below the cursor's line, the region above the footer's two rows, the rows drawn.
    expect(writes[0]).toBe('\x1b7\x1b[r\x1b8\n\n\x1b[2A\x1b7\x1b[1;22r\x1b8\x1b7\x1b[0m\x1b[23;1H\x1b[2KA\x1b[24;1H\x1b[2KB\x1b8');
    screen.draw(['A', 'B', 'C']);
    // A taller footer: the region scrolls up a row first, and the cursor follows its text.
    expect(writes[1]).toMatch(/^\x1b7\x1b\[22;1H\n\x1b\[1;21r\x1b8\x1b\[1A\x1b7/);
    screen.draw(['A']);
    expect(writes[2]).toBe('\x1b7\x1b[0m\x1b[22;1H\x1b[2KA\x1b[23;1H\x1b[2K\x1b[24;1H\x1b[2K\x1b8');
    out.rows = 30;
    out.emit('resize');
    expect(writes[3]).toContain('\x1b[1;27r');
    screen.close();
    expect(writes[4]).toBe('\x1b7\x1b[r\x1b[28;1H\x1b[2K\x1b[29;1H\x1b[2K\x1b[30;1H\x1b[2K\x1b8');
    screen.draw(['X']);
    expect(writes).toHaveLength(5);
  });

  function run2() {
    return feedOf([
      { type: 'hello', hello },
      ...Array.from({ length: 12 }, (_, i): ProbeMessage => ({ type: 'metrics', sample: sample(i, 300) })),
      { type: 'blocked', report: { id: 1, state: 'ended', startUs: 5, durationUs: 70_000, stack: [{ functionName: 'work', url: 'file:///srv/app.js', lineNumber: 3, columnNumber: 4 }] } },
    ] as ProbeMessage[]);
  }
});

describe('the probe\'s cost in the view', () => {
  it('averages the probe\'s own time over the last samples, as % of one core, and is null without it', () => {
    const feed = feedOf([{ type: 'hello', hello }]);
    expect(probeCost(feed.recent)).toBeNull();
    for (let i = 0; i < 5; i++) feed.apply({ type: 'metrics', sample: sample(i, 100) });
    expect(probeCost(feed.recent)).toBeNull();
    // Older samples fall out of the average: only the last ten count.
    for (let i = 5; i < 30; i++) feed.apply({ type: 'metrics', sample: sample(i, 100, { probeMainUs: i < 20 ? 50_000 : 500, probeWorkerUs: i < 20 ? 0 : 1_250 }) });
    expect(probeCost(feed.recent)).toEqual({ mainPercent: 0.5, workerPercent: 1.3 });
  });
});

describe('a session of several loops', () => {
  const loop = (threadId: number, lagUs: number, blocks: number, exitCode?: number) => feedOf([
    { type: 'hello', hello: { ...hello, threadId, ...(threadId ? { threadName: `w${threadId}` } : {}) } },
    ...Array.from({ length: 10 }, (_, i) => ({ type: 'metrics' as const, sample: sample(i, lagUs) })),
    ...Array.from({ length: blocks }, (_, i) => ({ type: 'blocked' as const, report: { id: i + 1, state: 'ended' as const, startUs: i * 1000, durationUs: 60_000, stack: [{ functionName: `f${threadId}`, url: '/srv/app.js', lineNumber: 3, columnNumber: 1 }] } })),
    ...(exitCode === undefined ? [] : [{ type: 'goodbye' as const, goodbye: { reason: 'target exiting', exitCode } }]),
  ]);

  it('the live view has a line per loop, the worst first, with ended ones and their code', () => {
    const main = loop(0, 200, 0);
    const loops = [main, loop(1, 90_000, 2, 3), loop(2, 5_000, 1)];
    const lines = renderLiveView(main, { width: 120, elapsedMs: 1000, status: undefined, remainingMs: undefined, loops });
    const at = lines.findIndex((l) => l.startsWith(' loops'));
    expect(lines[at]).toBe(' loops    3 (worst first)');
    expect(lines.slice(at + 1, at + 4).map((l) => l.trim().split(/\s+/).slice(1, 4).join(' '))).toEqual(['worker 1 w1', 'worker 2 w2', 'main p99 0.20']);
    expect(lines[at + 1]).toMatch(/max 90\.0 ms .*blocks 2  ended \(3\)$/);
    // One loop: no loop lines, the view as before.
    expect(renderLiveView(main, { width: 120, elapsedMs: 1000, status: undefined, remainingMs: undefined, loops: [main] }).some((l) => l.startsWith(' loops'))).toBe(false);
  });

  it('the summary keeps the first loop at the top level and lists every loop with its blocks and exit code', () => {
    const main = loop(0, 200, 0);
    const worker = loop(4, 90_000, 2, 1);
    const s = summarize(main, { durationMs: 1000, exitCode: 0, warnings: [], loops: [{ data: main, exitCode: 0 }, { data: worker }] });
    expect(s.blockedCount).toBe(0);
    expect(s.loops).toHaveLength(2);
    expect(s.loops[0]).toMatchObject({ pid: 9, threadId: 0, name: 'main', ppid: 1, blockedCount: 0, exitCode: 0 });
    expect(s.loops[1]).toMatchObject({ threadId: 4, name: 'worker 4 w4', blockedCount: 2, exitCode: 1, lag: { maxMs: 90 } });
    // Each loop's blocked list has the top level's shape.
    expect(Object.keys(s.loops[1]!.blocked[0]!).sort()).toEqual(Object.keys(summarize(worker, { durationMs: 1, exitCode: null, warnings: [] }).blocked[0]!).sort());
    // Alone, a session's loops are itself.
    expect(summarize(main, { durationMs: 1, exitCode: 2, warnings: [] }).loops).toEqual([expect.objectContaining({ threadId: 0, exitCode: 2 })]);
  });
});
