#!/usr/bin/env node
// A worker thread's last GC pauses must reach its loop, also on a loaded machine. A target
// (test/fixtures/gc-workers.js) runs two workers that allocate, each observing its own pauses
// with a PerformanceObserver, and each ending 50 ms after its last allocation: its last pauses
// are in no regular collection of the main loop's trace, only in the one its exit asks for,
// which the exiting thread waits for (FINAL_WAIT_MS in probe/main-thread.ts). Counted, under
// `loopscope run --json`: runs in which a worker's loop has fewer pauses than the worker
// observed (weak-callback pauses left out: the trace has none), and of the pauses missing, those
// the loop counted as not recorded (the trace lost their begin or end, probe/gc-trace.ts) and
// those missing without a word. With --load N, N busy processes
// share the machine for the bench's length (the loss shows under load). With --compare, each
// run is paired with one under another build of the probe (LOOPSCOPE_PROBE_PATH), alternating.
//
//   npm run build && node bench/worker-gc-exit.mjs [--runs 30] [--load 5] [--compare <probe.js>]

import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { CLI, ROOT, requireBuilt, printMachine, run, save, helpRequested, stringArg, QUICK, probeBuildArg } from './lib.mjs';

helpRequested(import.meta.url);
requireBuilt();
const RUNS = Number(stringArg('runs', QUICK ? '3' : '30'));
const LOAD = Number(stringArg('load', '0'));
const COMPARE = probeBuildArg();
if (!(Number.isInteger(RUNS) && RUNS > 0)) throw new Error('--runs must be a positive integer');
if (!(Number.isInteger(LOAD) && LOAD >= 0)) throw new Error('--load must be a whole number of busy processes');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'gc-workers.js');
const TARGET_ENV = { WORKERS: '2', SETTLE_MS: '50' };

const machine = printMachine(`worker threads' last GC pauses at their exit, ${LOAD} busy processes beside`);
const burners = Array.from({ length: LOAD }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
const stopBurners = () => burners.forEach((b) => b.kill('SIGKILL'));
process.on('exit', stopBurners);

const builds = [{ name: 'this build', env: {} }];
if (COMPARE) builds.push({ name: `compare (${COMPARE})`, env: { LOOPSCOPE_PROBE_PATH: resolve(COMPARE) } });
const results = builds.map((b) => ({ build: b.name, perLoop: [], runs: 0, runsWithLoss: 0, pausesLost: 0, pausesUnrecorded: 0, runsWithSilentLoss: 0, pausesLostSilently: 0, pausesObserved: 0 }));

for (let i = 0; i < RUNS; i++) {
  for (const [k, b] of builds.entries()) {
    const r = await run(process.execPath, [CLI, 'run', '--json', '--', process.execPath, FIXTURE], { env: { ...process.env, ...TARGET_ENV, ...b.env }, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`loopscope run exited ${r.code}: ${r.stderr.slice(-1000)}`);
    // The fixture's last line, on loopscope's stderr under --json: each worker's observed pauses.
    const line = r.stderr.split('\n').reverse().find((l) => l.startsWith('{'));
    if (!line) throw new Error(`the fixture printed no pauses: ${r.stderr.slice(-1000)}`);
    const observed = JSON.parse(line);
    const summary = JSON.parse(r.stdout);
    const res = results[k];
    res.runs++;
    let lost = 0;
    let silent = 0;
    for (const loop of summary.loops.filter((l) => l.threadId !== 0)) {
      const own = (observed[String(loop.threadId)] ?? []).filter((p) => p.kind !== 'weakcb').length;
      const unrecorded = loop.gc.unrecorded ?? 0;
      res.pausesObserved += own;
      res.pausesUnrecorded += unrecorded;
      res.perLoop.push({ run: i, threadId: loop.threadId, observed: own, reported: loop.gc.count, unrecorded });
      lost += Math.max(0, own - loop.gc.count);
      silent += Math.max(0, own - loop.gc.count - unrecorded);
    }
    res.pausesLost += lost;
    res.pausesLostSilently += silent;
    if (lost > 0) res.runsWithLoss++;
    if (silent > 0) res.runsWithSilentLoss++;
  }
  process.stdout.write(`  run ${i + 1}/${RUNS}: ${results.map((r) => `${r.build} ${r.runsWithLoss} with a loss, ${r.runsWithSilentLoss} not counted`).join(', ')}\n`);
}
stopBurners();

console.log('');
for (const r of results) {
  console.log(`${r.build}: a worker's pause missing in ${r.runsWithLoss} of ${r.runs} runs (${r.pausesLost} of ${r.pausesObserved} pauses); ` +
    `counted as not recorded: ${r.pausesUnrecorded}; missing without a word in ${r.runsWithSilentLoss} runs (${r.pausesLostSilently} pauses)`);
  // Totals cannot tell a pause lost from one the worker's observer had not reported by its exit.
  const even = r.perLoop.filter((l) => l.unrecorded > 0 && l.reported >= l.observed).length;
  if (even > 0) console.log(`  of the loops that counted some not recorded, ${even} had as many pauses as their observer all the same`);
}
save('worker-gc-exit', { runs: RUNS, load: LOAD, compare: COMPARE, target: TARGET_ENV, machine, results });
