// `loopscope export --format chrome-trace`, opened in a real trace viewer: Catapult's trace
// viewer, the one chrome://tracing is. Debian's Chromium has the chrome://tracing page but not
// the viewer (Debian strips third_party/catapult from its source; the page fails with
// ERR_FAILED once its debug pages are enabled), and Perfetto's UI is not reachable here. Debian's
// golang-1.19-src ships Catapult's viewer as one file (trace_viewer_full.html, vendored for
// `go tool trace`, with the web components polyfill it needs): this test serves it to Debian's
// Chromium and loads each export through a Load button that does what chrome://tracing's did
// (a file chooser, FileReader, tr.importer.Import, the timeline view; an error overlay when the
// import fails). Everything asserted is read from the viewer's own model and UI: what it
// imported, what it warned about, how it nested slices, and the errors it showed.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Summary } from '../main/reports/summary';
import { CHROMIUM, launchChromium, type Browser } from './helpers/browser';
import { loopscope } from './helpers/cli';
import { FIXTURES } from './helpers/probe-harness';

const ARTIFACTS = resolve(__dirname, '../test-artifacts');
const VIEWER_FILES = ['trace_viewer_full.html', 'webcomponents.min.js'];
const ORIGIN = 'http://trace-viewer.test';
const MB = 1024 * 1024;

/** Where Debian's Go source packages put Catapult's viewer (Go ≤ 1.21, then Go ≥ 1.22). */
function findViewer(): string | undefined {
  const dirs: string[] = [];
  for (const root of ['/usr/share', '/usr/lib']) {
    const gos = existsSync(root) ? readdirSync(root).filter((d) => /^go(-[\d.]+)?$/.test(d)).sort().reverse() : [];
    for (const go of gos) dirs.push(join(root, go, 'src/cmd/trace/static'), join(root, go, 'src/internal/trace/traceviewer/static'));
  }
  return dirs.find((d) => VIEWER_FILES.every((f) => existsSync(join(d, f))));
}

/**
 * The page: the viewer's timeline view, as Go's and Catapult's embedding pages make it, with a
 * Load button in its toolbar that does what chrome://tracing's did (Catapult's about_tracing
 * profiling view: onLoadClicked_, readFile, setActiveTrace). `viewerState()` reads back what the
 * viewer holds, as plain data.
 */
