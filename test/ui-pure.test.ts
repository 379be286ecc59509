// The UI's pure parts: downsampling, command splitting, task sorting, call checking, the
// request guard.

import { describe, expect, it } from 'vitest';
import { downsampleMax } from '../renderer/charts/downsample';
import { splitCommand } from '../renderer/split-command';
import { checkRequest } from '../main/web-host/request-guard';
import { CallError, dispatchCall, parseConfig } from '../main/ui-calls';
import type { TaskRow, UiApi } from '../main/ui-api';
import { sortRows } from '../renderer/screens/sort-rows';

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
  const api: UiApi = {
    listProcesses: async () => [],
    attach: async (...a) => (calls.push(['attach', ...a]), 's1'),
    launch: async (...a) => (calls.push(['launch', ...a]), 's2'),
    launchDemo: async () => 's3',
    configure: async (...a) => void calls.push(['configure', ...a]),
    stop: async () => undefined,
    subscribe: () => () => undefined,
  };

  it('passes checked arguments through', async () => {
    await dispatchCall(api, 'attach', [42, null]);
    await dispatchCall(api, 'launch', [['node', 'a.js'], { mode: 'tasks', intervalMs: 50 }]);
    await dispatchCall(api, 'configure', ['s1', { blockThresholdMs: 20, promises: true }]);
    expect(calls).toEqual([['attach', 42, {}], ['launch', ['node', 'a.js'], { mode: 'tasks', intervalMs: 50 }], ['configure', 's1', { blockThresholdMs: 20, promises: true }]]);
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
  const row = (type: string, callbacks: number): TaskRow => ({ type, created: 0, destroyed: 0, alive: 0, callbacks, callbackP50Ms: 0, callbackP99Ms: 0, callbackMaxMs: 0 });
  const rows = [row('Timeout', 5), row('FSREQCALLBACK', 50), row('Immediate', 1)];

  it('sorts by numbers and by names, either way', () => {
    expect(sortRows(rows, 'callbacks', true).map((r) => r.type)).toEqual(['FSREQCALLBACK', 'Timeout', 'Immediate']);
    expect(sortRows(rows, 'callbacks', false).map((r) => r.type)).toEqual(['Immediate', 'Timeout', 'FSREQCALLBACK']);
    expect(sortRows(rows, 'type', false).map((r) => r.type)).toEqual(['FSREQCALLBACK', 'Immediate', 'Timeout']);
    expect(rows.map((r) => r.type)).toEqual(['Timeout', 'FSREQCALLBACK', 'Immediate']);
  });
});
