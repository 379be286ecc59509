#!/usr/bin/env node
// Benchmark 2: throughput cost of the probe in `metrics` mode on an HTTP server.
//
// The fixture server (bench/fixtures/http-server.js) runs three times at once: plain
// (`node http-server.js`, the baseline), a second plain one (the A/A control: how much two
// identical servers differ on this machine, i.e. the noise floor), and under
// `loopscope run --json -- node http-server.js` (probed). Each round starts fresh servers
// (a process's own JIT and heap layout make it a few % faster or slower for its whole life,
// so one process per variant would measure that, not the probe), and one load-generator
// process (bench/load.mjs, autocannon) warms them up, then drives them in alternating slices
// (ABC then CBA, the order rotated each round), so that the slices of a round see the same
// background load: this machine is shared and noisy. The cost is 1 − probed/base
// requests/s, per round (paired), reported as the median of the paired ratios with min and
// max. Budget: ≤ 1%.
//
// While one server is driven the others idle. An idle plain server uses no CPU; the idle
// probed server pays the probe's idle cost on the same core, which slows the baseline a
// little: a bias in the probe's favour, measured and printed (probed server's CPU during base
// slices).
//
// Pinning (when taskset works): the servers, with the probe's worker thread, on CPU 0; the
// load generator and the loopscope CLI process on CPU 1. So the probe's whole cost, worker
// thread included, is paid by the server's core: an upper bound on a machine with spare cores.
//
// --mode tasks|trace measures those modes instead (budgets ≤ 10% and ≤ 25%).
//
// --follow-cost: what following (every loop: worker threads, child processes) adds to a server
// that has neither. The baseline and the A/A control are then probed too, with `run
// --no-follow`, against `run` as it ships (following): the control's spread is the floor.
//
// --part heartbeat|gc|worker: the "probed" server runs one stand-in for a part of the probe
// (bench/fixtures/probe-parts.js, preloaded) instead of the probe, to see what each part costs.
//
// --concurrent measures in pairs driven at the same time instead: base with probed, then base
// with control (A/A), both servers of a pair on CPU 0 and one load generator each on CPU 1.
// The two servers of a pair then share the same moments of the shared machine, so their CPU
// time per request differs by about ±1.5% A/A (±7% in alternating slices). Each server gets
// about half a CPU, so it is not saturated: the probe's cost per second (its timers) counts
// fully, as on a server with spare capacity. With --pipelining N (autocannon sends N requests
// at a time per connection) the load generators cost far less per request, and can drive both
// servers of a pair until they share CPU 0 fully: then each is saturated, and the ratio of
// requests/s within a pair is the throughput cost itself.
//
// In --concurrent mode the CPU sampler (on by default) is measured in the same rounds as well:
// the probe with --no-profile against no probe ("no sampler"), and the probe as it ships
// against the probe with --no-profile ("sampler alone"), each pair driven at once.
//
// --server promise runs bench/fixtures/promise-server.js (an await of a setImmediate and a
// Promise.all of three async functions per request) instead of the plain server.
//
// --compare <probe.js> (with --concurrent): a pair more per round, base with the same CLI using
// another build of the probe (LOOPSCOPE_PROBE_PATH), to tell a change of the probe from drift.
//
//   node bench/http-throughput.mjs [--help] [--quick] [--rounds N] [--seconds S] [--no-pin] [--mode m] [--concurrent [--pipelining N] [--compare <probe.js>]] [--part p] [--follow-cost] [--server plain|promise]

import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import {
  BENCH_DIR, CLI, FIXTURES, QUICK, requireBuilt, printMachine, hasTaskset, pinned, repin, run, waitForLine, exited, driveAtOnce,
  median, min, max, sum, fmt, pct, table, verdict, save, helpRequested, stringArg, probeBuildArg,
} from './lib.mjs';

helpRequested(import.meta.url);
const COMPARE = probeBuildArg();

