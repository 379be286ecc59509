// Helpers for bench/ui-flood.mjs: `loopscope serve` and its API, Chromium and what the page
// and CDP tell about frames, memory and CPU profiles, and CPU time per process from /proc.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { CLI, ROOT, waitForLine, exited } from './lib.mjs';

export const CHROMIUM = '/usr/bin/chromium';
export const RENDERER = join(ROOT, 'dist', 'renderer', 'app.js');

// ---------------------------------------------------------------------------------------
// The command line, and what the UI benches need built and installed

/** Prints `help` and exits on --help; else gives a reader of numeric options (`--name N`). */
export function numberArgs(help) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(help);
    process.exit(0);
  }
  return (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? fallback : Number(process.argv[i + 1]);
  };
}

/** Exits with what to do when the built UI or Chromium is missing. */
export function requireUi() {
  for (const [file, what] of [[RENDERER, 'the UI (npm run build)'], [CHROMIUM, 'Chromium (apt-get install chromium)']]) {
    if (!existsSync(file)) {
      console.error(`bench: ${file} is missing: ${what}.`);
      process.exit(70);
    }
  }
}

// ---------------------------------------------------------------------------------------
// loopscope serve and its API

export async function startServe() {
  const child = spawn(process.execPath, [CLI, 'serve', '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const [, url] = await waitForLine(child, /^(http:\/\/\S+)\n/);
  return {
    child,
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

function hostSocket(url) {
  const u = new URL('ws', url);
  u.protocol = 'ws:';
  return new WebSocket(u.href, { origin: new URL(url).origin });
}

/** One call on the web host's API, as the page makes it. */
export function callHost(url, method, params) {
  const ws = hostSocket(url);
  return new Promise((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, method, params })));
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.id !== 1) return;
      ws.close();
      if (m.error !== undefined) reject(new Error(m.error));
      else resolve(m.result);
    });
    ws.once('error', reject);
  });
}

/** A session's view as the host has it now: a new subscriber's first batch is a snapshot. */
export function sessionView(url, id) {
  const ws = hostSocket(url);
  return new Promise((resolve, reject) => {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (!m.events) return;
      ws.close();
      const e = m.events.find((x) => x.view.id === id);
      if (e) resolve(e.view);
      else reject(new Error(`no session ${id} in the host's snapshot`));
    });
    ws.once('error', reject);
  });
}

/**
 * Lifecycle events the probe saw, from its per-type aggregates: an init and a destroy per
 * resource, a before and an after per callback. Dropped frames are counted separately.
 */
export function lifecycleEvents(view) {
  let n = 0;
  for (const r of view.tasks ?? []) n += r.created + r.destroyed + 2 * r.callbacks;
  return n;
}

// ---------------------------------------------------------------------------------------
// Chromium and the page

export async function launchChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'loopscope-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Starts recording, in the page, every requestAnimationFrame delta and every long task. */
export function installRecorder(page) {
  return page.evaluate(() => {
    const b = { frames: [], longTasks: [], last: 0 };
    window.__uiFlood = b;
    const step = (t) => {
      if (b.last > 0) b.frames.push(t - b.last);
      b.last = t;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push(e.duration);
    }).observe({ type: 'longtask' });
  });
}

/** What the recorder holds since the last drain; the next frame's delta is not counted. */
export function drainRecorder(page) {
  return page.evaluate(() => {
    const b = window.__uiFlood;
    const out = { frames: b.frames, longTasks: b.longTasks };
    b.frames = [];
    b.longTasks = [];
    b.last = 0;
    return out;
  });
}

/** Performance.getMetrics as an object (cumulative durations in seconds, sizes in bytes). */
export async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

// ---------------------------------------------------------------------------------------
// Statistics of frames

export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

