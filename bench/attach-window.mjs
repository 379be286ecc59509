#!/usr/bin/env node
// The attach window: how long a target's inspector listens on 127.0.0.1:9229 (open to every
// local user) per `loopscope attach`, on an idle target and on targets whose loop is busy
// 200 ms of every 250 ms (in a timer callback, and in an I/O callback).
//
// The window is timed in the target: from Node printing "Debugger listening" on its stderr
// (right after it binds the port; the bench notes when the line arrives) to its inspector's
// close returning (a preloaded bench/fixtures/inspector-clock.cjs prints the time). Beside it,
// the attach command's own figure (`attach.inspector.openMs` in its --json summary: from just
// before SIGUSR1 to when it saw the port closed, so an upper bound), and the part loopscope
// cannot shorten: SIGUSR1 to the inspector answering (Node starting its inspector thread and
// binding the port), `timingsMs.inspectorOpen - timingsMs.signalled`. Half a second after each
// attach, the bench also checks whether the inspector listens again (a busy loop's pending
// SIGUSR1 wake-up reopened it). Scenarios alternate.
//
// With --baseline <another loopscope checkout, built>, every run is done with both, in turn.
//
//   npm run build && node bench/attach-window.mjs [--quick] [--json] [--baseline <dir>]
//
// It uses inspector port 9229 on 127.0.0.1: nothing else may hold it while it runs.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI, FIXTURES as BENCH_FIXTURES, ROOT, machine, requireBuilt, run, sleep } from './lib.mjs';

requireBuilt();
const FIXTURES = join(ROOT, 'test', 'fixtures');
const CLOCK = join(BENCH_FIXTURES, 'inspector-clock.cjs');
const QUICK = process.argv.includes('--quick');
const JSON_OUT = process.argv.includes('--json');
const RUNS = QUICK ? 3 : 15;
const baselineAt = process.argv.indexOf('--baseline');
const BUILDS = [{ name: 'this build', cli: CLI }];
if (baselineAt > 0) BUILDS.push({ name: 'baseline', cli: join(resolve(process.argv[baselineAt + 1]), 'bin', 'loopscope.js') });

const SCENARIOS = [
  { name: 'idle', fixture: 'attach-app.js', env: {} },
  { name: 'busy 200 of 250 ms, timer callback', fixture: 'attach-busy.js', env: { BUSY_MS: '200', PERIOD_MS: '250' } },
  { name: 'busy 200 of 250 ms, I/O callback', fixture: 'attach-busy.js', env: { BUSY_MS: '200', PERIOD_MS: '250', BUSY_IN: 'io' } },
];

/** Whether the process itself listens on `port` (its socket tables and open files, /proc: no connection is made). */
function listensOn(pid, port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set();
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try { text = readFileSync(`/proc/${pid}/net/${file}`, 'latin1'); } catch { continue; }
    for (const line of text.split('\n')) {
      const col = line.trim().split(/\s+/);
      if (col[3] === '0A' && col[1]?.endsWith(hex)) inodes.add(`socket:[${col[9]}]`);
    }
  }
  if (inodes.size === 0) return false;
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => { try { return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`)); } catch { return false; } });
  } catch {
    return false;
  }
}

const epochNow = () => performance.timeOrigin + performance.now();

/** The target, with when its inspector started listening and when it closed (epoch ms). */
function startTarget(s) {
  const child = spawn(process.execPath, ['--require', CLOCK, join(FIXTURES, s.fixture)], { env: { ...process.env, NODE_OPTIONS: '', ...s.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const t = { child, listeningAt: undefined, closedAt: undefined };
  let err = '';
  child.stderr.on('data', (d) => {
    const at = epochNow();
    err += d;
    if (t.listeningAt === undefined && err.includes('Debugger listening')) t.listeningAt = at;
    const closed = /inspector closed at ([\d.]+)/.exec(err);
    if (closed) t.closedAt = Number(closed[1]);
  });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(t));
    child.on('exit', (code) => reject(new Error(`${s.fixture} exited early (${code})`)));
  });
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const results = BUILDS.flatMap((b) => SCENARIOS.map((s) => ({ build: b.name, name: s.name, windowMs: [], reportedMs: [], openAfterMs: [], reopened: 0, notClosed: 0, openAfter: 0, failures: [] })));
for (let i = 0; i < RUNS; i++) {
  for (const [bi, build] of BUILDS.entries()) {
    for (const [si, s] of SCENARIOS.entries()) {
      const r = results[bi * SCENARIOS.length + si];
      const target = await startTarget(s);
      const { child } = target;
      try {
        await sleep(300 + Math.random() * 250); // any phase of the busy period
        const a = await run(process.execPath, [build.cli, 'attach', String(child.pid), '--duration', '0.3', '--json']);
        if (a.code !== 0) {
          r.failures.push(`exit ${a.code}: ${a.stderr.trim()}`);
          continue;
        }
        const { inspector, timingsMs } = JSON.parse(a.stdout).attach;
        if (target.listeningAt === undefined || target.closedAt === undefined) throw new Error('the target did not tell when its inspector opened and closed');
        r.windowMs.push(Math.round(target.closedAt - target.listeningAt));
        if (inspector.openMs !== undefined) r.reportedMs.push(inspector.openMs);
        if (timingsMs.signalled !== undefined) r.openAfterMs.push(timingsMs.inspectorOpen - timingsMs.signalled);
        r.reopened += inspector.reopened ?? 0;
        if (!inspector.closed) r.notClosed++;
        await sleep(500);
        if (listensOn(child.pid, 9229)) r.openAfter++;
      } finally {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await sleep(100);
    }
  }
}

const spread = (xs) => (xs.length === 0 ? null : { p50: quantile(xs, 0.5), p90: quantile(xs, 0.9), max: Math.max(...xs) });
const summary = {
  machine: machine(),
  runs: RUNS,
  scenarios: results.map((r) => ({
    build: r.build,
    name: r.name,
    window: spread(r.windowMs),
    reported: spread(r.reportedMs),
    inspectorAnswersAfter: spread(r.openAfterMs),
    reopened: r.reopened,
    notClosed: r.notClosed,
    listeningHalfASecondLater: r.openAfter,
    failures: r.failures,
  })),
};
if (JSON_OUT) console.log(JSON.stringify(summary, null, 2));
else {
  console.log(`attach window: how long the inspector listens per attach (${RUNS} runs per scenario, alternated; ${summary.machine.cpus} × ${summary.machine.cpuModel}, ${summary.machine.node})`);
  const ms = (x) => (x === null ? 'n/a' : `p50 ${x.p50} ms, p90 ${x.p90} ms, max ${x.max} ms`);
  for (const s of summary.scenarios) {
    console.log(`\n${s.name} (${s.build})`);
    console.log(`  window (listening to first close, timed in the target): ${ms(s.window)}`);
    console.log(`  as attach reports it (SIGUSR1 to seen closed): ${ms(s.reported)}`);
    console.log(`  Node opening it (SIGUSR1 to answering): ${ms(s.inspectorAnswersAfter)}`);
    console.log(`  reopened and closed again by attach: ${s.reopened}; attach said not closed: ${s.notClosed}; listening again 0.5 s after attach: ${s.listeningHalfASecondLater} of ${RUNS}`);
    for (const f of s.failures) console.log(`  FAILED: ${f}`);
  }
}
process.exit(summary.scenarios.filter((s) => s.build === 'this build').every((s) => s.notClosed === 0 && s.listeningHalfASecondLater === 0 && s.failures.length === 0) ? 0 : 1);
