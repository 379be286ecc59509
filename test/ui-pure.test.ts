// The UI's pure parts: downsampling, command splitting, task sorting, call checking, the
// request guard.

import { describe, expect, it } from 'vitest';
import { downsampleMax } from '../renderer/charts/downsample';
import { splitCommand } from '../renderer/split-command';
import { checkRequest } from '../main/web-host/request-guard';
import { CallError, dispatchCall, parseConfig } from '../main/ui/ui-calls';
import type { TaskRow, UiApi } from '../main/ui/ui-api';
import { sortRows } from '../renderer/tasks/sort-rows';
import { keepEqual } from '../renderer/keep-equal';
import { keepRecent } from '../renderer/keep-recent';
import { FrameTurns } from '../renderer/charts/frame-turns';
import { nearestTickIndex } from '../renderer/charts/nearest-tick';
import { fakeApi } from './helpers/fake-api';
import { gcByStart, newPoints, revisedPoints } from '../main/ui/view-model';
import { feedOf } from './helpers/feed';
import { revise } from '../renderer/revise-points';
import type { MetricsSample, ProbeMessage } from '../probe/wire';
import { MAX_TIMELINE_SPAN_S } from '../main/ui/ui-calls';
import type { TimelineSlice } from '../main/ui/ui-api';
import * as tm from '../renderer/timeline/timeline-math';
import { chainStart, formatDuration, legendOf, resourceSummary, typeColor } from '../renderer/timeline/trace-format';

describe('downsampleMax', () => {
  const series = (n: number) => Array.from({ length: n }, (_, i) => ({ t: i, v: 1, w: i % 7 }));

  it('leaves a series that fits unchanged', () => {
    const s = series(50);
    expect(downsampleMax(s, 100, ['v'])).toEqual(s);
    expect(downsampleMax([], 100, ['v'])).toEqual([]);
  });

  it('gives at most one point per pixel column and keeps a one-sample spike', () => {
    const s = series(100_000);
    s[77_777] = { t: 77_777, v: 500, w: 0 };
    const out = downsampleMax(s, 640, ['v', 'w']);
    expect(out.length).toBeLessThanOrEqual(640);
    expect(out.length).toBeGreaterThan(600);
    expect(Math.max(...out.map((p) => p.v))).toBe(500);
    expect(out.filter((p) => p.v === 500)).toHaveLength(1);
    expect(Math.max(...out.map((p) => p.w))).toBe(6);
    // Time stays in order, and each column keeps its first time.
    for (let i = 1; i < out.length; i++) expect(out[i]!.t).toBeGreaterThan(out[i - 1]!.t);
  });

  it('treats a width below one as one column', () => {
    expect(downsampleMax(series(10), 0, ['v'])).toHaveLength(1);
  });
});

describe('nearestTickIndex (the charts\' shared crosshair)', () => {
  it('picks the sample nearest the hovered time, as number or text', () => {
    expect(nearestTickIndex([0.1, 1.1, 2.1, 3.1], 2.4)).toBe(2);
    expect(nearestTickIndex([0.1, 1.1, 2.1, 3.1], '2.9')).toBe(3);
    expect(nearestTickIndex([0.1, 1.1, 2.1, 3.1], -5)).toBe(0);
  });

  it('picks none for a label that is no time: not the first sample, where every tip stayed', () => {
    for (const label of [undefined, null, '', 'x', Number.NaN, {}]) expect(nearestTickIndex([0.1, 1.1], label), String(label)).toBe(-1);
    expect(nearestTickIndex([], 1)).toBe(-1);
  });
});

describe('splitCommand', () => {
  it('splits on spaces and groups quotes', () => {
    expect(splitCommand('  node  app.js --name "a b" \'c d\' ""')).toEqual(['node', 'app.js', '--name', 'a b', 'c d', '']);
    expect(splitCommand('   ')).toEqual([]);
  });
});