export function frameStats(frames, longTasks) {
  const s = [...frames].sort((a, b) => a - b);
  const total = frames.reduce((a, b) => a + b, 0);
  return {
    frames: frames.length,
    fps: total > 0 ? (frames.length * 1000) / total : NaN,
    p50: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    max: s.length ? s[s.length - 1] : NaN,
    over33: frames.filter((f) => f > 33.4).length / Math.max(1, frames.length),
    longTasks: longTasks.length,
    longTaskMs: longTasks.reduce((a, b) => a + b, 0),
    longTaskMax: longTasks.length ? Math.max(...longTasks) : 0,
  };
}

/**
 * Slope of y over x, Theil–Sen (the median of the slopes between every two points): a heap
 * reading that a forced GC could not bring down (a batch being parsed) does not tilt it.
 */
export function trend(xs, ys) {
  const slopes = [];
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) if (xs[j] !== xs[i]) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
  if (!slopes.length) return NaN;
  slopes.sort((a, b) => a - b);
  const m = slopes.length >> 1;
  return slopes.length % 2 ? slopes[m] : (slopes[m - 1] + slopes[m]) / 2;
}

// ---------------------------------------------------------------------------------------
// CPU time per process (Linux /proc), to show who used the two cores

const TICK_MS = 10;

function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS };
  } catch {
    return undefined;
  }
}

/** CPU ms used so far by a process and all its descendants. */
export function treeCpuMs(root) {
  const children = new Map();
  const stats = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (!st) continue;
    stats.set(Number(name), st);
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(name));
  }
  let total = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop();
    total += stats.get(pid)?.cpuMs ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** CPU ms used so far by this process alone. */
export function ownCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU used so far by Chromium (everything the bench started but serve, `outsidePid` and
 * itself), serve (but its target), the target (and `outsidePid`'s tree, if any), the machine.
 */
export function cpuNow(servePid, targetPid, outsidePid) {
  const outside = outsidePid === undefined ? 0 : treeCpuMs(outsidePid);
  return {
    atMs: performance.now(),
    browser: treeCpuMs(process.pid) - treeCpuMs(servePid) - outside - ownCpuMs(),
    serve: treeCpuMs(servePid) - treeCpuMs(targetPid),
    target: treeCpuMs(targetPid) + outside,
    machine: machineBusyMs(),
  };
}

/** CPU ms per wall second between two cpuNow readings, as % of one core. */
export function cpuShare(a, b) {
  const s = (b.atMs - a.atMs) / 1000;
  return Object.fromEntries(['browser', 'serve', 'target', 'machine'].map((k) => [k, (b[k] - a[k]) / s / 10]));
}

/** The whole machine's busy time, in ms of CPU, from /proc/stat. */
export function machineBusyMs() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return (f.reduce((a, b) => a + b, 0) - idle) * TICK_MS;
}

// ---------------------------------------------------------------------------------------
// CPU profiles of the page, mapped back to sources through the bundle's source map

/** Self time by source (our files by name, libraries by package) and by function. */
export function summarizeProfile(profile) {
  const mapFile = `${RENDERER}.map`;
  const map = existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined;
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  }
  const bySource = new Map();
  const byFunction = new Map();
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  let total = 0;
  for (const node of profile.nodes) {
    const ms = dt.get(node.id) ?? 0;
    if (ms === 0) continue;
    total += ms;
    const cf = node.callFrame;
    // V8's own entries are already in brackets: (idle), (program), (garbage collector).
    let source = cf.url ? 'other scripts' : cf.functionName.startsWith('(') ? cf.functionName : `(${cf.functionName || 'native'})`;
    let fn = cf.functionName || '(anonymous)';
    if (map && cf.url.endsWith('/app.js') && cf.lineNumber >= 0) {
      const e = map.findEntry(cf.lineNumber, cf.columnNumber);
      if (e?.originalSource) {
        const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(e.originalSource);
        source = pkg ? pkg[1] : e.originalSource.replace(/^(\.\.\/)+/, '');
        fn = `${e.name ?? fn} (${e.originalSource.replace(/^(\.\.\/)+/, '').replace('node_modules/', '')}:${e.originalLine + 1})`;
      }
    }
    add(bySource, source, ms);
    add(byFunction, fn, ms);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { totalMs: total, bySource: top(bySource, 12), byFunction: top(byFunction, 20) };
}
