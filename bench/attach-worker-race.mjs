#!/usr/bin/env node
// A worker thread that starts while loopscope attaches must be followed like any other. This
// sweeps the worker's start across the attach: a target (test/fixtures/worker-blocker.js, one
// worker "cruncher-0" that blocks every 300 ms) starts its worker LATE_MS after its own start,
// and `loopscope attach <pid> --duration 3 --json` runs right after the target is ready. The
// sweep starts --before ms before the probe is in (connected to loopscope: measured first by
// one attach to a target without workers, its attach.timingsMs.connected) and goes on for
// --span ms: a worker that starts before is followed as one that was running, one that starts
// after as soon as it is online. Counted: attaches whose summary has no loop for the worker.
// Before the fix of stop 21 (the probe loaded inside the evaluation, which a busy worker
// serves from an interrupt), some did: the worker was in the middle of its own require of
// perf_hooks, which the fixture's worker does as it starts.
//
//   npm run build && node bench/attach-worker-race.mjs [--step 25] [--before 200] [--span 1000] [--probe <probe.js>]
//
// --probe runs another build of the probe (LOOPSCOPE_PROBE_PATH), e.g. one from before a change.
// Exits 1 when an attach missed the worker.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI, ROOT, requireBuilt, printMachine, run, waitForLine, save, helpRequested, stringArg } from './lib.mjs';

helpRequested(import.meta.url);
requireBuilt();
const STEP_MS = Number(stringArg('step', '25'));
const BEFORE_MS = Number(stringArg('before', '200'));
const SPAN_MS = Number(stringArg('span', '1000'));
const PROBE = stringArg('probe', undefined);
if (PROBE !== undefined && !existsSync(PROBE)) throw new Error(`--probe: no probe build at ${PROBE}`);
if (!(STEP_MS > 0) || !(SPAN_MS >= 0) || !(BEFORE_MS >= 0)) throw new Error('--step must be positive, --before and --span not negative');
const env = { ...process.env, ...(PROBE ? { LOOPSCOPE_PROBE_PATH: resolve(PROBE) } : {}) };
const FIXTURE = join(ROOT, 'test', 'fixtures', 'worker-blocker.js');

const machine = printMachine('attach while a worker starts');

/** Starts the target, attaches at once, and resolves with the attach's summary. */
async function attachDuring(workerEnv) {
  const target = spawn(process.execPath, [FIXTURE], { env: { ...process.env, STAY: '1', COUNT: '1000', PERIOD_MS: '300', ...workerEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLine(target, /^ready \d+/m);
    const r = await run(process.execPath, [CLI, 'attach', String(target.pid), '--duration', '3', '--json'], { env });
    if (r.code !== 0) throw new Error(`attach failed (exit ${r.code}): ${r.stderr.trim()}`);
    return JSON.parse(r.stdout);
  } finally {
    target.kill('SIGKILL');
  }
}

const calibration = await attachDuring({ WORKERS: '0' });
const connectedMs = Math.round(calibration.attach.timingsMs.connected);
const from = Math.max(0, connectedMs - BEFORE_MS);
console.log(`the probe is in ${connectedMs} ms after the attach starts; the worker starts from ${from} to ${connectedMs + SPAN_MS} ms, in ${STEP_MS} ms steps${PROBE ? `; probe ${PROBE}` : ''}`);

const rows = [];
for (let late = from; late <= connectedMs + SPAN_MS; late += STEP_MS) {
  const summary = await attachDuring({ WORKERS: '1', LATE_MS: String(late) });
  const followed = summary.loops.some((l) => /^worker \d+ cruncher-0$/.test(l.name));
  rows.push({ lateMs: late, followed });
  console.log(`  worker started at ${late} ms: ${followed ? 'followed' : 'MISSED'}`);
}
const missed = rows.filter((r) => !r.followed).length;
console.log(`\nmissed the worker: ${missed} of ${rows.length} attaches`);
save('attach-worker-race', { probe: PROBE ?? null, connectedMs, stepMs: STEP_MS, beforeMs: BEFORE_MS, spanMs: SPAN_MS, machine, rows, missed });
process.exitCode = missed > 0 ? 1 : 0;
