#!/usr/bin/env node
// Benchmark: what each loop costs. Every worker thread is a loop with a probe of its own (its
// heartbeat, ring, watchdog thread and connection, and its CPU sampler): the budget is that each
// extra loop costs what one main loop costs. A fixed job (bench/fixtures/busy-workers.js: the
// busy-cost job, one ~70 µs unit per turn of a loop) is done by the main thread alone
// ("main"), or by each of WORKERS worker threads at once while the main thread idles
// ("workers"), plain and under `loopscope run --json` (metrics mode, as it ships).
//
// As in busy-cost.mjs, each pair runs side by side on one CPU (alternating by round), the
// loopscope CLI on the other: plain with probed, for both jobs, and plain with plain (the A/A
// floor). Reported per pair: probed/plain CPU time of the whole process (every thread, the
// probes' included), and the extra CPU per loop per second. A probe's cost goes with time, not
// with work (its heartbeat, watchdog, samplers and sending run at fixed rates): WORKERS workers
// sharing one CPU take WORKERS times as long for the same work each, so their cost per unit of
// work is that much higher, for the same cost per second. With workers, the idle main thread's
// probe is in the extra too (about 15 ms of CPU a second when idle, see idle-cost.mjs): per
// worker loop, it is taken out.
//
// --compare <probe.js> adds the workers' job again under another build of the probe
// (LOOPSCOPE_PROBE_PATH), "workers (compare)", in the same rounds.
//
//   node bench/loop-cost.mjs [--help] [--quick] [--rounds N] [--workers N] [--unpinned] [--compare <probe.js>]

import { join, resolve } from 'node:path';
import { CLI, FIXTURES, QUICK, helpRequested, requireBuilt, printMachine, hasTaskset, pinned, run, median, min, max, fmt, table, save, probeBuildArg } from './lib.mjs';

helpRequested(import.meta.url);

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', QUICK ? 3 : 8);
const WORKERS = arg('workers', 2);
const UNITS = QUICK ? 15_000 : 40_000;
const COMPARE = probeBuildArg();
/** The idle main thread's probe, per second of the job's wall time (idle-cost.mjs measures 14–16). */
const IDLE_MAIN_MS_PER_S = 15;

requireBuilt();
const machine = printMachine('loop cost, metrics mode: CPU time of a fixed job per loop, main thread vs worker threads');
const PIN = !process.argv.includes('--unpinned') && hasTaskset();
console.log(`${ROUNDS} rounds of ${UNITS} units per working loop; main: the main thread works; workers: ${WORKERS} worker threads work, the main thread idles` +
  (PIN ? '; both of a pair pinned to one CPU (alternating by round), the loopscope CLI on the other' : '; not pinned'));