describe('checkRequest', () => {
  const token = 'secret-token';
  const ok = { url: `/${token}/app.js`, host: '127.0.0.1:4000', origin: undefined };

  it('lets through the token with this host', () => {
    expect(checkRequest(ok, 4000, token)).toEqual({ ok: true, path: '/app.js' });
    expect(checkRequest({ ...ok, url: `/${token}`, host: 'localhost:4000', origin: 'http://localhost:4000' }, 4000, token)).toEqual({ ok: true, path: '/' });
  });

  it('lets through the browser\'s /favicon.ico without the token, with this host only', () => {
    expect(checkRequest({ ...ok, url: '/favicon.ico' }, 4000, token)).toEqual({ ok: true, path: '/favicon.ico' });
    expect(checkRequest({ ...ok, url: '/favicon.ico', host: 'evil.example:4000' }, 4000, token)).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses a missing or wrong token, a foreign Host, a foreign Origin', () => {
    expect(checkRequest({ ...ok, url: '/app.js' }, 4000, token)).toMatchObject({ ok: false, status: 403 });
    expect(checkRequest({ ...ok, url: '/secret-tokem/' }, 4000, token)).toMatchObject({ ok: false, status: 403 });
    expect(checkRequest({ ...ok, url: `/x?t=${token}` }, 4000, token)).toMatchObject({ ok: false });
    expect(checkRequest({ ...ok, host: 'evil.example:4000' }, 4000, token)).toMatchObject({ ok: false, reason: expect.stringContaining('Host') });
    expect(checkRequest({ ...ok, host: '127.0.0.1:4001' }, 4000, token)).toMatchObject({ ok: false });
    expect(checkRequest({ ...ok, host: undefined }, 4000, token)).toMatchObject({ ok: false });
    expect(checkRequest({ ...ok, origin: 'http://evil.example' }, 4000, token)).toMatchObject({ ok: false, reason: expect.stringContaining('Origin') });
    expect(checkRequest({ ...ok, origin: 'null' }, 4000, token)).toMatchObject({ ok: false });
  });
});

describe('calls from a transport', () => {
  const calls: unknown[][] = [];
  const api: UiApi = fakeApi({
    listProcesses: async () => [],
    attach: async (...a) => (calls.push(['attach', ...a]), 's1'),
    launch: async (...a) => (calls.push(['launch', ...a]), 's2'),
    launchDemo: async () => 's3',
    configure: async (...a) => void calls.push(['configure', ...a]),
    stop: async () => undefined,
    subscribe: () => () => undefined,
  });


  it('passes checked arguments through', async () => {
    await dispatchCall(api, 'attach', [42, null]);
    await dispatchCall(api, 'launch', [['node', 'a.js'], { mode: 'tasks', intervalMs: 50 }]);
    await dispatchCall(api, 'configure', ['s1', { blockThresholdMs: 20, promises: true }]);
    expect(calls).toEqual([['attach', 42, {}], ['launch', ['node', 'a.js'], { mode: 'tasks', intervalMs: 50 }, undefined], ['configure', 's1', { blockThresholdMs: 20, promises: true }]]);
  });

  it('refuses bad arguments with what was wrong', () => {
    expect(() => dispatchCall(api, 'attach', ['42'])).toThrow(/pid/);
    expect(() => dispatchCall(api, 'attach', [-1])).toThrow(CallError);
    expect(() => dispatchCall(api, 'launch', [[]])).toThrow(/command/);
    expect(() => dispatchCall(api, 'launch', [['node', 3]])).toThrow(/command/);
    expect(() => dispatchCall(api, 'configure', ['../x', {}])).toThrow(/sessionId/);
    expect(() => parseConfig({ mode: 'everything' })).toThrow(/mode/);
    expect(() => parseConfig({ intervalMs: 1 })).toThrow(/intervalMs/);
    expect(() => parseConfig({ extra: 1 })).toThrow(/unknown/);
    expect(() => parseConfig([1])).toThrow(/object/);
  });
});

