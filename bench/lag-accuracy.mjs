#!/usr/bin/env node
// Benchmark 1: lag accuracy. A fixture blocks the loop for a known time (20, 50, 200 ms,
// busy-waiting on performance.now()), several times at random phase, under
// `loopscope run --json --block-threshold 10`. The baseline is the block itself, as the
// fixture measured it on the same clock (performance.now() in the target): a block that the
// OS preempted lasts longer than asked, and the loop really was blocked for that long.
//
// Reported per block size: lag.maxMs (one per run, vs the run's longest block) and each
// blocked[] report's durationMs (vs the block it matches by start time): mean error and max
// abs error in ms, and measured/injected as a ratio. Budget: within ±2 ms of the block.
//
//   node bench/lag-accuracy.mjs [--quick]

import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  FIXTURES, QUICK, requireBuilt, printMachine, tempDir, loopscopeRun, mean, median, maxAbs, max, fmt, signed, table, verdict, save,
} from './lib.mjs';

const BUDGET_MS = 2;
const THRESHOLD_MS = 10;
const SIZES_MS = [20, 50, 200];
const RUNS = QUICK ? 1 : 3;
const BLOCKS_PER_RUN = QUICK ? 3 : 6;
const SETTLE_MS = 500;

requireBuilt();
const machine = printMachine('lag accuracy: measured block vs injected block');
console.log(`loopscope run --json --block-threshold ${THRESHOLD_MS}; ${RUNS} runs × ${BLOCKS_PER_RUN} blocks per size, random phase`);

const dir = tempDir('lag');
const results = [];
try {
  for (const size of SIZES_MS) {
    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const outFile = join(dir.path, `blocks-${size}-${r}.json`);
      const { summary, code } = await loopscopeRun(['--block-threshold', String(THRESHOLD_MS)], [
        process.execPath, join(FIXTURES, 'block-app.js'), String(size), String(BLOCKS_PER_RUN), String(SETTLE_MS), outFile,
      ]);
      if (code !== 0) throw new Error(`loopscope run exited ${code}`);
      if (summary.warnings.length) throw new Error(`loopscope warned: ${summary.warnings.join('; ')}`);
      const injected = JSON.parse(readFileSync(outFile, 'utf8')).blocks;
      runs.push(analyseRun(size, injected, summary));
    }
    results.push(summarise(size, runs));
  }
} finally {
  dir.remove();
}

/** Matches blocked[] reports to injected blocks by start time; the rest are spurious. */
function analyseRun(size, injected, summary) {
  const reports = summary.blocked.filter((b) => !b.ongoing);
  const used = new Set();
  const matches = [];
  const missed = [];
  for (const block of injected) {
    let best;
    for (const [i, rep] of reports.entries()) {
      if (used.has(i)) continue;
      const d = Math.abs(rep.startMs - block.startMs);
      if (d <= Math.max(5, size / 4) && (!best || d < best.d)) best = { i, d };
    }
    if (!best) {
      missed.push(block);
      continue;
    }
    used.add(best.i);
    const rep = reports[best.i];
    matches.push({
      injectedMs: block.durationMs,
      measuredMs: rep.durationMs,
      errorMs: rep.durationMs - block.durationMs,
      startErrorMs: rep.startMs - block.startMs,
      hasStack: rep.stack.length > 0,
    });
  }
  const spurious = reports.filter((_, i) => !used.has(i)).map((r) => ({ startMs: r.startMs, durationMs: r.durationMs, stackError: r.stackError }));
  const longest = max(injected.map((b) => b.durationMs));
  return {
    injected: injected.map((b) => b.durationMs),
    lagMax: { injectedMs: longest, measuredMs: summary.lag.maxMs, errorMs: summary.lag.maxMs - longest },
    matches,
    missed: missed.length,
    spurious,
    stillOngoing: summary.blocked.filter((b) => b.ongoing).length,
    overran: injected.filter((b) => b.durationMs > size + 1).length,
  };
}