const modeArg = process.argv.indexOf('--mode');
const MODE = modeArg === -1 ? 'metrics' : process.argv[modeArg + 1];
const BUDGETS = { metrics: 0.01, tasks: 0.1, trace: 0.25 };
if (!(MODE in BUDGETS)) throw new Error(`--mode must be one of ${Object.keys(BUDGETS).join(', ')}`);
const BUDGET = BUDGETS[MODE];
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', QUICK ? 2 : 6);
const SECONDS = arg('seconds', 2);
/** Slices per variant per round: ABC then CBA. */
const SLICES = 2;
const WARMUP_SECONDS = QUICK ? 1 : 1.5;
// Enough requests in flight that the server stays busy when the load generator is descheduled.
const CONNECTIONS = 50;
const PIPELINING = arg('pipelining', 1);
const partArg = process.argv.indexOf('--part');
const PART = partArg === -1 ? undefined : process.argv[partArg + 1];
if (PART !== undefined && !['heartbeat', 'gc', 'worker'].includes(PART)) throw new Error('--part must be one of heartbeat, gc, worker');
const PIN = !process.argv.includes('--no-pin') && hasTaskset();
const FOLLOW_COST = process.argv.includes('--follow-cost');
const SERVER_CPU = PIN ? '0' : undefined;
const LOAD_CPU = PIN ? '1' : undefined;

const SERVERS = { plain: 'http-server.js', promise: 'promise-server.js' };
const SERVER = stringArg('server', 'plain');
if (!(SERVER in SERVERS)) throw new Error(`--server must be one of ${Object.keys(SERVERS).join(', ')}`);

requireBuilt();
const machine = printMachine(`HTTP throughput cost, ${MODE} mode, ${SERVER} server${FOLLOW_COST ? ": following against run --no-follow (base and control are probed with --no-follow)" : ""}`);
console.log(`${ROUNDS} rounds, each with fresh servers: a ${WARMUP_SECONDS} s warm-up each, then ${SLICES} × ${SECONDS} s per variant, alternating; autocannon -c ${CONNECTIONS} on 127.0.0.1; ` +
  (PIN ? 'servers (and the probe worker) pinned to CPU 0, load generator and loopscope CLI to CPU 1' : 'not pinned: servers and load generator share the CPUs'));

const serverFile = join(FIXTURES, SERVERS[SERVER]);

/** Starts one server; resolves once it listens, with its port and the server's own pid. */
async function startServer(variant) {
  const stand = variant === 'probed' && PART !== undefined;
  const noFollow = FOLLOW_COST && variant !== 'probed';
  const underProbe = variant === 'probed' || variant === 'no sampler' || variant === 'compare' || noFollow;
  const env = stand ? { ...process.env, LOOPSCOPE_BENCH_PART: PART }
    : variant === 'compare' ? { ...process.env, LOOPSCOPE_PROBE_PATH: resolve(COMPARE) } : process.env;
  const { command, args } = !underProbe
    ? pinned(SERVER_CPU, process.execPath, [serverFile])
    : stand
      ? pinned(SERVER_CPU, process.execPath, ['--require', join(FIXTURES, 'probe-parts.js'), serverFile])
      : pinned(SERVER_CPU, process.execPath, [CLI, 'run', '--json', '--mode', MODE, ...(variant === 'no sampler' ? ['--no-profile'] : []), ...(noFollow ? ['--no-follow'] : []), '--', process.execPath, serverFile]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const s = { variant, child, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (s.stdout += d));
  child.stderr.on('data', (d) => (s.stderr += d));
  // Under loopscope run --json, the server's own stdout comes out on the CLI's stderr.
  const [, port, pid] = await waitForLine(child, /listening (\d+) (\d+)/);
  // The CLI process (not its child, already started on CPU 0) moves to the load's CPU.
  if (underProbe && !stand && LOAD_CPU !== undefined) repin(child.pid, LOAD_CPU);
  return Object.assign(s, { url: `http://127.0.0.1:${port}/items?q=1`, pid: Number(pid) });
}

const VARIANTS = ['base', 'control', 'probed'];
const probeSummaries = [];

/** One round: fresh servers, a warm-up, alternating slices; the slices merged per variant. */
async function oneRound(i) {
  // Rotated each round, so that no variant is always started, warmed or driven first.
  const order = VARIANTS.map((_, k) => VARIANTS[(k + i) % VARIANTS.length]);
  const servers = [];
  try {
    for (const v of order) servers.push(await startServer(v));
    const plan = { targets: servers.map((s) => ({ name: s.variant, url: s.url, pid: s.pid })), warmupSeconds: WARMUP_SECONDS, rounds: SLICES, seconds: SECONDS, connections: CONNECTIONS };
    const load = pinned(LOAD_CPU, process.execPath, [join(BENCH_DIR, 'load.mjs'), JSON.stringify(plan)]);
    const r = await run(load.command, load.args, { timeoutMs: 3 * (WARMUP_SECONDS + SLICES * SECONDS) * 1000 + 60_000 });
    if (r.code !== 0) throw new Error(`load generator failed (${r.code}): ${r.stderr}`);
    const slices = JSON.parse(r.stdout).slices;
    for (const sl of slices) {
      if (sl.errors || sl.non2xx || sl.timeouts) throw new Error(`${sl.target}: ${sl.errors} errors, ${sl.timeouts} timeouts, ${sl.non2xx} non-2xx`);
    }
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => exited(s.child)));
    const summary = JSON.parse(servers.find((s) => s.variant === 'probed').stdout);
    if (summary.warnings.length || summary.samples === 0) throw new Error(`the probe did not report: ${summary.warnings.join('; ')}`);
    probeSummaries.push(summary);
    return Object.fromEntries(VARIANTS.map((v) => [v, merge(slices.filter((sl) => sl.target === v))]));
  } catch (err) {
    for (const s of servers) s.child.kill('SIGKILL');
    console.error(servers.map((s) => `${s.variant}: ${s.stderr}`).join('\n'));
    throw err;
  }
}