const HOST_PAGE = `<!doctype html>
<html><head>
<script src="/webcomponents.min.js"></script>
<link rel="import" href="/trace_viewer_full.html">
<style>html, body { margin: 0; height: 100%; overflow: hidden; } tr-ui-timeline-view { height: 100%; }</style>
</head><body><script>
'use strict';
let viewer;
window.lastLoad = undefined;

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file);
  });
}

async function setActiveTrace(filename, data) {
  viewer.viewTitle = filename;
  const model = new tr.Model();
  try {
    await new tr.importer.Import(model).importTracesWithProgressDialog([data]);
  } catch (err) {
    tr.ui.b.Overlay.showError('While importing: ', err);
    window.lastLoad = { filename, error: tr.b.normalizeException(err).message };
    return;
  }
  viewer.model = model;
  // The timeline view builds its tracks asynchronously; after this it shows the new model.
  await viewer.builtPromise;
  window.lastLoad = { filename };
}

function onLoadClicked() {
  const input = document.createElement('input');
  input.type = 'file';
  input.addEventListener('change', () => {
    const file = input.files[0];
    readFile(file).then((data) => setActiveTrace(file.name, data), (err) => tr.ui.b.Overlay.showError('Error while loading file: ' + err));
  });
  input.click();
}

/** A slice as the viewer nested it: its depth in the viewer's tree. */
function depthOf(slice) {
  let depth = 0;
  for (let p = slice.parentSlice; p; p = p.parentSlice) depth++;
  return depth;
}

window.viewerState = () => {
  const model = viewer.model;
  const shown = viewer.$['import-warnings'].messages_.map((m) => m.text);
  if (!model) return { title: viewer.viewTitle, shown, processes: [] };
  const processes = Object.values(model.processes).map((p) => ({
    pid: p.pid,
    header: p.userFriendlyName,
    counters: Object.values(p.counters).map((c) => ({
      name: c.name,
      series: c.series.map((s) => ({ name: s.name, values: s.samples.map((x) => x.value) })),
      // The track draws its series as stacked areas: this is the top of its y axis.
      maxTotal: c.maxTotal,
    })),
    threads: Object.values(p.threads).map((t) => {
      const slices = t.sliceGroup.slices;
      const nesting = [];
      const eps = 1e-6;
      for (const s of slices) {
        const parent = s.parentSlice;
        if (parent && (s.start < parent.start - eps || s.end > parent.end + eps)) nesting.push(s.title + ' at ' + s.start + ' sticks out of ' + parent.title);
      }
      const top = slices.filter((s) => !s.parentSlice).sort((a, b) => a.start - b.start);
      for (let i = 1; i < top.length; i++) if (top[i].start < top[i - 1].end - eps) nesting.push(top[i].title + ' at ' + top[i].start + ' overlaps ' + top[i - 1].title);
      return {
        tid: t.tid, name: t.name, nesting,
        slices: slices.map((s) => ({ title: s.title, category: s.category, start: s.start, duration: s.duration, depth: depthOf(s), args: s.args })),
      };
    }),
  }));
  return {
    title: viewer.viewTitle,
    warnings: model.importWarnings.map((w) => w.type + ': ' + w.message),
    shown,
    processes,
  };
};

document.addEventListener('WebComponentsReady', () => {
  const container = document.createElement('track-view-container');
  container.id = 'track_view_container';
  viewer = document.createElement('tr-ui-timeline-view');
  viewer.track_view_container = container;
  Polymer.dom(viewer).appendChild(container);
  viewer.id = 'trace-viewer';
  viewer.globalMode = true;
  Polymer.dom(document.body).appendChild(viewer);
  const load = document.createElement('button');
  load.id = 'load-button';
  load.textContent = 'Load';
  load.addEventListener('click', (event) => { event.stopPropagation(); onLoadClicked(); });
  Polymer.dom(viewer.leftControls).appendChild(load);
  window.viewerReady = true;
});
</script></body></html>`;

interface ViewerSlice {
  readonly title: string;
  readonly category: string;
  /** ms from the start of the trace, as the viewer places it. */
  readonly start: number;
  readonly duration: number;
  readonly depth: number;
  readonly args: Record<string, unknown>;
}

interface ViewerState {
  readonly title: string;
  /** Every import warning the model holds (Catapult shows only some of them). */
  readonly warnings?: string[];
  /** Messages in the timeline view's import-warnings bar. */
  readonly shown: string[];
  readonly processes: {
    readonly pid: number;
    readonly header: string;
    readonly counters: { readonly name: string; readonly series: { readonly name: string; readonly values: number[] }[]; readonly maxTotal: number }[];
    readonly threads: { readonly tid: number; readonly name: string; readonly nesting: string[]; readonly slices: ViewerSlice[] }[];
  }[];
}

interface Loaded {
  readonly error?: string;
  readonly state: ViewerState;
}

interface Recorded {
  readonly summary: Summary;
  readonly trace: string;
}

const dir = mkdtempSync(join(tmpdir(), 'loopscope-trace-viewer-'));

/** `loopscope run --record` on a fixture, then `loopscope export --format chrome-trace`. */
async function recordAndExport(name: string, fixture: string, options: readonly string[], env: Record<string, string>): Promise<Recorded> {
  const rec = join(dir, `${name}.rec`);
  const run = await loopscope(['run', '--json', ...options, '--record', rec, '--', process.execPath, join(FIXTURES, fixture)], env);
  if (run.code !== 0) throw new Error(`loopscope run exited ${run.code}: ${run.stderr}`);
  const trace = join(dir, `${name}.json`);
  const exported = await loopscope(['export', rec, '--format', 'chrome-trace', '-o', trace]);
  if (exported.code !== 0) throw new Error(`loopscope export exited ${exported.code}: ${exported.stderr}`);
  return { summary: JSON.parse(run.stdout) as Summary, trace };
}

