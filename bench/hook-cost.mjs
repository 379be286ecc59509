#!/usr/bin/env node
// What tasks and trace modes cost per async event, part by part, in CPU time: precise enough
// (A/A within about ±1%) to tell a change to the hook's callbacks from noise, where the HTTP
// benches are not. The fixture (bench/fixtures/async-units.js) runs a fixed number of
// request-like units of async work (an Immediate, three nextTicks and about 20 promises each)
// and reports its CPU time per unit. Each round runs pairs side by side, both of a pair pinned
// to one CPU (alternating by round): the plain fixture (base) with each variant, and with
// itself (control, the A/A noise floor). Reported: variant/base CPU per unit, median of the
// rounds with min and max.
//
// Variants (--variants, comma-separated):
//   part:hook, part:hook-no-destroy, part:tasks, part:trace
//                the parts of bench/fixtures/task-parts.ts (built from the probe's modules),
//                preloaded: the probe's hook with empty callbacks (with and without destroy),
//                tasks mode's callbacks, trace mode's (columns filled, nothing sent)
//   metrics, tasks, trace
//                the whole probe: `loopscope run --json --mode <m>` (worker, wire, socket)
// --compare <probe.js> adds each whole-probe variant again with another build of the probe
// (LOOPSCOPE_PROBE_PATH), named "<mode> (compare)". --node runs the fixture on another Node
// (a major, a version or a path: bench/lib.mjs nodeBinary()), loopscope itself on this one.
//
//   node bench/hook-cost.mjs [--quick] [--rounds N] [--units N] [--node 22] [--variants ...] [--compare <probe.js>]

import { join, resolve } from 'node:path';
import {
  CLI, FIXTURES, QUICK, requireBuilt, buildTaskParts, printMachine, hasTaskset, pinned, run, median, min, max, fmt, table, save,
  helpRequested, stringArg, nodeBinary, probeBuildArg,
} from './lib.mjs';

helpRequested(import.meta.url);
const ROUNDS = Number(stringArg('rounds', QUICK ? '3' : '7'));
const UNITS = Number(stringArg('units', QUICK ? '50000' : '200000'));
const COMPARE = probeBuildArg();
const PARTS = ['part:hook', 'part:hook-no-destroy', 'part:tasks', 'part:trace'];
const MODES = ['metrics', 'tasks', 'trace'];
const requested = stringArg('variants', [...PARTS, ...MODES].join(',')).split(',');
for (const v of requested) if (!PARTS.includes(v) && !MODES.includes(v)) throw new Error(`unknown variant ${v}; there are: ${[...PARTS, ...MODES].join(', ')}`);
const VARIANTS = ['control', ...requested, ...(COMPARE ? requested.filter((v) => MODES.includes(v)).map((v) => `${v} (compare)`) : [])];
if (!(ROUNDS >= 1) || !(UNITS >= 1000)) throw new Error('--rounds must be at least 1 and --units at least 1000');

requireBuilt();
const NODE = await nodeBinary(stringArg('node', process.version.slice(1)));
const version = (await run(NODE, ['--version'])).stdout.trim();
const machine = printMachine(`hook cost per async event, Node ${version}: CPU time of a fixed job`);
const PIN = hasTaskset();
console.log(`${ROUNDS} rounds of ${UNITS} units; in each round, pairs side by side (base with each variant)` + (PIN ? ', both of a pair pinned to one CPU (alternating by round)' : ', not pinned'));

const partsFile = VARIANTS.some((v) => PARTS.includes(v)) ? await buildTaskParts() : undefined;

const fixture = join(FIXTURES, 'async-units.js');
async function runVariant(variant, cpu) {
  let cmd;
  const env = { ...process.env };
  if (variant === 'base' || variant === 'control') cmd = pinned(cpu, NODE, [fixture, String(UNITS)]);
  else if (PARTS.includes(variant)) {
    cmd = pinned(cpu, NODE, ['--require', partsFile, fixture, String(UNITS)]);
    env.LOOPSCOPE_BENCH_PART = variant.slice('part:'.length);
  } else {
    // loopscope on the other CPU, the target (started through taskset) on this one.
    const other = cpu === undefined ? undefined : cpu === '0' ? '1' : '0';
    const target = pinned(cpu, NODE, [fixture, String(UNITS)]);
    cmd = pinned(other, process.execPath, [CLI, 'run', '--json', '--mode', variant.replace(' (compare)', ''), '--', target.command, ...target.args]);
    if (variant.endsWith(' (compare)')) env.LOOPSCOPE_PROBE_PATH = resolve(COMPARE);
  }
  const r = await run(cmd.command, cmd.args, { env, timeoutMs: 300_000 });
  const line = (r.stdout + r.stderr).split('\n').find((l) => l.startsWith('{"units"'));
  if (r.code !== 0 || !line) throw new Error(`${variant}: exit ${r.code}, no result: ${r.stderr.slice(0, 400)}`);
  return JSON.parse(line).cpuUsPerUnit;
}

const ratios = Object.fromEntries(VARIANTS.map((v) => [v, []]));
const bases = [];
for (let i = 0; i < ROUNDS; i++) {
  const cpu = PIN ? String(i % 2) : undefined;
  for (const v of VARIANTS.map((_, k) => VARIANTS[(k + i) % VARIANTS.length])) {
    const [base, other] = await Promise.all([runVariant('base', cpu), runVariant(v, cpu)]);
    bases.push(base);
    ratios[v].push(other / base);
  }
  console.log(`  round ${i + 1}/${ROUNDS}: ${VARIANTS.map((v) => `${v} ${fmt(ratios[v][i], 3)}`).join(', ')}`);
}
console.log('');
table(['variant', 'CPU per unit / base (median)', 'min', 'max', 'µs per unit added'], VARIANTS.map((v) => [
  v, fmt(median(ratios[v]), 4), fmt(min(ratios[v]), 4), fmt(max(ratios[v]), 4), fmt((median(ratios[v]) - 1) * median(bases), 2),
]));
console.log(`\nbase: ${fmt(median(bases), 2)} µs of CPU per unit (median); control is the A/A noise floor`);
save(`hook-cost-${version}`, { node: version, rounds: ROUNDS, units: UNITS, compare: COMPARE, pinned: PIN, machine, bases, ratios });