/** A variant's slices in a round as one: requests and seconds summed, every server's CPU summed. */
function merge(slices) {
  const requests = sum(slices.map((s) => s.requests));
  const seconds = sum(slices.map((s) => s.seconds));
  const cpu = Object.fromEntries(VARIANTS.map((v) => [v, {
    totalMs: sum(slices.map((s) => s.cpu[v].totalMs)),
    mainMs: sum(slices.map((s) => s.cpu[v].mainMs)),
  }]));
  return { requests, seconds, rps: requests / seconds, latencyP99Ms: max(slices.map((s) => s.latencyP99Ms)), cpu, slices };
}

/** One concurrent pair: fresh `baseVariant` and `variant` servers, each driven by its own load generator, at once. */
async function pairRound(variant, baseVariant = 'base') {
  const servers = [];
  try {
    for (const v of [baseVariant, variant]) servers.push(await startServer(v));
    const [base, other] = await driveAtOnce(servers, { warmupSeconds: WARMUP_SECONDS, seconds: SLICES * SECONDS, connections: CONNECTIONS, pipelining: PIPELINING, cpu: LOAD_CPU });
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => exited(s.child)));
    // What the probe saw of its server: a server sharing its CPU is "blocked" often.
    const probe = (variant === 'compare' || (variant === 'probed' && PART === undefined)) ? JSON.parse(servers[1].stdout) : undefined;
    return {
      ...(probe ? { blockedPerS: probe.blockedCount / (probe.durationMs / 1000), lagP99Ms: probe.lag.p99Ms } : {}),
      rpsRatio: other.rps / base.rps,
      cpuPerRequestRatio: (other.cpu.totalMs / other.requests) / (base.cpu.totalMs / base.requests),
      mainPerRequestRatio: (other.cpu.mainMs / other.requests) / (base.cpu.mainMs / base.requests),
      baseBusy: base.cpu.totalMs / (base.seconds * 1000),
      baseRps: base.rps,
    };
  } catch (err) {
    for (const s of servers) s.child.kill('SIGKILL');
    throw err;
  }
}

/** Each pair: [the variant, its base]. The sampler's pairs only in metrics mode, with the whole probe. */
const PAIRS = {
  probed: ['probed', 'base'],
  control: ['control', 'base'],
  ...(COMPARE !== undefined ? { compare: ['compare', 'base'] } : {}),
  ...(MODE === 'metrics' && PART === undefined && !FOLLOW_COST ? { 'no sampler': ['no sampler', 'base'], 'sampler alone': ['probed', 'no sampler'] } : {}),
};