describe('sortRows', () => {
  const row = (type: string, callbacks: number): TaskRow => ({ type, created: 0, destroyed: 0, alive: 0, callbacks, callbacksTimed: callbacks, createdPerS: 0, callbacksPerS: 0, callbackP50Ms: 0, callbackP99Ms: 0, callbackMaxMs: 0 });
  const rows = [row('Timeout', 5), row('FSREQCALLBACK', 50), row('Immediate', 1)];

  it('sorts by numbers and by names, either way', () => {
    expect(sortRows(rows, 'callbacks', true).map((r) => r.type)).toEqual(['FSREQCALLBACK', 'Timeout', 'Immediate']);
    expect(sortRows(rows, 'callbacks', false).map((r) => r.type)).toEqual(['Immediate', 'Timeout', 'FSREQCALLBACK']);
    expect(sortRows(rows, 'type', false).map((r) => r.type)).toEqual(['FSREQCALLBACK', 'Immediate', 'Timeout']);
    expect(rows.map((r) => r.type)).toEqual(['Timeout', 'FSREQCALLBACK', 'Immediate']);
  });
});

describe('timeline calls from a transport', () => {
  const calls: unknown[][] = [];
  const api = fakeApi({
    timeline: async (...a) => (calls.push(['timeline', ...a]), { fromS: 0, toS: 1, turns: [], slices: [], hiddenTurns: 0, hiddenSlices: 0, extent: null, keepS: 10, full: false, tracedFromAsyncId: null }),
    causality: async (...a) => (calls.push(['causality', ...a]), null),
  });

  it('passes a window and an asyncId through', async () => {
    await dispatchCall(api, 'timeline', ['s1', -2.5, 10]);
    await dispatchCall(api, 'causality', ['s1', 42]);
    expect(calls).toEqual([['timeline', 's1', -2.5, 10], ['causality', 's1', 42]]);
  });

  it('refuses windows that are not finite, inverted, empty or too wide, and ids that are not positive integers', () => {
    for (const [from, to] of [[0, Number.NaN], [Number.NEGATIVE_INFINITY, 1], ['0', 1], [2, 1], [1, 1], [0, MAX_TIMELINE_SPAN_S + 1], [null, 1]]) {
      expect(() => dispatchCall(api, 'timeline', ['s1', from, to])).toThrow(CallError);
    }
    expect(() => dispatchCall(api, 'timeline', ['nope', 0, 1])).toThrow(/sessionId/);
    for (const id of [0, -3, 1.5, '7', 2 ** 60, null]) expect(() => dispatchCall(api, 'causality', ['s1', id])).toThrow(/asyncId/);
  });
});

