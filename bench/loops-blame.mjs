#!/usr/bin/env node
// Blame from the CPU samples in a process of several loops. `loopscope run --json` of
// test/fixtures/worker-blocker.js (an idle main thread, WORKERS workers that each block 150 ms
// COUNT times, then end), --runs times, with a spinning process beside it when --load is given
// (as the test suite's other files are, on a CI machine of two cores). Counted, over all runs:
// the workers' blocks blamed from their samples rather than from the interrupt (a late stack),
// and the runs whose main loop's sampler ended paused.
//
// Two faults showed here. Profile ids come from one counter for the whole process, so the
// main loop's sampler took the workers' samplers for a debugger and paused (every run). And a
// harvest ended its previous profile two intervals after starting the next: a worker that
// ended within those 40 ms lost up to a second of samples, its last blocks blamed late.
//
//   npm run build && node bench/loops-blame.mjs [--runs 10] [--load] [--probe <probe.js>]
//
// --probe runs another build of the probe (LOOPSCOPE_PROBE_PATH), e.g. one from before a fix.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI, ROOT, requireBuilt, printMachine, run, save, helpRequested, stringArg } from './lib.mjs';

helpRequested(import.meta.url);
requireBuilt();
const RUNS = Number(stringArg('runs', '10'));
const LOAD = process.argv.includes('--load');
const PROBE = stringArg('probe', undefined);
if (PROBE !== undefined && !existsSync(PROBE)) throw new Error(`--probe: no probe build at ${PROBE}`);
if (!(RUNS > 0)) throw new Error('--runs must be positive');
const env = { ...process.env, WORKERS: '2', COUNT: '3', WORKER_EXIT: '4', ...(PROBE ? { LOOPSCOPE_PROBE_PATH: resolve(PROBE) } : {}) };
const FIXTURE = join(ROOT, 'test', 'fixtures', 'worker-blocker.js');

const machine = printMachine('blame from samples in a process with worker threads');
console.log(`${RUNS} runs${LOAD ? ', a spinning process beside each' : ''}${PROBE ? `; probe ${PROBE}` : ''}`);

const spinner = LOAD ? spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }) : undefined;
const rows = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const r = await run(process.execPath, [CLI, 'run', '--json', '--', process.execPath, FIXTURE], { env });
    if (r.code !== 0) throw new Error(`run failed (exit ${r.code}): ${r.stderr.trim()}`);
    const summary = JSON.parse(r.stdout);
    const workers = summary.loops.filter((l) => l.threadId !== 0);
    const blocks = workers.flatMap((w) => w.blocked);
    const row = { sampled: blocks.filter((b) => b.stackSource === 'samples').length, blocks: blocks.length, mainSampler: summary.profile?.sampler ?? 'none' };
    rows.push(row);
    console.log(`  run ${i + 1}: workers' blocks from samples ${row.sampled} of ${row.blocks} (${workers.map((w) => w.blocked.map((b) => b.stackSource[0]).join('')).join(' ')}); main loop's sampler ${row.mainSampler}`);
  }
} finally {
  spinner?.kill('SIGKILL');
}
const sampled = rows.reduce((n, r) => n + r.sampled, 0);
const blocks = rows.reduce((n, r) => n + r.blocks, 0);
const paused = rows.filter((r) => r.mainSampler !== 'on').length;
console.log(`\nworkers' blocks blamed from samples: ${sampled} of ${blocks}; runs whose main loop's sampler was not on at the end: ${paused} of ${rows.length}`);
save('loops-blame', { probe: PROBE ?? null, load: LOAD, machine, rows, sampled, blocks, paused });
