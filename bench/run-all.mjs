#!/usr/bin/env node
// Runs every benchmark, one after the other (never two at once: they would disturb each
// other), each in its own process. `npm run bench` builds first, then runs this.
//
//   node bench/run-all.mjs [--quick] [name…]     e.g. node bench/run-all.mjs lag-accuracy

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, requireBuilt } from './lib.mjs';

const BENCHES = ['lag-accuracy', 'http-throughput', 'busy-cost', 'idle-cost', 'thread-cpu', 'wire-throughput', 'modes-throughput', 'hook-cost'];
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = only.filter((n) => !BENCHES.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; there are: ${BENCHES.join(', ')}`);
  process.exit(2);
}

requireBuilt();
const started = performance.now();
const failed = [];
for (const name of only.length ? only : BENCHES) {
  const t0 = performance.now();
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(BENCH_DIR, `${name}.mjs`), ...flags], { stdio: 'inherit' });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  console.log(`[${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s${code === 0 ? '' : `, FAILED with exit code ${code}`}]`);
  if (code !== 0) failed.push(name);
}
console.log(`\nall benchmarks: ${((performance.now() - started) / 1000).toFixed(0)} s${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
// Say so when bench/ holds scripts that this list does not run, rather than skip them silently.
const HELPERS = new Set(['run-all', 'lib', 'load', 'wire-throughput.ts']);
const others = readdirSync(BENCH_DIR)
  .filter((f) => f.endsWith('.mjs'))
  .map((f) => f.slice(0, -'.mjs'.length))
  .filter((n) => !BENCHES.includes(n) && !HELPERS.has(n) && !n.endsWith('-lib'));
if (others.length) console.log(`not run by run-all (run them alone): ${others.map((n) => `bench/${n}.mjs`).join(', ')}`);
process.exitCode = failed.length ? 1 : 0;