async function openViewer(browser: Browser, viewerDir: string): Promise<Page> {
  const page = await browser.context.newPage();
  // The viewer's files, served from a made-up origin: nothing leaves the machine.
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/') return route.fulfill({ contentType: 'text/html', body: HOST_PAGE });
    const file = VIEWER_FILES.find((f) => path === `/${f}`);
    if (!file) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ contentType: file.endsWith('.js') ? 'text/javascript' : 'text/html', body: readFileSync(join(viewerDir, file)) });
  });
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction('window.viewerReady === true', undefined, { timeout: 20_000 });
  return page;
}

/** Loads a file with the viewer's Load button, as a user would, and reads what the viewer made of it. */
async function load(page: Page, file: string): Promise<Loaded> {
  // An error overlay left open is modal: the Load button could not be clicked.
  expect(await page.locator('overlay.overlay').count(), 'an overlay is open').toBe(0);
  await page.evaluate('window.lastLoad = undefined');
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Load', exact: true }).click()]);
  await chooser.setFiles(file);
  await page.waitForFunction('window.lastLoad !== undefined', undefined, { timeout: 10_000 });
  const { error } = (await page.evaluate('window.lastLoad')) as { error?: string };
  return { error, state: (await page.evaluate('viewerState()')) as ViewerState };
}

const threadOf = (state: ViewerState, name: string) => state.processes.flatMap((p) => p.threads).find((t) => t.name === name);
const counterOf = (state: ViewerState, name: string) => state.processes.flatMap((p) => p.counters).find((c) => c.name === name);
const seriesOf = (state: ViewerState, counter: string, series: string): number[] => counterOf(state, counter)?.series.find((s) => s.name === series)?.values ?? [];

/** Imported with no error, no warning kept in the model or shown, and every thread's slices nested. */
function expectCleanImport(loaded: Loaded, pid: number): void {
  expect(loaded.error).toBeUndefined();
  expect(loaded.state.warnings).toEqual([]);
  expect(loaded.state.shown).toEqual([]);
  expect(loaded.state.processes.map((p) => p.pid)).toEqual([pid]);
  for (const t of loaded.state.processes[0]!.threads) expect(t.nesting, `nesting on ${t.name}`).toEqual([]);
}

