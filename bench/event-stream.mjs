#!/usr/bin/env node
// The stream from probe to main in trace mode: a fixture makes async events as fast as it
// can (test/fixtures/event-flood.js, shared with the tests: nextTick and setImmediate chains) under
// `loopscope run --mode trace --json`. Reports lifecycle events received per second end to
// end (probe hooks → shared ring → worker → Unix socket → decode → trace model) and what
// was dropped, counted. Budget: ≥ 1,000,000 events/s, drops counted.
//
//   node bench/event-stream.mjs [--quick] [--rounds N]

import { join } from 'node:path';
import { ROOT, QUICK, requireBuilt, printMachine, loopscopeRun, median, min, max, fmt, table, verdict, save } from './lib.mjs';

const BUDGET = 1_000_000;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', QUICK ? 1 : 3);
const RUN_MS = QUICK ? 2000 : 4000;

requireBuilt();
const machine = printMachine('probe → main event stream, trace mode');
const rows = [];
for (let round = 0; round < ROUNDS; round++) {
  process.env.RUN_MS = String(RUN_MS);
  const { summary } = await loopscopeRun(['--mode', 'trace'], [process.execPath, join(ROOT, 'test', 'fixtures', 'event-flood.js')], { timeoutMs: 120_000 });
  const seconds = summary.durationMs / 1000;
  const droppedBatches = summary.dropped.frames.TaskEvents ?? 0;
  rows.push({ events: summary.traceEvents, seconds, perSecond: summary.traceEvents / seconds, droppedBatches, droppedBytes: summary.dropped.bytes });
  console.log(`  round ${round + 1}/${ROUNDS}: ${fmt(summary.traceEvents / seconds / 1e6, 2)} M events/s received, ${droppedBatches} batches (${fmt(summary.dropped.bytes / 2 ** 20, 1)} MiB) dropped and counted`);
}
const rates = rows.map((r) => r.perSecond);
table(['events/s received (median)', 'min', 'max', 'batches dropped (median)'], [[fmt(median(rates), 0), fmt(min(rates), 0), fmt(max(rates), 0), fmt(median(rows.map((r) => r.droppedBatches)), 0)]]);
console.log(`budget ≥ ${BUDGET} events/s: ${verdict(median(rates) >= BUDGET)}`);
save('event-stream', { machine, budget: BUDGET, rounds: rows, medianPerSecond: median(rates), pass: median(rates) >= BUDGET });
