#!/usr/bin/env node
// Where a probed server's CPU goes, thread by thread: each thread's CPU time and wake-ups per
// second in the saturated promise-heavy server (bench/fixtures/promise-server.js), plain and
// under `loopscope run`. Steadier than requests/s on a shared machine: a probe's cost goes with
// time (its worker's wake-ups, V8's profiler thread), and this measures that time directly.
//
// Each round runs every variant in turn (rotated each round): a fresh server pinned to CPU 0
// (loopscope itself moved to CPU 1), driven by bench/load.mjs on CPU 1 (10 connections,
// pipelining 10). --warmup s into the load, every /proc/<pid>/task/<tid>/schedstat is read,
// and again --seconds later. Threads are grouped: the main thread (saturated, so ~1000 ms/s in
// every variant), V8's profiler thread (named v8:ProfEvntProc), the busiest other thread (with
// the probe, its worker), and all other threads (V8's helpers, which do the GC among their work;
// libuv's; the probe's worker). Figures are medians over the rounds.
//
// Variants (--variants, comma-separated): plain (no probe), metrics, metrics+no-profile (the
// CPU sampler off), tasks, trace. --compare <probe.js> adds each probed variant again with
// another build of the probe (LOOPSCOPE_PROBE_PATH), named "<variant> (compare)".
//
//   npm run build && node bench/thread-cpu.mjs [--rounds 3] [--seconds 5] [--warmup 2] [--variants plain,metrics,metrics+no-profile] [--compare <probe.js>]

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CLI, FIXTURES, QUICK, requireBuilt, printMachine, hasTaskset, pinned, repin, sleep, waitForLine, exited, driveAtOnce,
  median, fmt, save, helpRequested, stringArg, probeBuildArg,
} from './lib.mjs';

helpRequested(import.meta.url);
const ROUNDS = Number(stringArg('rounds', QUICK ? '1' : '3'));
const SECONDS = Number(stringArg('seconds', QUICK ? '2' : '5'));
const WARMUP_SECONDS = Number(stringArg('warmup', '2'));
const REQUESTED = stringArg('variants', 'plain,metrics,metrics+no-profile').split(',');
const KNOWN = ['plain', 'metrics', 'metrics+no-profile', 'tasks', 'trace'];
for (const v of REQUESTED) if (!KNOWN.includes(v)) throw new Error(`unknown variant ${v}; there are: ${KNOWN.join(', ')}`);
const COMPARE = probeBuildArg();
const VARIANTS = COMPARE ? [...REQUESTED, ...REQUESTED.filter((v) => v !== 'plain').map((v) => `${v} (compare)`)] : REQUESTED;
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1) || !(SECONDS > 0) || !(WARMUP_SECONDS >= 0)) throw new Error('--rounds must be a positive integer, --seconds positive, --warmup 0 or more');
if (!hasTaskset()) throw new Error('this bench pins the server and its load to CPUs 0 and 1: it needs taskset and two CPUs');
const PROFILER_THREAD = 'v8:ProfEvntProc';

requireBuilt();
const machine = printMachine('CPU per thread of a saturated promise-heavy server, plain and probed');
console.log(`${ROUNDS} rounds × ${VARIANTS.length} servers; ${SECONDS} s read after ${WARMUP_SECONDS} s of load; server on CPU 0, its load and loopscope on CPU 1`);

async function startServer(variant) {
  const file = join(FIXTURES, 'promise-server.js');
  const compare = variant.endsWith(' (compare)');
  const [mode, extra] = variant.replace(' (compare)', '').split('+');
  const cmd = variant === 'plain'
    ? pinned('0', process.execPath, [file])
    : pinned('0', process.execPath, [CLI, 'run', '--json', '--mode', mode, ...(extra === 'no-profile' ? ['--no-profile'] : []), '--', process.execPath, file]);
  const env = compare ? { ...process.env, LOOPSCOPE_PROBE_PATH: resolve(COMPARE) } : process.env;
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const [, port, pid] = await waitForLine(child, /listening (\d+) (\d+)/);
  if (variant !== 'plain') repin(child.pid, '1');
  return { variant, child, stderr: () => stderr, url: `http://127.0.0.1:${port}/items?q=1`, pid: Number(pid) };
}

/** Every thread of `pid` now: its name, CPU time (ns) and how often it was switched in. */
function threads(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [cpuNs, , runs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
      out.set(Number(tid), { name: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(), cpuNs, runs });
    } catch {
      // A thread that ended in between.
    }
  }
  return out;
}

/** Per second between two reads: each thread's CPU ms and wake-ups, grouped. */
function perSecond(pid, before, after, seconds) {
  const rows = [];
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { cpuNs: 0, runs: 0 };
    rows.push({ tid, name: a.name, ms: (a.cpuNs - b.cpuNs) / 1e6 / seconds, wakes: (a.runs - b.runs) / seconds });
  }
  const main = rows.find((r) => r.tid === pid);
  const profiler = rows.filter((r) => r.name === PROFILER_THREAD);
  const others = rows.filter((r) => r.tid !== pid && r.name !== PROFILER_THREAD).sort((x, y) => y.ms - x.ms);
  const total = (rs) => ({ ms: rs.reduce((s, r) => s + r.ms, 0), wakes: rs.reduce((s, r) => s + r.wakes, 0) });
  return { main: total(main ? [main] : []), profiler: total(profiler), busiest: total(others.slice(0, 1)), others: total(others), threads: rows.length };
}

async function measure(variant) {
  const server = await startServer(variant);
  try {
    const drive = driveAtOnce([server], { warmupSeconds: 0, seconds: WARMUP_SECONDS + SECONDS + 1, connections: 10, pipelining: 10, cpu: '1' });
    await sleep(WARMUP_SECONDS * 1000);
    const before = threads(server.pid);
    await sleep(SECONDS * 1000);
    const after = threads(server.pid);
    await drive;
    return perSecond(server.pid, before, after, SECONDS);
  } finally {
    server.child.kill('SIGTERM');
    await exited(server.child);
  }
}

const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const v of VARIANTS.map((_, k) => VARIANTS[(k + r) % VARIANTS.length])) results[v].push(await measure(v));
  console.log(`  round ${r + 1}/${ROUNDS}: other threads' ms/s ${VARIANTS.map((v) => `${v} ${fmt(results[v][r].others.ms, 1)}`).join(', ')}`);
}

const cell = (rs, part) => `${fmt(median(rs.map((x) => x[part].ms)), 1)} ms, ${fmt(median(rs.map((x) => x[part].wakes)), 0)}/s`.padEnd(20);
console.log(`\n  ${'variant'.padEnd(30)} ${'main thread'.padEnd(20)} ${'profiler thread'.padEnd(20)} ${'busiest other'.padEnd(20)} ${'all other threads'.padEnd(20)} threads`);
for (const v of VARIANTS) {
  const rs = results[v];
  console.log(`  ${v.padEnd(30)} ${cell(rs, 'main')} ${cell(rs, 'profiler')} ${cell(rs, 'busiest')} ${cell(rs, 'others')} ${median(rs.map((x) => x.threads))}`);
}
console.log('  (CPU ms and wake-ups per second, medians over the rounds. The main thread is saturated in every variant, so its\n   CPU says nothing of the probe\'s cost there; requests/s in pairs does: modes-throughput.mjs)\n');
save('thread-cpu', { rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP_SECONDS, variants: VARIANTS, compare: COMPARE, machine, results });
