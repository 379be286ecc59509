#!/usr/bin/env node
// Where metrics mode's cost on the promise-heavy server goes, read from the server's own CPU
// samples: `perf record` (cpu-clock) of the saturated server, pinned to CPU 0 with its load on
// CPU 1, under `loopscope run` with the CPU sampler at its default interval, at 100 ms, and off
// (--no-profile), and with no probe. Reported per variant, as shares of the server's samples:
//   - V8's profiling mode: while any CPU profile runs, V8 calls every API callback (each call
//     from JavaScript into Node's C++) through InvokeFunctionCallback, so that a sample can name
//     it; that thunk's own time, and the CallApiCallback builtin's;
//   - the sampler's signal handler on the main thread (HandleProfilerSignal, with what it calls);
//   - the threads other than the main thread (the probe's worker, V8's profiler thread, and
//     Node's and V8's own: GC helpers, the platform's workers), which share CPU 0 on this bench,
//     and the busiest of them (with the probe, its worker).
// Needs perf (Debian: linux-perf) and the right to record another process; says so and exits
// when it cannot.
//
//   node bench/profiler-tax.mjs [--quick] [--rounds N] [--seconds S]

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  CLI, FIXTURES, ROOT, QUICK, requireBuilt, printMachine, hasTaskset, pinned, repin, waitForLine, exited, sleep, median, min, max, fmt, save,
  helpRequested, stringArg, tempDir,
} from './lib.mjs';

helpRequested(import.meta.url);
const ROUNDS = Number(stringArg('rounds', QUICK ? '1' : '3'));
const SECONDS = Number(stringArg('seconds', QUICK ? '3' : '6'));
const WARMUP_SECONDS = 3;
if (!(ROUNDS >= 1) || !(SECONDS > 0)) throw new Error('--rounds and --seconds must be positive');
const VARIANTS = {
  'no probe': undefined,
  'metrics': [],
  'metrics, sampler at 100 ms': ['--sample-interval', '100'],
  'metrics --no-profile': ['--no-profile'],
};