const app = (workers) => [process.execPath, join(FIXTURES, 'busy-workers.js'), String(UNITS), String(workers)];
async function plain(cpu, workers) {
  const [node, ...rest] = app(workers);
  const { command, args } = pinned(cpu, node, rest);
  const r = await run(command, args, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`busy-workers failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
async function probed(cpu, workers, probeFile) {
  const other = cpu === undefined ? undefined : cpu === '0' ? '1' : '0';
  const [node, ...rest] = app(workers);
  const target = pinned(cpu, node, rest);
  const { command, args } = pinned(other, process.execPath, [CLI, 'run', '--json', '--', target.command, ...target.args]);
  const env = probeFile ? { ...process.env, LOOPSCOPE_PROBE_PATH: resolve(probeFile) } : process.env;
  const r = await run(command, args, { timeoutMs: 300_000, env });
  const summary = JSON.parse(r.stdout);
  if (summary.loops.length !== workers + 1) throw new Error(`probed busy-workers: ${summary.loops.length} loops, expected ${workers + 1}`);
  // Under --json the target's stdout comes out on the CLI's stderr.
  return { ...JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{"units"'))), loops: summary.loops.length };
}

const VARIANTS = {
  main: { loops: 1, base: (cpu) => plain(cpu, 0), other: (cpu) => probed(cpu, 0) },
  workers: { loops: WORKERS, base: (cpu) => plain(cpu, WORKERS), other: (cpu) => probed(cpu, WORKERS) },
  control: { loops: WORKERS, base: (cpu) => plain(cpu, WORKERS), other: (cpu) => plain(cpu, WORKERS) },
  ...(COMPARE ? { 'workers (compare)': { loops: WORKERS, base: (cpu) => plain(cpu, WORKERS), other: (cpu) => probed(cpu, WORKERS, COMPARE) } } : {}),
};

const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  const cpu = PIN ? String(i % 2) : undefined;
  const round = {};
  for (const [name, v] of Object.entries(VARIANTS)) {
    const [base, other] = await Promise.all([v.base(cpu), v.other(cpu)]);
    round[name] = { base, other };
  }
  rounds.push(round);
  console.log(`  round ${i + 1}/${ROUNDS}: CPU ms (plain, probed) ` + Object.entries(round).map(([n, p]) => `${n} ${fmt(p.base.cpuMs, 0)}, ${fmt(p.other.cpuMs, 0)}`).join('; '));
}

const rows = Object.entries(VARIANTS).map(([name, v]) => {
  const ratios = rounds.map((r) => r[name].other.cpuMs / r[name].base.cpuMs);
  const extra = rounds.map((r) => r[name].other.cpuMs - r[name].base.cpuMs);
  // Per second of the probed run, per working loop; with workers, less the idle main thread's probe.
  const idleMain = name.startsWith('workers') ? IDLE_MAIN_MS_PER_S : 0;
  const perLoopPerS = rounds.map((r, k) => (extra[k] / (r[name].other.wallMs / 1000) - idleMain) / v.loops);
  return {
    variant: name, loops: v.loops, median: median(ratios), min: min(ratios), max: max(ratios), extraMs: median(extra),
    wallS: median(rounds.map((r) => r[name].other.wallMs / 1000)), perLoopMsPerS: median(perLoopPerS), minPerLoop: min(perLoopPerS), maxPerLoop: max(perLoopPerS),
  };
});
console.log('');
table(['variant', 'working loops', 'probed / plain CPU (median)', 'min', 'max', 'extra CPU, ms', 'probed wall, s', 'extra CPU per loop, ms/s (median)', 'min', 'max'], rows.map((r) => [
  r.variant, r.loops, fmt(r.median, 4), fmt(r.min, 4), fmt(r.max, 4), fmt(r.extraMs, 0), fmt(r.wallS, 2), fmt(r.perLoopMsPerS, 1), fmt(r.minPerLoop, 1), fmt(r.maxPerLoop, 1),
]));
const [main, workers, control, compared] = rows;
console.log(`\nA/A control: median ${fmt(control.median, 4)} (min ${fmt(control.min, 4)}, max ${fmt(control.max, 4)}): the noise floor`);
console.log(`per loop: a worker loop ${fmt(workers.perLoopMsPerS, 1)} ms of CPU a second (less ${IDLE_MAIN_MS_PER_S} ms/s for the idle main thread's probe), the main loop ${fmt(main.perLoopMsPerS, 1)}: ` +
  `worker / main ${fmt(workers.perLoopMsPerS / main.perLoopMsPerS, 2)}`);
if (compared) console.log(`with ${COMPARE}: a worker loop ${fmt(compared.perLoopMsPerS, 1)} ms/s, worker / main ${fmt(compared.perLoopMsPerS / main.perLoopMsPerS, 2)}`);
save('loop-cost', { rounds: ROUNDS, units: UNITS, workers: WORKERS, pinned: PIN, compare: COMPARE, machine, rows, idleMainMsPerS: IDLE_MAIN_MS_PER_S, perRound: rounds });
