#!/usr/bin/env node
// Where metrics mode's cost on the promise-heavy server goes, read from the server's own CPU
// samples: `perf record` (cpu-clock) of the saturated server, pinned to CPU 0 with its load on
// CPU 1, under `loopscope run` with the CPU sampler at its default interval, at 100 ms, and off
// (--no-profile), with no probe, and with no probe under V8's profiler alone (`node --cpu-prof`
// at the sampler's 20 ms). Reported per variant, as shares of the server's samples:
//   - V8's profiling mode: while any CPU profile runs, V8 calls every API callback (each call
//     from JavaScript into Node's C++) through InvokeFunctionCallback, so that a sample can name
//     it; that thunk's own time, and the CallApiCallback builtin's;
//   - the sampler's signal handler on the main thread (HandleProfilerSignal, with what it calls);
//   - V8's garbage collection on the main thread, with what it calls (Heap::CollectGarbage; its
//     helper threads are among the other threads), and in it Heap::OnMoveEvent: while a CPU
//     profile runs, V8 tells the profiler of each object a GC moves, so that its code map
//     follows moved code;
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
/** Each: loopscope run's flags, or no probe (with Node's own flags). */
const VARIANTS = {
  'no probe': { node: [] },
  'V8\'s profiler alone': { node: ['--cpu-prof', '--cpu-prof-interval', '20000'] },
  'metrics': { run: [] },
  'metrics, sampler at 100 ms': { run: ['--sample-interval', '100'] },
  'metrics --no-profile': { run: ['--no-profile'] },
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

async function measure(name, variant) {
  const server = join(FIXTURES, 'promise-server.js');
  const flags = variant.run;
  const cmd = flags === undefined
    ? pinned('0', process.execPath, [...variant.node, server])
    : pinned('0', process.execPath, [CLI, 'run', '--json', ...flags, '--', process.execPath, server]);
  // --cpu-prof writes its profile where the server starts: the bench's temporary directory.
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir.path });
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
  const withChildrenOf = (symbol) => withChildren.filter((l) => /^\s+[\d.]+%/.test(l) && l.includes(symbol)).map(share).reduce((a, b) => Math.max(a, b), 0);
  const signal = withChildren.find((l) => l.includes('HandleProfilerSignal'));
  return {
    mainThread: main,
    otherThreads: 1 - main,
    // With the probe, its worker (the busiest thread but the main one); without, a helper of V8's.
    busiestOther: Math.max(0, ...threads.filter((l) => !new RegExp(`\\s${pid}:`).test(l)).map(share)),
    invokeFunctionCallback: selfOf('v8::internal::InvokeFunctionCallback'),
    callApiCallback: selfOf('Builtins_CallApiCallback'),
    signalHandler: signal ? share(signal) : 0,
    gc: withChildrenOf('v8::internal::Heap::CollectGarbage'),
    onMoveEvent: withChildrenOf('v8::internal::Heap::OnMoveEvent'),
  };
}

const results = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, []]));
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, variant] of Object.entries(VARIANTS)) results[name].push(await measure(name, variant));
    console.log(`  round ${r + 1}/${ROUNDS} done`);
  }
} finally {
  dir.remove();
}

const pctOf = (xs) => `${fmt(median(xs) * 100, 2)}% [${fmt(min(xs) * 100, 2)}–${fmt(max(xs) * 100, 2)}]`;
console.log(`\nshares of the server's CPU samples, median [min–max] over ${ROUNDS} rounds:`);
const COLUMNS = [
  ['InvokeFunctionCallback', 'invokeFunctionCallback'], ['CallApiCallback', 'callApiCallback'], ['signal handler', 'signalHandler'],
  ['GC (with callees)', 'gc'], ['in it, OnMoveEvent', 'onMoveEvent'], ['threads but the main', 'otherThreads'], ['busiest of them', 'busiestOther'],
];
console.log(`  ${'variant'.padEnd(28)} ${COLUMNS.map(([title]) => title.padEnd(24)).join(' ')} req/s (alone, noisy)`);
for (const [name, rs] of Object.entries(results)) {
  console.log(`  ${name.padEnd(28)} ${COLUMNS.map(([, key]) => pctOf(rs.map((x) => x[key])).padEnd(24)).join(' ')} ${fmt(median(rs.map((x) => x.rps)), 0)}`);
}
console.log(`  (req/s is each server alone, in turn: the throughput ratios are modes-throughput.mjs's, measured in pairs)`);
// The symbols are V8's in Node 20; another V8 may name them otherwise, and they then read 0.
if (results['metrics'].every((x) => x.invokeFunctionCallback === 0)) {
  console.log('  note: no sample in InvokeFunctionCallback with the sampler on: this Node\'s V8 may name its API callback thunk otherwise; see `perf report`');
}
save('profiler-tax', { rounds: ROUNDS, seconds: SECONDS, machine, results });
