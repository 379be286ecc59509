#!/usr/bin/env node
// Benchmark 3: idle cost. CPU time per second used by an idle target (bench/fixtures/idle-app.js,
// one far-off timer) with and without the probe, measured inside the target with
// process.cpuUsage() (all threads, µs) and split by thread from /proc/self/task (10 ms ticks).
// Three targets run side by side in each round, so they share the same background:
//   base          node idle-app.js
//   probed        loopscope run --json -- node idle-app.js                      (defaults)
//   probed-bt10   loopscope run --json --block-threshold 10 -- node idle-app.js (as in the lag bench)
//   probed-no-profile  loopscope run --json --no-profile -- node idle-app.js    (the CPU sampler's share)
// And, to split the cost by part, the plain app with one stand-in for one part of the probe
// preloaded (bench/fixtures/probe-parts.js: heartbeat with the sample, GC observer, worker thread).
// Per thread (from /proc/self/task/*/schedstat, ns): the main thread and its wake-ups, the
// probe's worker (the busiest other thread that is not V8's profiler) and its wake-ups, and
// V8's profiler thread, which runs while the CPU sampler does.
// DESIGN.md sets no budget for this; the figure is reported as ms of CPU per second.
//
//   node bench/idle-cost.mjs [--quick]

import { join } from 'node:path';
import { FIXTURES, QUICK, requireBuilt, printMachine, run, loopscopeRun, mean, min, max, fmt, table, save } from './lib.mjs';

const ROUNDS = QUICK ? 1 : 3;
const SETTLE_MS = 1000;
const WINDOW_MS = QUICK ? 2000 : 6000;

requireBuilt();
const machine = printMachine('idle cost: CPU used by an idle target');
console.log(`${ROUNDS} rounds; each: all targets side by side, ${SETTLE_MS} ms to settle, then a ${WINDOW_MS} ms window`);

const app = [process.execPath, join(FIXTURES, 'idle-app.js'), String(SETTLE_MS), String(WINDOW_MS)];
const PARTS = ['heartbeat', 'gc', 'worker'];
const VARIANTS = {
  base: () => plain({}),
  probed: () => probed([]),
  'probed-bt10': () => probed(['--block-threshold', '10']),
  'probed-no-profile': () => probed(['--no-profile']),
  ...Object.fromEntries(PARTS.map((part) => [`part: ${part}`, () => plain({
    NODE_OPTIONS: `--require ${JSON.stringify(join(FIXTURES, 'probe-parts.js'))}`,
    LOOPSCOPE_BENCH_PART: part,
  })])),
};

async function plain(env) {
  const r = await run(app[0], app.slice(1), { env: { ...process.env, ...env } });
  if (r.code !== 0) throw new Error(`idle app failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function probed(options) {
  const { summary, stderr, code } = await loopscopeRun(options, app);
  if (code !== 0 || summary.warnings.length || summary.samples === 0) throw new Error(`probed idle app: exit ${code}, ${summary.warnings.join('; ')}`);
  // Under --json the target's stdout comes out on the CLI's stderr.
  const line = stderr.split('\n').find((l) => l.startsWith('{"pid"'));
  const result = JSON.parse(line);
  if (!result.probeRunning) throw new Error('the probe was not running in the target at the end of the window');
  return result;
}

const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  const names = Object.keys(VARIANTS);
  const results = await Promise.all(names.map((n) => VARIANTS[n]()));
  rounds.push(Object.fromEntries(names.map((n, j) => [n, results[j]])));
}

const perS = (r, key) => (key === 'cpu' ? r.userMs + r.systemMs : r[key]) / (r.wallMs / 1000);
const stats = Object.fromEntries(Object.keys(VARIANTS).map((v) => {
  const cpu = rounds.map((r) => perS(r[v], 'cpu'));
  return [v, {
    cpuMsPerS: mean(cpu), minMsPerS: min(cpu), maxMsPerS: max(cpu),
    mainThreadMsPerS: mean(rounds.map((r) => perS(r[v], 'mainThreadMs'))),
    mainWakesPerS: mean(rounds.map((r) => perS(r[v], 'mainThreadRuns'))),
    otherThreadsMsPerS: mean(rounds.map((r) => perS(r[v], 'otherThreadsMs'))),
    workerMsPerS: mean(rounds.map((r) => perS(r[v], 'busiestOtherMs'))),
    workerWakesPerS: mean(rounds.map((r) => perS(r[v], 'busiestOtherRuns'))),
    profilerMsPerS: mean(rounds.map((r) => perS(r[v], 'profilerThreadMs'))),
    threads: rounds[0][v].threads,
  }];
}));
const base = stats.base.cpuMsPerS;

console.log('');
table(['target', 'CPU ms/s (mean)', 'min', 'max', 'cost vs base ms/s', '% of one core', 'main thread ms/s (wake-ups/s)', 'busiest other thread ms/s (wake-ups/s)', 'V8 profiler thread ms/s', 'all other threads ms/s', 'threads'],
  Object.entries(stats).map(([v, s]) => [
    v, fmt(s.cpuMsPerS, 2), fmt(s.minMsPerS, 2), fmt(s.maxMsPerS, 2),
    v === 'base' ? '—' : fmt(s.cpuMsPerS - base, 2),
    v === 'base' ? '—' : `${fmt((s.cpuMsPerS - base) / 10, 2)}%`,
    `${fmt(s.mainThreadMsPerS, 2)} (${fmt(s.mainWakesPerS, 0)})`, `${fmt(s.workerMsPerS, 2)} (${fmt(s.workerWakesPerS, 0)})`,
    fmt(s.profilerMsPerS, 2), fmt(s.otherThreadsMsPerS, 2), String(s.threads),
  ]));
console.log('(per thread from schedstat: exact but for the main thread\'s last scheduler tick; the totals come from process.cpuUsage())');
console.log('(in the probed targets the busiest other thread is the probe\'s worker)');
const partsSum = PARTS.reduce((n, p) => n + stats[`part: ${p}`].cpuMsPerS - base, 0);
console.log(`the parts' stand-ins add up to ${fmt(partsSum, 2)} ms/s, the whole probe costs ${fmt(stats.probed.cpuMsPerS - base, 2)} ms/s (defaults: interval 100 ms, threshold 50 ms)`);

save('idle-cost', { rounds: ROUNDS, settleMs: SETTLE_MS, windowMs: WINDOW_MS, machine, stats, perRound: rounds });