if (spawnSync('perf', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.log('profiler-tax: perf is not installed (Debian: apt-get install linux-perf); nothing measured');
  process.exit(0);
}
if (!hasTaskset()) {
  console.log('profiler-tax: needs taskset and two CPUs (the server on one, its load on the other); nothing measured');
  process.exit(0);
}
requireBuilt();
const machine = printMachine('metrics mode on the promise-heavy server, part by part, from perf samples');
console.log(`${ROUNDS} rounds × ${Object.keys(VARIANTS).length} variants; each: ${WARMUP_SECONDS} s under load, then ${SECONDS} s recorded (perf record -g -e cpu-clock -F 999)`);
const dir = tempDir('profiler-tax');

async function measure(name, flags) {
  const server = join(FIXTURES, 'promise-server.js');
  const cmd = flags === undefined ? pinned('0', process.execPath, [server]) : pinned('0', process.execPath, [CLI, 'run', '--json', ...flags, '--', process.execPath, server]);
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let driver;
  try {
    const [, port, pid] = await waitForLine(child, /listening (\d+) (\d+)/);
    if (flags !== undefined) repin(child.pid, '1'); // loopscope itself, not its target, goes with the load
    const load = pinned('1', process.execPath, ['-e', `require(${JSON.stringify(join(ROOT, 'node_modules', 'autocannon'))})({ url: 'http://127.0.0.1:${port}/items?q=1', connections: 10, pipelining: 10, duration: ${WARMUP_SECONDS + SECONDS + 1} }, (err, r) => console.log(err ? 'error ' + err.message : JSON.stringify({ rps: r.requests.average, errors: r.errors + r.non2xx })))`]);
    driver = spawn(load.command, load.args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let driven = '';
    driver.stdout.on('data', (d) => (driven += d));
    await sleep(WARMUP_SECONDS * 1000);
    const data = join(dir.path, `${name.replace(/\W+/g, '-')}.data`);
    const perf = spawnSync('perf', ['record', '-q', '-g', '-e', 'cpu-clock', '-F', '999', '-p', pid, '-o', data, '--', 'sleep', String(SECONDS)], { encoding: 'utf8' });
    if (perf.status !== 0) throw new Error(`perf record failed: ${perf.stderr.trim().split('\n')[0]} (is perf_event_paranoid too strict?)`);
    await exited(driver);
    const result = JSON.parse(driven);
    if (result.errors) throw new Error(`${name}: ${result.errors} failed requests`);
    return { rps: result.rps, ...shares(data, Number(pid)) };
  } finally {
    driver?.kill('SIGKILL');
    child.kill('SIGTERM');
    await exited(child);
  }
}

/** Shares (0–1) of the recorded samples: by thread, and of the symbols that are the profiler's. */
function shares(data, pid) {
  const report = (args) => spawnSync('perf', ['report', '-i', data, '--stdio', '-g', 'none', ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).stdout;
  const share = (line) => Number(line.trim().split(/\s+/)[0].replace('%', '')) / 100;
  const threads = report(['--no-children', '--sort', 'pid']).split('\n').filter((l) => /^\s+[\d.]+%/.test(l));
  const main = threads.filter((l) => new RegExp(`\\s${pid}:`).test(l)).map(share).reduce((a, b) => a + b, 0);
  const self = report(['--no-children', '--sort', 'sym']).split('\n');
  const selfOf = (symbol) => self.filter((l) => l.trimEnd().endsWith(` ${symbol}`)).map(share).reduce((a, b) => a + b, 0);
  const withChildren = report(['--children', '--sort', 'sym']).split('\n');
  const signal = withChildren.find((l) => l.includes('HandleProfilerSignal'));
  return {
    mainThread: main,
    otherThreads: 1 - main,
    // With the probe, its worker (the busiest thread but the main one); without, a helper of V8's.
    busiestOther: Math.max(0, ...threads.filter((l) => !new RegExp(`\\s${pid}:`).test(l)).map(share)),
    invokeFunctionCallback: selfOf('v8::internal::InvokeFunctionCallback'),
    callApiCallback: selfOf('Builtins_CallApiCallback'),
    signalHandler: signal ? share(signal) : 0,
  };
}

const results = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, []]));
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, flags] of Object.entries(VARIANTS)) results[name].push(await measure(name, flags));
    console.log(`  round ${r + 1}/${ROUNDS} done`);
  }
} finally {
  dir.remove();
}

const pctOf = (xs) => `${fmt(median(xs) * 100, 2)}% [${fmt(min(xs) * 100, 2)}–${fmt(max(xs) * 100, 2)}]`;
console.log(`\nshares of the server's CPU samples, median [min–max] over ${ROUNDS} rounds:`);
console.log(`  ${'variant'.padEnd(28)} ${'InvokeFunctionCallback'.padEnd(24)} ${'CallApiCallback'.padEnd(24)} ${'signal handler'.padEnd(24)} ${'threads but the main'.padEnd(24)} ${'busiest of them'.padEnd(24)} req/s (alone, noisy)`);
for (const [name, rs] of Object.entries(results)) {
  const col = (key) => pctOf(rs.map((x) => x[key])).padEnd(24);
  console.log(`  ${name.padEnd(28)} ${col('invokeFunctionCallback')} ${col('callApiCallback')} ${col('signalHandler')} ${col('otherThreads')} ${col('busiestOther')} ${fmt(median(rs.map((x) => x.rps)), 0)}`);
}
console.log(`  (req/s is each server alone, in turn: the throughput ratios are modes-throughput.mjs's, measured in pairs)`);
// The symbols are V8's in Node 20; another V8 may name them otherwise, and they then read 0.
if (results['metrics'].every((x) => x.invokeFunctionCallback === 0)) {
  console.log('  note: no sample in InvokeFunctionCallback with the sampler on: this Node\'s V8 may name its API callback thunk otherwise; see `perf report`');
}
save('profiler-tax', { rounds: ROUNDS, seconds: SECONDS, machine, results });