function summarise(size, runs) {
  const lagErr = runs.map((r) => r.lagMax.errorMs);
  const blocked = runs.flatMap((r) => r.matches);
  const blkErr = blocked.map((m) => m.errorMs);
  const injected = runs.flatMap((r) => r.injected);
  const worst = Math.max(maxAbs(lagErr), blkErr.length ? maxAbs(blkErr) : Infinity);
  return {
    sizeMs: size,
    blocks: injected.length,
    injectedMeanMs: mean(injected),
    overran: runs.reduce((n, r) => n + r.overran, 0),
    lagMax: {
      runs: runs.map((r) => r.lagMax),
      meanErrorMs: mean(lagErr),
      medianErrorMs: median(lagErr),
      maxAbsErrorMs: maxAbs(lagErr),
      withinBudget: lagErr.filter((e) => Math.abs(e) <= BUDGET_MS).length,
      meanRatio: mean(runs.map((r) => r.lagMax.measuredMs / r.lagMax.injectedMs)),
    },
    blocked: {
      matched: blocked.length,
      missed: runs.reduce((n, r) => n + r.missed, 0),
      spurious: runs.flatMap((r) => r.spurious),
      stillOngoing: runs.reduce((n, r) => n + r.stillOngoing, 0),
      withStack: blocked.filter((m) => m.hasStack).length,
      meanErrorMs: mean(blkErr),
      medianErrorMs: median(blkErr),
      maxAbsErrorMs: blkErr.length ? maxAbs(blkErr) : NaN,
      withinBudget: blkErr.filter((e) => Math.abs(e) <= BUDGET_MS).length,
      meanStartErrorMs: mean(blocked.map((m) => m.startErrorMs)),
      maxAbsStartErrorMs: blocked.length ? maxAbs(blocked.map((m) => m.startErrorMs)) : NaN,
      meanRatio: mean(blocked.map((m) => m.measuredMs / m.injectedMs)),
    },
    worstAbsErrorMs: worst,
    pass: worst <= BUDGET_MS && blocked.length === injected.length,
  };
}

console.log('\nerrors are measured − injected, in ms; ratio is measured / injected');
table(
  ['block', 'blocks', 'lag.maxMs mean err', 'median', 'max |err|', `≤${BUDGET_MS} ms`, 'ratio', 'blocked[] mean err', 'median', 'max |err|', `≤${BUDGET_MS} ms`, 'ratio', 'matched', 'spurious', `±${BUDGET_MS} ms`],
  results.map((r) => [
    `${r.sizeMs} ms`, String(r.blocks),
    signed(r.lagMax.meanErrorMs, 3), signed(r.lagMax.medianErrorMs, 3), fmt(r.lagMax.maxAbsErrorMs, 3), `${r.lagMax.withinBudget}/${r.lagMax.runs.length}`, fmt(r.lagMax.meanRatio, 4),
    signed(r.blocked.meanErrorMs, 3), signed(r.blocked.medianErrorMs, 3), fmt(r.blocked.maxAbsErrorMs, 3), `${r.blocked.withinBudget}/${r.blocked.matched}`, fmt(r.blocked.meanRatio, 4),
    `${r.blocked.matched}/${r.blocks}`, String(r.blocked.spurious.length), verdict(r.pass),
  ]),
);
for (const r of results) {
  const notes = [];
  if (r.overran) notes.push(`${r.overran} block(s) ran > 1 ms past ${r.sizeMs} ms (preempted); compared with their real length`);
  if (r.blocked.missed) notes.push(`${r.blocked.missed} block(s) got no blocked[] report`);
  if (r.blocked.stillOngoing) notes.push(`${r.blocked.stillOngoing} report(s) still ongoing at exit`);
  if (r.blocked.spurious.length) {
    notes.push(`${r.blocked.spurious.length} blocked[] report(s) matching no injected block: ` +
      r.blocked.spurious.map((s) => `${fmt(s.durationMs, 3)} ms`).join(', '));
  }
  notes.push(`start error mean ${signed(r.blocked.meanStartErrorMs, 3)} ms, max |${fmt(r.blocked.maxAbsStartErrorMs, 3)}| ms; stacks ${r.blocked.withStack}/${r.blocked.matched}`);
  for (const n of notes) console.log(`  ${r.sizeMs} ms: ${n}`);
}

save('lag-accuracy', { budgetMs: BUDGET_MS, thresholdMs: THRESHOLD_MS, runs: RUNS, blocksPerRun: BLOCKS_PER_RUN, machine, results });
