#!/usr/bin/env node
// The CPU sampler's cost on the target's main thread, per harvest, in an app of 50,000
// compiled functions (budget: ≤ 1 ms a harvest), and its first start (V8 logs every compiled
// function once: the probe's own pause, never a block of the app's).
//
// A fixture (bench/fixtures/harvest-app.js) idles, or calls its functions at random ("spread",
// so that each harvest's profile holds many stacks), under `loopscope run --json` (the probe
// starts before the app compiles its functions), or attached to once they are compiled
// (`loopscope attach`: the profiler's first start then logs all of them). It times
// every call the sampler's harvests make on its main thread (console.profile of the next
// title, console.profileEnd of the previous one: the probe's control function, wrapped), in
// wall time and in CPU time (the whole process's during the call: an upper bound, as the
// kernel gives a thread's own CPU time only to the scheduler tick). What a harvest costs beyond those calls (the
// inspector's dispatch, the evaluate) is in the second figure: the main thread's CPU time over
// the whole run with the sampler, minus the same without it (--no-profile), in alternated
// runs, per harvest. That one also holds the sampling itself (a signal per sample).
//
//   node bench/harvest-cost.mjs [--help] [--quick] [--rounds N] [--functions N] [--seconds S]

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLI, FIXTURES, QUICK, requireBuilt, printMachine, run, waitForLine, exited, median, max, fmt, table, verdict, save } from './lib.mjs';

if (process.argv.includes('--help')) {
  console.log('Usage: node bench/harvest-cost.mjs [--quick] [--rounds N] [--functions N] [--seconds S]\n' +
    'The main thread\'s time per harvest of the CPU sampler, and its first start, in an app of many functions; needs `npm run build`.');
  process.exit(0);
}

const BUDGET_MS = 1;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', QUICK ? 1 : 4);
const FUNCTIONS = arg('functions', 50_000);
const SECONDS = arg('seconds', QUICK ? 5 : 10);

requireBuilt();
const machine = printMachine(`CPU sampler: harvest cost with ${FUNCTIONS} compiled functions`);
console.log(`${ROUNDS} rounds of ${SECONDS} s per scenario, each with the sampler and with --no-profile, alternated`);

const appEnv = (spread) => ({ ...process.env, FUNCTIONS: String(FUNCTIONS), SPREAD: spread ? '1' : '0', RUN_MS: String(SECONDS * 1000) });
const appLine = (text) => JSON.parse(text.split('\n').find((l) => l.startsWith('{"functions"')));

async function underRun(spread, sampler) {
  const r = await run(process.execPath, [CLI, 'run', '--json', ...(sampler ? [] : ['--no-profile']), '--', process.execPath, join(FIXTURES, 'harvest-app.js')], {
    env: appEnv(spread), timeoutMs: (SECONDS + 60) * 1000,
  });
  // Under --json the target's stdout comes out on the CLI's stderr.
  return { summary: JSON.parse(r.stdout), app: appLine(r.stderr) };
}

async function attached(spread, sampler) {
  const child = spawn(process.execPath, [join(FIXTURES, 'harvest-app.js')], { env: { ...appEnv(spread), RUN_MS: String((SECONDS + 5) * 1000) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  try {
    await waitForLine(child, /ready (\d+)/, 60_000);
    const r = await run(process.execPath, [CLI, 'attach', String(child.pid), '--json', '--duration', String(SECONDS), ...(sampler ? [] : ['--no-profile'])], { timeoutMs: (SECONDS + 60) * 1000 });
    await exited(child);
    return { summary: JSON.parse(r.stdout), app: appLine(out) };
  } finally {
    child.kill('SIGKILL');
  }
}

const SCENARIOS = { 'run, idle': [underRun, false], 'run, spread': [underRun, true], 'attach, spread': [attached, true] };
const results = {};
for (const [name, [how, spread]] of Object.entries(SCENARIOS)) {
  const once = (sampler) => how(spread, sampler);
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? [true, false] : [false, true];
    const got = {};
    for (const sampler of order) got[sampler ? 'on' : 'off'] = await once(sampler);
    rounds.push(got);
    const calls = got.on.app.calls;
    console.log(`  ${name} round ${i + 1}/${ROUNDS}: ${calls.length} control calls, main thread CPU ${fmt(got.on.app.mainCpuMs, 0)} ms with the sampler, ${fmt(got.off.app.mainCpuMs, 0)} ms without`);
  }
  // A harvest is a start of the next title and an end of the previous: the calls after the first start, in pairs.
  // (op 2 is the first start.)
  const harvests = rounds.flatMap((r) => {
    const calls = r.on.app.calls.filter((c) => c.op !== 2);
    const out = [];
    for (let k = 0; k + 1 < calls.length; k += 2) out.push({ wallMs: calls[k].wallMs + calls[k + 1].wallMs, cpuMs: calls[k].cpuMs + calls[k + 1].cpuMs });
    return out;
  });
  const firstStarts = rounds.flatMap((r) => r.on.summary.probePauses.filter((p) => p.what.startsWith('CPU profiler start')).map((p) => p.durationMs));
  const perHarvest = rounds.map((r) => (r.on.app.mainCpuMs - r.off.app.mainCpuMs) / Math.max(1, r.on.app.calls.filter((c) => c.op !== 2).length / 2));
  const blocked = rounds.map((r) => r.on.summary.blockedCount);
  results[name] = { rounds, harvests, firstStarts, perHarvest, blocked };
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const q = (xs, p) => sorted(xs)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log('');
table(['scenario', 'harvests', 'calls, wall ms: median', 'p90', 'max', 'calls, CPU ms (upper bound): median', 'p90', 'max', 'whole run: main CPU ms per harvest (median)', 'first start ms (median, max)', 'blocks'], Object.entries(results).map(([name, r]) => [
  name, String(r.harvests.length),
  fmt(median(r.harvests.map((h) => h.wallMs)), 3), fmt(q(r.harvests.map((h) => h.wallMs), 0.9), 3), fmt(max(r.harvests.map((h) => h.wallMs)), 3),
  fmt(median(r.harvests.map((h) => h.cpuMs)), 3), fmt(q(r.harvests.map((h) => h.cpuMs), 0.9), 3), fmt(max(r.harvests.map((h) => h.cpuMs)), 3),
  fmt(median(r.perHarvest), 3),
  `${fmt(median(r.firstStarts), 0)}, ${fmt(max(r.firstStarts), 0)}`,
  r.blocked.join(' '),
]));
const worst = Math.max(...Object.values(results).map((r) => median(r.harvests.map((h) => h.cpuMs))));
console.log(`\na harvest's calls on the main thread, median CPU (upper bound): ${fmt(worst, 3)} ms at most over the scenarios; budget ≤ ${BUDGET_MS} ms: ${verdict(worst <= BUDGET_MS)}`);
console.log('(the whole-run figure also holds the sampling itself and the inspector\'s dispatch: it is the difference of two noisy totals, so only its median says much)');
save('harvest-cost', { budgetMs: BUDGET_MS, functions: FUNCTIONS, seconds: SECONDS, rounds: ROUNDS, machine, results: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { harvests: r.harvests, firstStarts: r.firstStarts, perHarvest: r.perHarvest, blocked: r.blocked }])), pass: worst <= BUDGET_MS });
