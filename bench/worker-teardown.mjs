#!/usr/bin/env node
// Worker threads that come and go must never take the process down. A target
// (test/fixtures/worker-churn.js) starts 24 workers, two at a time, each ending 500 ms after
// its start (by itself, or with --end terminate by its parent), while its main thread parses
// JSON without a break (8 ms a parse: a native call that serves no interrupt, so it handles
// inspector traffic late, as a busy server does), under `loopscope run --json`. Counted: runs
// whose target did not exit 0; an abort of the process is exit 134. With --compare, each run
// is paired with one under another build of the probe (LOOPSCOPE_PROBE_PATH), alternating, so
// that both see the same machine.
//
// Before stop 27 a worker loop's probe thread was ended by its worker's exit right after its
// inspector session ended, and Node 20 aborts the process when its main thread answers the
// session of a thread being torn down (MainThreadInterface::Post); now that thread waits until
// the main thread has handled the session's end (probe/main-thread-witness.ts).
//
//   npm run build && node bench/worker-teardown.mjs [--runs 25] [--end exit|terminate] [--compare <probe.js>]
//
// Exits 1 when a target under this build did not exit 0.

import { join, resolve } from 'node:path';
import { CLI, ROOT, requireBuilt, printMachine, run, save, helpRequested, stringArg, QUICK, probeBuildArg } from './lib.mjs';

helpRequested(import.meta.url);
requireBuilt();
const RUNS = Number(stringArg('runs', QUICK ? '3' : '25'));
const END = stringArg('end', 'exit');
const COMPARE = probeBuildArg();
if (!(Number.isInteger(RUNS) && RUNS > 0)) throw new Error('--runs must be a positive integer');
if (END !== 'exit' && END !== 'terminate') throw new Error('--end must be exit or terminate');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'worker-churn.js');
const TARGET_ENV = { TOTAL: '24', PARALLEL: '2', LIFE_MS: '500', END, BUSY: '20000' };

const machine = printMachine(`worker threads that ${END === 'exit' ? 'exit' : 'are terminated'}, 24 a run`);

const builds = [{ name: 'this build', env: {} }];
if (COMPARE) builds.push({ name: `compare (${COMPARE})`, env: { LOOPSCOPE_PROBE_PATH: resolve(COMPARE) } });

const results = builds.map((b) => ({ build: b.name, runs: 0, failed: 0, codes: {} }));
for (let i = 0; i < RUNS; i++) {
  for (const [k, b] of builds.entries()) {
    const r = await run(process.execPath, [CLI, 'run', '--json', '--', process.execPath, FIXTURE], { env: { ...process.env, ...TARGET_ENV, ...b.env }, timeoutMs: 120_000 });
    const res = results[k];
    res.runs++;
    if (r.code !== 0) {
      res.failed++;
      res.codes[r.code] = (res.codes[r.code] ?? 0) + 1;
    }
  }
  process.stdout.write(`  run ${i + 1}/${RUNS}: ${results.map((r) => `${r.build} ${r.failed} failed`).join(', ')}\n`);
}

console.log('');
for (const r of results) {
  const codes = Object.entries(r.codes).map(([code, n]) => `exit ${code} ×${n}`).join(', ');
  console.log(`${r.build}: ${r.failed} of ${r.runs} runs failed${codes ? ` (${codes})` : ''}`);
}
save(`worker-teardown-${END}`, { runs: RUNS, end: END, compare: COMPARE, target: TARGET_ENV, machine, results });
process.exit(results[0].failed === 0 ? 0 : 1);