async function concurrent() {
  const names = Object.keys(PAIRS);
  const pairs = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < ROUNDS; i++) {
    // The order rotated each round.
    for (const n of names.map((_, k) => names[(k + i) % names.length])) pairs[n].push(await pairRound(...PAIRS[n]));
    console.log(`  round ${String(i + 1).padStart(2)}/${ROUNDS}: CPU per request / base: ${names.map((n) => `${n} ${fmt(pairs[n].at(-1).cpuPerRequestRatio, 4)}`).join(', ')}; ` +
      `req/s / base: ${names.map((n) => `${n} ${fmt(pairs[n].at(-1).rpsRatio, 4)}`).join(', ')}`);
  }
  const range = (xs) => `median ${fmt(median(xs), 4)} (min ${fmt(min(xs), 4)}, max ${fmt(max(xs), 4)})`;
  const all = Object.values(pairs).flat();
  const cost = median(pairs.probed.map((p) => p.cpuPerRequestRatio)) - 1;
  console.log(`\nconcurrent pairs, pipelining ${PIPELINING}, base server ${fmt(median(all.map((p) => p.baseBusy)) * 100, 1)}% busy at ${fmt(median(all.map((p) => p.baseRps)), 0)} req/s (medians)`);
  if (COMPARE !== undefined) console.log(`  compare: the probe built at ${COMPARE}`);
  for (const v of names) {
    console.log(`  ${v} (${PAIRS[v][0]}/${PAIRS[v][1]}): CPU per request ${range(pairs[v].map((p) => p.cpuPerRequestRatio))}; main thread ${range(pairs[v].map((p) => p.mainPerRequestRatio))}; req/s ${range(pairs[v].map((p) => p.rpsRatio))}`);
  }
  if (pairs['sampler alone']) {
    const samplerRps = 1 - median(pairs['sampler alone'].map((p) => p.rpsRatio));
    console.log(`the CPU sampler alone: requests/s ${pct(-samplerRps)}; budget: at most 1% fewer: ${verdict(samplerRps <= BUDGET)}`);
  }
  const seen = pairs.probed.filter((p) => p.blockedPerS !== undefined);
  if (seen.length) {
    console.log(`  the probed servers, as their probe saw them: blocked ${fmt(median(seen.map((p) => p.blockedPerS)), 1)} times a second, lag p99 ${fmt(median(seen.map((p) => p.lagP99Ms)), 1)} ms (medians)`);
  }
  console.log(`cost in CPU per request: ${pct(cost)}; budget ≤ ${fmt(BUDGET * 100, 0)}%: ${verdict(cost <= BUDGET)}`);
  save(`http-throughput-concurrent${MODE === 'metrics' ? '' : `-${MODE}`}${FOLLOW_COST ? '-follow' : ''}${SERVER === 'plain' ? '' : `-${SERVER}`}`, {
    mode: MODE, followCost: FOLLOW_COST, compare: COMPARE, budget: BUDGET, rounds: ROUNDS, seconds: SLICES * SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, pipelining: PIPELINING, pinned: PIN, machine, cost, pairs,
  });
}

if (process.argv.includes('--concurrent')) {
  await concurrent();
  process.exit(0);
}

const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  const { base, control, probed } = await oneRound(i);
  rounds.push({
    base, control, probed,
    ratio: probed.rps / base.rps,
    controlRatio: control.rps / base.rps,
    cpuPerRequestRatio: (probed.cpu.probed.totalMs / probed.requests) / (base.cpu.base.totalMs / base.requests),
    mainPerRequestRatio: (probed.cpu.probed.mainMs / probed.requests) / (base.cpu.base.mainMs / base.requests),
    controlCpuPerRequestRatio: (control.cpu.control.totalMs / control.requests) / (base.cpu.base.totalMs / base.requests),
  });
  const r = rounds[i];
  console.log(`  round ${String(i + 1).padStart(2)}/${ROUNDS}: base ${fmt(r.base.rps, 0)}, control ${fmt(r.control.rps, 0)}, probed ${fmt(r.probed.rps, 0)} req/s; ` +
    `probed/base ${fmt(r.ratio, 4)}, control/base ${fmt(r.controlRatio, 4)}`);
}

const ratios = rounds.map((r) => r.ratio);
const controlRatios = rounds.map((r) => r.controlRatio);
const cost = 1 - median(ratios);
const cpuRatios = rounds.map((r) => r.cpuPerRequestRatio);
const mainRatios = rounds.map((r) => r.mainPerRequestRatio);
const controlCpuRatios = rounds.map((r) => r.controlCpuPerRequestRatio);
const range = (xs) => `median ${fmt(median(xs), 4)} (min ${fmt(min(xs), 4)}, max ${fmt(max(xs), 4)})`;
const own = (v) => rounds.map((r) => r[v]);
const busy = (v) => sum(own(v).map((s) => s.cpu[v].totalMs)) / sum(own(v).map((s) => s.seconds * 1000));
const perReq = (v, k) => median(own(v).map((s) => (s.cpu[v][k] * 1000) / s.requests));
// The other server's CPU while one is driven: the idle cost each pays alongside.
const idleMsPerS = (idle, driven) => sum(own(driven).map((s) => s.cpu[idle].totalMs)) / sum(own(driven).map((s) => s.seconds));