describe('timeline geometry', () => {
  const w: tm.TimeWindow = { fromS: 10, toS: 12 };
  const slice = (startS: number, durationMs: number, depth = 0, asyncId = 1): TimelineSlice => ({ asyncId, type: 'Timeout', name: null, startS, durationMs, depth });

  it('maps times to pixels and back', () => {
    expect(tm.xOf(w, 1000, 11)).toBe(500);
    expect(tm.timeAt(w, 1000, 250)).toBe(10.5);
    expect(tm.timeAt(w, 1000, tm.xOf(w, 1000, 11.234))).toBeCloseTo(11.234, 9);
  });

  it('zooms around the anchor, within the span limits', () => {
    const z = tm.zoomAround(w, 10.5, 0.5);
    expect(tm.spanOf(z)).toBeCloseTo(1, 9);
    // The anchor stays a quarter of the way across.
    expect((10.5 - z.fromS) / tm.spanOf(z)).toBeCloseTo(0.25, 9);
    expect(tm.spanOf(tm.zoomAround(w, 11, 1e-9))).toBeCloseTo(tm.MIN_SPAN_S, 12);
    expect(tm.spanOf(tm.zoomAround(w, 11, 1e9))).toBe(tm.MAX_SPAN_S);
    expect(tm.wheelFactor(100)).toBeGreaterThan(1);
    expect(tm.wheelFactor(-100)).toBeLessThan(1);
    expect(tm.wheelFactor(1e6)).toBe(tm.wheelFactor(500));
  });

  it('pans with the drag, and follows the latest seconds', () => {
    expect(tm.panBy(w, 1000, 250)).toEqual({ fromS: 9.5, toS: 11.5 });
    expect(tm.panBy(w, 0, 250)).toEqual(w);
    expect(tm.followWindow(30, 5)).toEqual({ fromS: 25, toS: 30 });
    expect(tm.followWindow(30, 1e6)).toEqual({ fromS: 30 - tm.MAX_SPAN_S, toS: 30 });
  });

  it('draws every callback at least a pixel wide, deeper ones sharing the last row', () => {
    const tiny = tm.sliceBox(w, 1000, slice(11, 0.001));
    expect(tiny.w).toBe(1);
    expect(tm.sliceBox(w, 1000, slice(11, 500)).w).toBeCloseTo(250, 9);
    const deep = tm.sliceBox(w, 1000, slice(11, 1, 40));
    expect(deep.y).toBe(tm.sliceBox(w, 1000, slice(11, 1, tm.ROWS - 1)).y);
    expect(deep.y + deep.h).toBeLessThanOrEqual(tm.CANVAS_H);
    expect(tm.turnBox(w, 1000, { startS: 11, durationMs: 1000, callbacks: 3 })).toEqual({ x: 500, w: 500, y: tm.AXIS_H, h: tm.TURN_H });
  });

  it('finds the callback under the pointer: in its row, nearest, then longest', () => {
    const slices = [slice(10.5, 100, 0, 1), slice(10.52, 1, 1, 2), slice(11, 0.001, 0, 3), slice(11, 200, 0, 4)];
    const row0 = tm.sliceBox(w, 1000, slices[0]!).y + 2;
    const row1 = tm.sliceBox(w, 1000, slices[1]!).y + 2;
    expect(tm.hitSlice(slices, w, 1000, 260, row0)).toBe(0);
    expect(tm.hitSlice(slices, w, 1000, 260, row1)).toBe(1);
    // The tiny one and the long one start at the same pixel: the long one wins.
    expect(tm.hitSlice(slices, w, 1000, 500, row0)).toBe(3);
    // Just past the end of the first (x 300) is still it; well past, nothing.
    expect(tm.hitSlice(slices, w, 1000, 301.5, row0)).toBe(0);
    expect(tm.hitSlice(slices, w, 1000, 400, row0)).toBe(-1);
    expect(tm.hitSlice(slices, w, 1000, 260, 2)).toBe(-1);
    expect(tm.hitSlice([], w, 1000, 260, row0)).toBe(-1);
  });

  it('puts axis ticks on round steps, spaced for labels', () => {
    expect(tm.ticks(w, 1000)).toEqual([10, 10.2, 10.4, 10.6, 10.8, 11, 11.2, 11.4, 11.6, 11.8, 12]);
    const close = tm.ticks({ fromS: 1.00003, toS: 1.00052 }, 800);
    expect(close.length).toBeGreaterThan(3);
    expect(close.length).toBeLessThanOrEqual(9);
    expect(close.every((t) => t >= 1.00003 && t <= 1.00052)).toBe(true);
    expect(tm.ticks(w, 0)).toEqual([]);
    expect(tm.tickLabel(10.2, 0.2)).toBe('10.2 s');
    expect(tm.tickLabel(1.0001, 0.0001)).toBe('1.0001 s');
    expect(tm.tickLabel(20, 5)).toBe('20 s');
  });
});