describe.skipIf(!existsSync(CHROMIUM))('the Chrome trace export in Catapult\'s trace viewer (chrome://tracing\'s), in Chromium', () => {
  let browser: Browser | undefined;
  let page: Page;
  let metrics: Recorded;
  let traced: Recorded;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const viewerDir = findViewer();
    if (!viewerDir) {
      throw new Error('Catapult\'s trace viewer (trace_viewer_full.html) is not installed: `apt-get install golang-1.19-src` ships it, '
        + 'in /usr/share/go-1.19/src/cmd/trace/static (Debian\'s Chromium has no chrome://tracing viewer of its own)');
    }
    // The recordings first: Chromium starting alongside could hold the 2 cores long enough
    // for the fixture's blocks to pass before its probe is watching.
    [metrics, traced] = await Promise.all([
      // Three blocks of 80 ms; its busy wait allocates, so GC pauses come along.
      recordAndExport('blocker', 'blocker.js', [], { BLOCK_MS: '80', PERIOD_MS: '250', COUNT: '3' }),
      // An HTTP request to itself: callbacks of many resource types, some nested.
      recordAndExport('trace', 'http-request.js', ['--mode', 'trace'], {}),
    ]);
    browser = await launchChromium();
    page = await openViewer(browser, viewerDir);
  }, 60_000);

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail' || !page) return;
    await page.screenshot({ path: `${ARTIFACTS}/trace-viewer-failure-${context.task.name.slice(0, 20).replace(/\W+/g, '-')}.png` });
    // Close any error overlay (Escape does, as in the viewer), so the next test can load.
    while ((await page.locator('overlay.overlay').count()) > 0) await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a metrics recording with counters for lag, utilization and heap, and slices for GC pauses and blocks with their stacks', async () => {
    const loaded = await load(page, metrics.trace);
    await page.screenshot({ path: `${ARTIFACTS}/trace-viewer-metrics.png` });
    const { summary } = metrics;
    expectCleanImport(loaded, summary.pid!);
    expect(loaded.state.processes[0]!.header).toMatch(/^node .*blocker\.js /);
    // The viewer adds the pid to the name itself: once.
    expect(loaded.state.processes[0]!.header.match(/\(pid /g)).toHaveLength(1);

    // One sample a metrics frame, in the units the names say (the live summary's numbers). One
    // value per counter: the viewer stacks the values of one counter, so that the top of its
    // track would be their sum (a block's lag drawn as p50 + p99 + max).
    for (const [counter, unit] of [['lag p50', 'ms'], ['lag p99', 'ms'], ['lag max', 'ms'], ['event loop utilization (%)', 'utilization'], ['heap used', 'MB'], ['heap total', 'MB'], ['rss', 'MB']] as const) {
      expect(counterOf(loaded.state, counter)?.series.map((s) => s.name), counter).toEqual([unit]);
      expect(seriesOf(loaded.state, counter, unit), counter).toHaveLength(summary.samples);
      expect(counterOf(loaded.state, counter)?.maxTotal, counter).toBeCloseTo(Math.max(...seriesOf(loaded.state, counter, unit)), 6);
    }
    expect(summary.samples).toBeGreaterThan(3);
    expect(Math.max(...seriesOf(loaded.state, 'lag max', 'ms'))).toBeCloseTo(summary.lag.maxMs, 2);
    expect(Math.max(...seriesOf(loaded.state, 'event loop utilization (%)', 'utilization'))).toBeCloseTo(summary.utilization.max * 100, 0);
    expect(Math.max(...seriesOf(loaded.state, 'heap used', 'MB'))).toBeCloseTo(summary.memory.heapUsedMaxBytes / MB, 3);

    // Every GC pause the probe saw, as a slice on the GC track.
    const gc = threadOf(loaded.state, 'GC')?.slices ?? [];
    expect(summary.gc.count).toBeGreaterThan(0);
    expect(gc).toHaveLength(summary.gc.count);
    for (const s of gc) expect(s).toMatchObject({ title: expect.stringMatching(/^GC \(\w+\)$/), category: 'gc', depth: 0 });

    // Every block, as long as it lasted (µs read as µs), with the stack that blocked.
    const blocked = threadOf(loaded.state, 'event loop blocked')?.slices ?? [];
    expect(summary.blockedCount).toBeGreaterThanOrEqual(1);
    expect(blocked).toHaveLength(summary.blockedCount);
    for (const b of blocked) {
      expect(b).toMatchObject({ title: 'event loop blocked', category: 'blocked', depth: 0 });
      expect(b.duration).toBeCloseTo(b.args['durationMs'] as number, 3);
      expect(b.duration).toBeGreaterThan(50);
      // A stack (a line from the samples has no column), or why the probe could not take one.
      if ((b.args['stack'] as string[]).length === 0) expect(b.args['stackError'], JSON.stringify(b.args)).toEqual(expect.any(String));
      else expect(b.args['stack'], JSON.stringify(b.args)).toEqual(expect.arrayContaining([expect.stringMatching(/\(.*blocker\.js:\d+(:\d+)?\)$/)]));
      // Where the stack came from, and with samples, how many of the block's hold it.
      expect(['samples', 'interrupt', 'late-interrupt'], JSON.stringify(b.args)).toContain(b.args['stackSource']);
      if (b.args['stackSource'] === 'samples') expect(b.args['samples'], JSON.stringify(b.args)).toMatch(/^This stack in [1-9]\d* of the block's [1-9]\d* CPU samples/);
    }
    // The blocks spin in JavaScript with the sampler on: their samples name the stack.
    expect(blocked.some((b) => b.args['stackSource'] === 'samples'), JSON.stringify(blocked.map((b) => b.args))).toBe(true);
    // The stack is taken while the loop is blocked; on a loaded machine it may be taken just
    // after the busy wait, in the same callback, so only some name the line that spins.
    // A line found from the samples has no column.
    expect(blocked.some((b) => (b.args['stack'] as string[]).some((f) => /^blockFor \(.*blocker\.js:14(:\d+)?\)$/.test(f))), JSON.stringify(blocked.map((b) => b.args))).toBe(true);
  });

  it('imports a trace recording with a slice for each callback, named by its resource type, with its async id', async () => {
    const loaded = await load(page, traced.trace);
    await page.screenshot({ path: `${ARTIFACTS}/trace-viewer-trace.png` });
    expectCleanImport(loaded, traced.summary.pid!);
    expect(traced.summary.traceEvents).toBeGreaterThan(0);
    const callbacks = threadOf(loaded.state, 'main thread: callbacks')?.slices ?? [];
    expect(callbacks.length).toBeGreaterThan(10);
    for (const c of callbacks) {
      expect(c.category).toBe('callback');
      expect(Number.isInteger(c.args['asyncId']) && (c.args['asyncId'] as number) > 0, `${c.title}'s async id ${String(c.args['asyncId'])}`).toBe(true);
    }
    expect(new Set(callbacks.map((c) => c.args['asyncId'])).size).toBeGreaterThan(5);
    // The request's chain, from the listening socket to the handler's timer.
    for (const type of ['TCPSERVERWRAP', 'TCPWRAP', 'HTTPINCOMINGMESSAGE', 'Timeout']) expect(callbacks.map((c) => c.title), type).toContain(type);
    // Counters come along in trace mode too.
    expect(seriesOf(loaded.state, 'lag p99', 'ms')).toHaveLength(traced.summary.samples);
  });

  it('shows what it could not read: a truncated export fails to import, with the error in an overlay', async () => {
    const text = readFileSync(metrics.trace, 'utf8');
    const broken = join(dir, 'truncated.json');
    writeFileSync(broken, text.slice(0, Math.floor(text.length / 2)));
    const loaded = await load(page, broken);
    expect(loaded.error).toMatch(/JSON/);
    // Catapult's tr.ui.b.Overlay: an <overlay> element, modal, titled Error.
    const overlay = page.locator('overlay.overlay').filter({ hasText: 'While importing:' });
    await expect.poll(() => overlay.count()).toBe(1);
    await overlay.getByText('Error', { exact: true }).waitFor();
    expect(await overlay.textContent()).toContain(loaded.error);
    await page.screenshot({ path: `${ARTIFACTS}/trace-viewer-broken.png` });
    await overlay.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => overlay.count()).toBe(0);
  });

  it('and these checks catch what it warns about and what it nests wrongly', async () => {
    // The real export, doctored: an event of an unknown phase, and a GC slice stretched to
    // end 1 µs inside the next one on its track.
    const file = JSON.parse(readFileSync(metrics.trace, 'utf8')) as { traceEvents: Record<string, unknown>[] };
    const gc = file.traceEvents.filter((e) => e['cat'] === 'gc');
    expect(gc.length).toBeGreaterThan(1);
    gc[0]!['dur'] = (gc[1]!['ts'] as number) - (gc[0]!['ts'] as number) + 1;
    file.traceEvents.push({ ...gc[1]!, ph: 'Q' });
    const doctored = join(dir, 'doctored.json');
    writeFileSync(doctored, JSON.stringify(file));
    const loaded = await load(page, doctored);
    expect(loaded.error).toBeUndefined();
    expect(loaded.state.warnings).toEqual([expect.stringContaining('Unrecognized event phase: Q')]);
    expect(threadOf(loaded.state, 'GC')?.nesting).toEqual([expect.stringMatching(/overlaps GC/)]);
  });
});