console.log('');
table(['variant', 'req/s median', 'min', 'max', 'p99 latency ms (median)', 'server CPU busy', 'CPU µs/request', 'main thread µs/request'], ['base', 'control', 'probed'].map((v) => [
  v,
  fmt(median(own(v).map((s) => s.rps)), 0), fmt(min(own(v).map((s) => s.rps)), 0), fmt(max(own(v).map((s) => s.rps)), 0),
  fmt(median(own(v).map((s) => s.latencyP99Ms)), 0),
  `${fmt(busy(v) * 100, 1)}%`,
  fmt(perReq(v, 'totalMs'), 1),
  fmt(perReq(v, 'mainMs'), 1),
]));
console.log(`\nprobed/base requests/s, paired per round: median ${fmt(median(ratios), 4)} (min ${fmt(min(ratios), 4)}, max ${fmt(max(ratios), 4)})`);
console.log(`A/A control/base requests/s, paired per round: median ${fmt(median(controlRatios), 4)} (min ${fmt(min(controlRatios), 4)}, max ${fmt(max(controlRatios), 4)}): the noise floor of this run`);
// Two identical servers differing by more than the budget means this run cannot resolve it.
const noise = Math.max(Math.abs(1 - median(controlRatios)), ...controlRatios.map((x) => Math.abs(1 - x)));
const conclusive = noise <= BUDGET;
console.log(`throughput cost: ${pct(cost)} (spread ${pct(1 - max(ratios))} … ${pct(1 - min(ratios))}); budget ≤ ${fmt(BUDGET * 100, 0)}%: ${verdict(cost <= BUDGET)}` +
  (conclusive ? '' : ` (INCONCLUSIVE: the A/A control differs from the baseline by up to ${fmt(noise * 100, 1)}%; see bench/busy-cost.mjs)`));
console.log('server CPU time per request (less sensitive than requests/s to how much CPU the shared machine leaves the server; /proc ticks of 10 ms):');
console.log(`  probed/base, whole process: ${range(cpuRatios)}; main thread only: ${range(mainRatios)}`);
console.log(`  A/A control/base, whole process: ${range(controlCpuRatios)}`);
console.log(`idle server alongside: probed server used ${fmt(idleMsPerS('probed', 'base'), 2)} ms CPU/s during base slices (bias in the probe's favour, ≈ ${fmt(idleMsPerS('probed', 'base') / 10, 2)}%), ` +
  `base server ${fmt(idleMsPerS('base', 'probed'), 2)} ms CPU/s during probed slices`);
const drops = sum(probeSummaries.map((p) => sum(Object.values(p.dropped.frames))));
console.log(`probe: ${sum(probeSummaries.map((p) => p.samples))} samples in ${probeSummaries.length} runs, ${drops} frames dropped; ` +
  `server lag p99 median ${fmt(median(probeSummaries.map((p) => p.lag.p99Ms)), 3)} ms, max ${fmt(max(probeSummaries.map((p) => p.lag.maxMs)), 3)} ms`);
if (busy('base') < 0.9) console.log('note: the baseline server was under 90% busy: the load generator may be the bottleneck, which hides the cost');

save(`http-throughput${MODE === 'metrics' ? '' : `-${MODE}`}${FOLLOW_COST ? '-follow' : ''}${SERVER === 'plain' ? '' : `-${SERVER}`}`, { mode: MODE, followCost: FOLLOW_COST,
  budget: BUDGET, rounds: ROUNDS, slicesPerRound: SLICES, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, pinned: PIN, machine,
  medianRatio: median(ratios), minRatio: min(ratios), maxRatio: max(ratios), cost,
  control: { medianRatio: median(controlRatios), minRatio: min(controlRatios), maxRatio: max(controlRatios) },
  medianCpuPerRequestRatio: median(cpuRatios), minCpuPerRequestRatio: min(cpuRatios), maxCpuPerRequestRatio: max(cpuRatios),
  medianMainThreadPerRequestRatio: median(mainRatios), controlCpuPerRequestRatio: { median: median(controlCpuRatios), min: min(controlCpuRatios), max: max(controlCpuRatios) },
  probedIdleMsPerSecondDuringBase: idleMsPerS('probed', 'base'), baseIdleMsPerSecondDuringProbed: idleMsPerS('base', 'probed'),
  busy: { base: busy('base'), control: busy('control'), probed: busy('probed') },
  probe: probeSummaries.map((p) => ({ samples: p.samples, dropped: p.dropped, lag: p.lag, utilization: p.utilization })),
  pass: cost <= BUDGET, conclusive, noise, perRound: rounds,
});