describe('trace formatting', () => {
  it('writes durations in the unit that reads best', () => {
    expect(formatDuration(0.012)).toBe('12 µs');
    expect(formatDuration(3.4567)).toBe('3.46 ms');
    expect(formatDuration(23.04)).toBe('23.0 ms');
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(2500)).toBe('2.50 s');
  });

  it('gives each type one colour, the common ones their own', () => {
    expect(typeColor('Timeout')).not.toBe(typeColor('Immediate'));
    expect(typeColor('SOMETHINGNEW')).toBe(typeColor('SOMETHINGNEW'));
    expect(typeColor('SOMETHINGNEW')).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('sums up a resource and where its chain starts', () => {
    const r = { asyncId: 5, type: 'Timeout', name: null, triggerId: 4, initS: 1.2, destroyedS: 1.5, callbacks: 2, callbackMs: 3.1 };
    expect(resourceSummary(r)).toBe('created 1.200 s · 2 callbacks, 3.10 ms · destroyed 1.500 s');
    expect(resourceSummary({ ...r, destroyedS: null, callbacks: 0 })).toBe('created 1.200 s · no callbacks · not destroyed yet');
    expect(chainStart(1, 50)).toMatch(/main script/);
    expect(chainStart(77, 100)).toMatch(/#77, created before tracing started/);
    expect(chainStart(77, 50)).toMatch(/#77, forgotten by the trace/);
  });

  it('lists the types in view for the legend, the most time first', () => {
    const s = (type: string, durationMs: number): TimelineSlice => ({ asyncId: 1, type, name: null, startS: 0, durationMs, depth: 0 });
    expect(legendOf([s('Timeout', 5), s('Immediate', 1), s('Timeout', 2), s('TCPWRAP', 9)], 2)).toEqual([
      { type: 'TCPWRAP', count: 1, ms: 9 },
      { type: 'Timeout', count: 2, ms: 7 },
    ]);
    expect(legendOf([], 8)).toEqual([]);
  });
});

describe('keepEqual', () => {
  const view = () => ({ id: 's1', dropped: { frames: 0, bytes: 0 }, tasks: [{ type: 'Immediate', created: 5 }, { type: 'TickObject', created: 9 }], error: null });

  it('gives back the previous object when everything is equal', () => {
    const prev = view();
    expect(keepEqual(prev, view())).toBe(prev);
    expect(keepEqual(undefined, prev)).toBe(prev);
    expect(keepEqual(3, 3)).toBe(3);
  });

  it('keeps the equal parts of a changed object and takes the new ones', () => {
    const prev = view();
    const next = { ...view(), tasks: [{ type: 'Immediate', created: 5 }, { type: 'TickObject', created: 10 }] };
    const out = keepEqual(prev, next);
    expect(out).toEqual(next);
    expect(out).not.toBe(prev);
    expect(out.dropped).toBe(prev.dropped);
    expect(out.tasks).not.toBe(prev.tasks);
    expect(out.tasks[0]).toBe(prev.tasks[0]);
    expect(out.tasks[1]).toEqual({ type: 'TickObject', created: 10 });
  });

  it('sees added, removed and retyped parts', () => {
    expect(keepEqual({ a: 1 } as Record<string, unknown>, { a: 1, b: undefined })).toEqual({ a: 1, b: undefined });
    expect(keepEqual({ a: 1, b: 2 } as Record<string, unknown>, { a: 1 })).toEqual({ a: 1 });
    expect(keepEqual([1, 2, 3], [1, 2])).toEqual([1, 2]);
    expect(keepEqual<unknown>([1], { 0: 1 })).toEqual({ 0: 1 });
    expect(keepEqual<unknown>({ a: null }, { a: {} })).toEqual({ a: {} });
  });
});

describe('FrameTurns', () => {
  const setup = () => {
    const frames: (() => void)[] = [];
    const turns = new FrameTurns((run) => frames.push(run));
    const drawn: string[] = [];
    const frame = (): void => frames.shift()?.();
    return { turns, frames, drawn, frame };
  };

  it('runs one request per frame, in order, each with its latest callback', () => {
    const { turns, frames, drawn, frame } = setup();
    const [a, b, c] = [{}, {}, {}];
    turns.request(a, () => drawn.push('a1'));
    turns.request(b, () => drawn.push('b1'));
    turns.request(a, () => drawn.push('a2'));
    turns.request(c, () => drawn.push('c1'));
    expect(frames).toHaveLength(1);
    frame();
    expect(drawn).toEqual(['a2']);
    frame();
    frame();
    expect(drawn).toEqual(['a2', 'b1', 'c1']);
    expect(frames).toHaveLength(0);
  });

  it('forgets a cancelled request, and asks for no frame when none waits', () => {
    const { turns, frames, drawn, frame } = setup();
    const [a, b] = [{}, {}];
    turns.request(a, () => drawn.push('a'));
    turns.request(b, () => drawn.push('b'));
    turns.cancel(a);
    frame();
    expect(drawn).toEqual(['b']);
    turns.request(a, () => drawn.push('a'));
    turns.cancel(a);
    frame();
    expect(drawn).toEqual(['b']);
    expect(frames).toHaveLength(0);
  });
});

describe('keepRecent', () => {
  const at = (...ts: number[]) => ts.map((t) => ({ t }));

  it('keeps the last seconds, and no more than the cap', () => {
    const all = at(0, 10, 20, 30, 40);
    expect(keepRecent(all, 100, 10)).toBe(all);
    expect(keepRecent(all, 20, 10)).toEqual(at(20, 30, 40));
    expect(keepRecent(all, 100, 2)).toEqual(at(30, 40));
    expect(keepRecent([], 20, 10)).toEqual([]);
  });
});

describe('GC time on the charts, where each pause began', () => {
  // Samples every 100 ms; pauses of 2 ms every 100 ms, delivered in batches once a second.
  const sampleAt = (i: number): MetricsSample => ({
    timeUs: (i + 1) * 100_000, intervalUs: 100_000,
    lag: { minUs: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, maxUs: 0, count: 1, stallMaxUs: 0, percentiles: [] },
    utilization: 0, cpuUserUs: 0, cpuSystemUs: 0, rssBytes: 0, heapUsedBytes: 0, heapTotalBytes: 0, externalBytes: 0, arrayBuffersBytes: 0,
    gc: i % 10 === 9 ? Array.from({ length: 10 }, (_, k) => ({ kind: 'minor' as const, startUs: (i - 9 + k) * 100_000 + 50_000, durationUs: 2000 })) : [],
    resources: [], probeMainUs: 0, probeWorkerUs: 0,
  });
  const state = (n: number) => feedOf(Array.from({ length: n }, (_, i): ProbeMessage => ({ type: 'metrics', sample: sampleAt(i) })));

  it('bins each pause into the interval it began in, not the one that carried it', () => {
    expect([...gcByStart(state(20).recent, 0)]).toEqual(Array.from({ length: 20 }, () => 2000));
    expect(newPoints(state(20), 20).map((p) => p.gcMs)).toEqual(Array.from({ length: 20 }, () => 2));
  });

  it('sends the earlier points again once their pauses arrive, and the page puts them in place', () => {
    // Points 10..18 were sent without GC; sample 19 brings their pauses.
    const before = newPoints(state(19), 19);
    expect(before.slice(10).map((p) => p.gcMs)).toEqual(Array.from({ length: 9 }, () => 0));
    const s = state(20);
    const revised = revisedPoints(s, 1);
    expect(revised.map((p) => p.t)).toEqual(before.slice(10).map((p) => p.t));
    expect(revised.every((p) => p.gcMs === 2)).toBe(true);
    const shown = revise(before, revised).concat(newPoints(s, 1));
    expect(shown.map((p) => p.gcMs)).toEqual(Array.from({ length: 20 }, () => 2));
    expect(revisedPoints(state(21), 1)).toEqual([]);
    // An update with no new samples (the view alone changed) revises nothing.
    expect(revisedPoints(state(20), 0)).toEqual([]);
  });
});
