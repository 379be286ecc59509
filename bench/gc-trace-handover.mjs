#!/usr/bin/env node
// GC pauses lost where the probe's GC trace changes hands. The probe collects V8's trace events
// every second by starting one inspector session's tracing as it stops another's
// (probe/gc-trace.ts); Node suspends V8's tracing while a session's tracing starts or stops, and
// a GC begin or end that falls then is not recorded. This runs bench/fixtures/gc-handover.js,
// which collects the same way at each interval of --intervals while its main thread and one
// more worker allocate, and counts the MinorGC/MajorGC begins and ends left unpaired (each a
// pause lost), the complete GC events that came with no duration (cut open by a collection)
// and how many of them came whole later, and any event seen twice. Short intervals make the losses countable; 1000 ms is the probe's.
// Then the check of what the probe counts (gc.unrecorded): the two allocating threads observe
// their own pauses, and of those, the ones the trace has no whole pause for (missing), beside the
// begins and ends left unpaired on those threads at the same time (each counted by the probe).
// A pause whose begin and end both fall in the moment leaves nothing to count.
//
//   node bench/gc-trace-handover.mjs [--intervals 3,30,1000] [--seconds 6] [--rounds 2]

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, QUICK, printMachine, median, save, helpRequested, stringArg } from './lib.mjs';

helpRequested(import.meta.url);
const INTERVALS = stringArg('intervals', '3,30,1000').split(',').map(Number);
const SECONDS = Number(stringArg('seconds', QUICK ? '3' : '6'));
const ROUNDS = Number(stringArg('rounds', QUICK ? '1' : '2'));
if (!INTERVALS.every((ms) => ms > 0) || !(SECONDS > 0) || !(Number.isInteger(ROUNDS) && ROUNDS >= 1)) {
  throw new Error('--intervals takes positive ms, comma-separated; --seconds a positive number; --rounds a positive integer');
}

const machine = printMachine('GC trace events lost where the trace changes hands');

function runFixture(flushMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(FIXTURES, 'gc-handover.js')], { env: { ...process.env, FLUSH_MS: String(flushMs), SECONDS: String(SECONDS) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(out.trim().split('\n').at(-1)));
      } catch (err) {
        reject(new Error(`gc-handover.js at ${flushMs} ms: ${err.message}; its output: ${out.slice(-500)}`));
      }
    });
  });
}

const results = Object.fromEntries(INTERVALS.map((ms) => [ms, []]));
for (let r = 0; r < ROUNDS; r++) for (const ms of INTERVALS) results[ms].push(await runFixture(ms));

const m = (rs, k) => String(median(rs.map((x) => x[k]))).padEnd(14);
console.log(`${ROUNDS} round(s) of ${SECONDS} s per interval; medians\n`);
console.log(`  ${'collected every'.padEnd(16)} ${'whole pairs'.padEnd(14)} ${'end, no begin'.padEnd(14)} ${'begin, no end'.padEnd(14)} ${'complete, 0 µs'.padEnd(14)} ${'later whole'.padEnd(14)} ${'complete'.padEnd(14)} seen twice`);
for (const ms of INTERVALS) {
  const rs = results[ms];
  console.log(`  ${`${ms} ms`.padEnd(16)} ${m(rs, 'pairs')} ${m(rs, 'endsWithoutBegin')} ${m(rs, 'beginsWithoutEnd')} ${m(rs, 'completeWithoutDuration')} ${m(rs, 'completeLaterWhole')} ${m(rs, 'complete')} ${median(rs.map((x) => x.seenTwice))}`);
}
console.log('  (each unpaired begin or end is a pause lost; a complete event of 0 µs is a pause whose length was lost)\n');
console.log(`  ${'collected every'.padEnd(16)} ${'observed'.padEnd(14)} ${'missing'.padEnd(14)} ${'unpaired'.padEnd(14)} missing incremental starts`);
for (const ms of INTERVALS) {
  const rs = results[ms];
  const total = (k) => String(rs.reduce((a, x) => a + x[k], 0)).padEnd(14);
  console.log(`  ${`${ms} ms`.padEnd(16)} ${total('observed')} ${total('observedMissing')} ${total('unpairedOfThese')} ${rs.reduce((a, x) => a + x.observedMissingIncremental, 0)}`);
}
console.log('  (the allocating threads\' own pauses, inside the traced time, summed over the rounds: missing, none of the trace\'s pauses within 5 ms;\n   unpaired, the begins and ends the probe counts as gc.unrecorded)\n');
save('gc-trace-handover', { intervals: INTERVALS, seconds: SECONDS, rounds: ROUNDS, machine, results });
