#!/usr/bin/env node
// Benchmark 2b: the probe's cost on a saturated loop, measured in CPU time rather than
// requests/s. A fixture (bench/fixtures/busy-app.js) does a fixed amount of JavaScript work,
// one ~30 µs unit per turn of the loop (setImmediate), allocating as a request handler does.
// The cost is the extra CPU time the same work takes under the probe. CPU time of a fixed job
// is much less disturbed than throughput by other processes on a shared machine, so this
// checks the metrics-mode budget (≤ 1%) where the HTTP benchmark's noise floor is too high.
//
// Each round runs pairs side by side: base (plain) with probed (`loopscope run --json -- node
// busy-app.js`, default metrics mode), then base with control (plain again: the A/A noise
// floor). The two processes of a pair are pinned to the same CPU and share it, so that they see
// the same neighbours, caches and frequency; the loopscope CLI runs on the other CPU. Which CPU
// alternates by round. Pinned to different CPUs, even an A/A pair differed by up to 45% in CPU
// time for the same work on this VM, and unpinned by ±5%; sharing one CPU, by ±1.5%
// (--unpinned runs pairs unpinned, as this bench did before).
// Reported: variant/base CPU time of each pair, median over the rounds with min and max,
// whole process (the probe's worker thread included) and main thread only.
// With --parts, also one stand-in per part of the probe (bench/fixtures/probe-parts.js) to see
// which part costs what. --mode tasks|trace probes in that mode instead (each unit is then an
// Immediate's init, before, after and destroy for the hook). --compare <probe.js> adds a
// variant: the same CLI with another build of the probe (LOOPSCOPE_PROBE_PATH), in the same
// rounds, to tell a change of the probe from the machine's drift.
//
// The CPU sampler (on by default) is measured three ways in the same rounds: the probe as it
// ships against no probe ("probed"), the probe with --no-profile against no probe ("no
// sampler"), and the probe as it ships against the probe with --no-profile, side by side
// ("sampler alone": the sampler's own cost, budget ≤ 2%). --sample-intervals 10,20,50 adds a
// "sampler alone" pair per interval (choosing the default).
//
//   node bench/busy-cost.mjs [--help] [--quick] [--rounds N] [--parts] [--unpinned] [--mode m] [--compare <probe.js>] [--sample-intervals ms,ms]

import { join } from 'node:path';
import { resolve } from 'node:path';
import { CLI, FIXTURES, QUICK, requireBuilt, printMachine, hasTaskset, pinned, run, median, min, max, fmt, pct, table, verdict, save, helpRequested, stringArg, probeBuildArg } from './lib.mjs';

helpRequested(import.meta.url);
const MODE = stringArg('mode', 'metrics');
const BUDGETS = { metrics: 0.01, tasks: 0.1, trace: 0.25 };
if (!(MODE in BUDGETS)) throw new Error(`--mode must be one of ${Object.keys(BUDGETS).join(', ')}`);
const BUDGET = BUDGETS[MODE];
/** The CPU sampler alone, against the probe without it. */
const SAMPLER_BUDGET = 0.02;
const COMPARE = probeBuildArg();
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', QUICK ? 2 : 8);
const UNITS = QUICK ? 20_000 : 60_000;
const PARTS = process.argv.includes('--parts') ? ['heartbeat', 'gc', 'worker'] : [];
const intervalsArg = process.argv.indexOf('--sample-intervals');
const SAMPLE_INTERVALS = intervalsArg === -1 ? [] : process.argv[intervalsArg + 1].split(',').map(Number);

requireBuilt();
const machine = printMachine(`busy-loop cost, ${MODE} mode: CPU time of a fixed job`);
const PIN = !process.argv.includes('--unpinned') && hasTaskset();
console.log(`${ROUNDS} rounds of ${UNITS} units; in each round, pairs side by side (base with each variant)` +
  (PIN ? ', both of a pair pinned to one CPU (alternating by round), the loopscope CLI on the other' : ', not pinned'));

