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
// binding the port), `timingsMs.inspectorOpen - timingsMs.signalled`. Scenarios alternate.
//
//   npm run build && node bench/attach-window.mjs [--quick] [--json]
//
// It uses inspector port 9229 on 127.0.0.1: nothing else may hold it while it runs.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, FIXTURES as BENCH_FIXTURES, ROOT, machine, requireBuilt, sleep } from './lib.mjs';

requireBuilt();
const FIXTURES = join(ROOT, 'test', 'fixtures');
const CLOCK = join(BENCH_FIXTURES, 'inspector-clock.cjs');
const QUICK = process.argv.includes('--quick');
const JSON_OUT = process.argv.includes('--json');
const RUNS = QUICK ? 3 : 15;

const SCENARIOS = [
  { name: 'idle', fixture: 'attach-app.js', env: {} },
  { name: 'busy 200 of 250 ms, timer callback', fixture: 'attach-busy.js', env: { BUSY_MS: '200', PERIOD_MS: '250' } },
  { name: 'busy 200 of 250 ms, I/O callback', fixture: 'attach-busy.js', env: { BUSY_MS: '200', PERIOD_MS: '250', BUSY_IN: 'io' } },
];

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
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

const results = SCENARIOS.map((s) => ({ name: s.name, windowMs: [], reportedMs: [], openAfterMs: [], reopened: 0, notClosed: 0, failures: [] }));
for (let i = 0; i < RUNS; i++) {
  for (const [k, s] of SCENARIOS.entries()) {
    const target = await startTarget(s);
    const { child } = target;
    try {
      await sleep(300 + Math.random() * 250); // any phase of the busy period
      const r = await run(['attach', String(child.pid), '--duration', '0.3', '--json']);
      if (r.code !== 0) {
        results[k].failures.push(`exit ${r.code}: ${r.stderr.trim()}`);
        continue;
      }
      const { inspector, timingsMs } = JSON.parse(r.stdout).attach;
      if (target.listeningAt === undefined || target.closedAt === undefined) throw new Error('the target did not tell when its inspector opened and closed');
      results[k].windowMs.push(Math.round(target.closedAt - target.listeningAt));
      results[k].reportedMs.push(inspector.openMs);
      results[k].openAfterMs.push(timingsMs.inspectorOpen - timingsMs.signalled);
      results[k].reopened += inspector.reopened;
      if (!inspector.closed) results[k].notClosed++;
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await sleep(100);
  }
}

const summary = {
  machine: machine(),
  runs: RUNS,
  scenarios: results.map((r) => ({
    name: r.name,
    window: { p50: quantile(r.windowMs, 0.5), p90: quantile(r.windowMs, 0.9), max: Math.max(...r.windowMs) },
    reported: { p50: quantile(r.reportedMs, 0.5), max: Math.max(...r.reportedMs) },
    inspectorAnswersAfter: { p50: quantile(r.openAfterMs, 0.5), max: Math.max(...r.openAfterMs) },
    reopened: r.reopened,
    notClosed: r.notClosed,
    failures: r.failures,
  })),
};
if (JSON_OUT) console.log(JSON.stringify(summary, null, 2));
else {
  console.log(`attach window: how long the inspector listens per attach (${RUNS} runs per scenario, alternated; ${summary.machine.cpus} × ${summary.machine.cpuModel}, ${summary.machine.node})`);
  for (const s of summary.scenarios) {
    console.log(`\n${s.name}`);
    console.log(`  window (listening to closed, timed in the target): p50 ${s.window.p50} ms, p90 ${s.window.p90} ms, max ${s.window.max} ms`);
    console.log(`  as attach reports it (SIGUSR1 to seen closed): p50 ${s.reported.p50} ms, max ${s.reported.max} ms`);
    console.log(`  of which Node opening it (SIGUSR1 to answering): p50 ${s.inspectorAnswersAfter.p50} ms, max ${s.inspectorAnswersAfter.max} ms`);
    console.log(`  reopened after a close and closed again: ${s.reopened} times; not closed: ${s.notClosed}`);
    for (const f of s.failures) console.log(`  FAILED: ${f}`);
  }
}
process.exit(summary.scenarios.every((s) => s.notClosed === 0 && s.failures.length === 0) ? 0 : 1);