const app = [process.execPath, join(FIXTURES, 'busy-app.js'), String(UNITS)];
async function plain(cpu, env = {}) {
  const { command, args } = pinned(cpu, app[0], app.slice(1));
  const r = await run(command, args, { env: { ...process.env, ...env }, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`busy app failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
async function runProbed(cpu, options = [], probeFile = undefined) {
  const other = cpu === undefined ? undefined : cpu === '0' ? '1' : '0';
  const target = pinned(cpu, app[0], app.slice(1));
  const { command, args } = pinned(other, process.execPath, [CLI, 'run', '--json', '--mode', MODE, ...options, '--', target.command, ...target.args]);
  const env = probeFile === undefined ? process.env : { ...process.env, LOOPSCOPE_PROBE_PATH: resolve(probeFile) };
  const r = await run(command, args, { timeoutMs: 120_000, env });
  const summary = JSON.parse(r.stdout);
  if (r.code !== 0 || summary.warnings.length || summary.samples === 0) throw new Error(`probed busy app: exit ${r.code}, ${summary.warnings.join('; ')}`);
  // Under --json the target's stdout comes out on the CLI's stderr.
  const result = JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{"units"')));
  return { ...result, samples: summary.samples, gcCount: summary.gc.count, cpuSamples: summary.profile?.samples ?? 0 };
}
const noSampler = (cpu) => runProbed(cpu, ['--no-profile']);
/** Each variant runs beside its base (no probe, unless it says otherwise). */
const VARIANTS = {
  probed: (cpu) => runProbed(cpu),
  ...(COMPARE === undefined ? {} : { 'probed, --compare build': (cpu) => runProbed(cpu, [], COMPARE) }),
  'no sampler': noSampler,
  'sampler alone': { base: noSampler, other: (cpu) => runProbed(cpu) },
  ...Object.fromEntries(SAMPLE_INTERVALS.map((ms) => [`sampler alone, ${ms} ms`, { base: noSampler, other: (cpu) => runProbed(cpu, ['--sample-interval', String(ms)]) }])),
  control: (cpu) => plain(cpu),
  ...Object.fromEntries(PARTS.map((part) => [`part: ${part}`, (cpu) => plain(cpu, {
    NODE_OPTIONS: `--require ${JSON.stringify(join(FIXTURES, 'probe-parts.js'))}`,
    LOOPSCOPE_BENCH_PART: part,
  })])),
};

const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  const cpu = PIN ? String(i % 2) : undefined;
  const round = {};
  for (const [name, v] of Object.entries(VARIANTS)) {
    const [base, other] = await Promise.all(typeof v === 'function' ? [plain(cpu), v(cpu)] : [v.base(cpu), v.other(cpu)]);
    round[name] = { base, other };
  }
  rounds.push(round);
  console.log(`  round ${i + 1}/${ROUNDS}: CPU ms (base, variant) ` +
    Object.entries(round).map(([n, p]) => `${n} ${fmt(p.base.cpuMs, 0)}, ${fmt(p.other.cpuMs, 0)}`).join('; '));
}

const ratio = (v, key) => rounds.map((r) => r[v].other[key] / r[v].base[key]);
const rows = Object.keys(VARIANTS).map((v) => {
  const cpu = ratio(v, 'cpuMs');
  const main = ratio(v, 'mainThreadMs');
  return { variant: v, medianCpuRatio: median(cpu), minCpuRatio: min(cpu), maxCpuRatio: max(cpu), medianMainRatio: median(main), minMainRatio: min(main), maxMainRatio: max(main) };
});
console.log('');
table(['variant', 'CPU time / base (median)', 'min', 'max', 'main thread / base (median)', 'min', 'max'], rows.map((r) => [
  r.variant, fmt(r.medianCpuRatio, 4), fmt(r.minCpuRatio, 4), fmt(r.maxCpuRatio, 4), fmt(r.medianMainRatio, 4), fmt(r.minMainRatio, 4), fmt(r.maxMainRatio, 4),
]));
const probed = rows.find((r) => r.variant === 'probed');
const control = rows.find((r) => r.variant === 'control');
const cost = probed.medianCpuRatio - 1;
const bases = rounds.flatMap((r) => Object.values(r).map((p) => p.base));
console.log(`\nbase: ${fmt(median(bases.map((b) => b.cpuMs)), 0)} ms CPU for ${UNITS} units (${fmt(median(bases.map((b) => (b.cpuMs * 1000) / UNITS)), 1)} µs/unit), ` +
  `wall/CPU ${fmt(median(bases.map((b) => b.wallMs / b.cpuMs)), 2)}; probed runs saw ${fmt(median(rounds.map((r) => r.probed.other.gcCount)), 0)} GCs ` +
  `and ${fmt(median(rounds.map((r) => r.probed.other.samples)), 0)} samples, wall/CPU ${fmt(median(rounds.map((r) => r.probed.other.wallMs / r.probed.other.cpuMs)), 2)} (medians)`);
console.log(`A/A control/base: median ${fmt(control.medianCpuRatio, 4)} (min ${fmt(control.minCpuRatio, 4)}, max ${fmt(control.maxCpuRatio, 4)}): the noise floor`);
console.log(`busy-loop cost (extra CPU time for the same work): ${pct(cost)} (spread ${pct(probed.minCpuRatio - 1)} … ${pct(probed.maxCpuRatio - 1)}), ` +
  `main thread alone ${pct(probed.medianMainRatio - 1)}; budget ≤ ${fmt(BUDGET * 100, 0)}%: ${verdict(cost <= BUDGET)}`);
const sampler = rows.find((r) => r.variant === 'sampler alone');
const samplerCost = sampler.medianCpuRatio - 1;
console.log(`the CPU sampler alone (the probe as it ships / the probe with --no-profile): ${pct(samplerCost)} (spread ${pct(sampler.minCpuRatio - 1)} … ${pct(sampler.maxCpuRatio - 1)}), ` +
  `main thread ${pct(sampler.medianMainRatio - 1)}; ${fmt(median(rounds.map((r) => r.probed.other.cpuSamples)), 0)} CPU samples a run (median); budget ≤ ${fmt(SAMPLER_BUDGET * 100, 0)}%: ${verdict(samplerCost <= SAMPLER_BUDGET)}`);

save(MODE === 'metrics' ? 'busy-cost' : `busy-cost-${MODE}`, {
  mode: MODE, compare: COMPARE, budget: BUDGET, samplerBudget: SAMPLER_BUDGET, rounds: ROUNDS, units: UNITS, pinned: PIN, machine, cost, samplerCost, rows,
  pass: cost <= BUDGET, samplerPass: samplerCost <= SAMPLER_BUDGET, perRound: rounds,
});
