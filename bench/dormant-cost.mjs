#!/usr/bin/env node
// The dormant probe's cost: CPU time per second of an idle target (bench/fixtures/idle-app.js,
// one far-off timer) started plainly, and with the probe preloaded dormant
// (NODE_OPTIONS="--require dist/probe.js", not started by loopscope run: it only listens on
// its private socket). Measured inside the target with process.cpuUsage() (all threads).
// Each round runs the two side by side, so they share the same background; which one starts
// first alternates. The bench checks that the dormant one's socket was there and that no
// probe ran.
//
//   node bench/dormant-cost.mjs [--quick]

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { FIXTURES, PROBE, QUICK, requireBuilt, printMachine, mean, min, max, fmt, signed, table, save, sleep } from './lib.mjs';

const ROUNDS = QUICK ? 2 : 6;
const SETTLE_MS = 1000;
const WINDOW_MS = QUICK ? 3000 : 10_000;

requireBuilt();
const machine = printMachine('dormant probe cost: CPU used by an idle target with the probe preloaded, dormant');
console.log(`${ROUNDS} rounds; each: both targets side by side, ${SETTLE_MS} ms to settle, then a ${WINDOW_MS} ms window`);

/** Runs the idle app to its end; resolves with what it measured, and whether its dormant socket existed meanwhile. */
function idleApp(nodeOptions) {
  const env = { ...process.env, NODE_OPTIONS: nodeOptions };
  const child = spawn(process.execPath, [join(FIXTURES, 'idle-app.js'), String(SETTLE_MS), String(WINDOW_MS)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const socket = join(tmpdir(), `.loopscope-attach-${process.geteuid()}`, `${child.pid}.sock`);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const sawSocket = sleep(SETTLE_MS).then(() => existsSync(socket));
  return new Promise((resolve, reject) => {
    child.on('close', async (code) => {
      if (code !== 0 || stderr !== '') return reject(new Error(`idle app: exit ${code}, stderr ${stderr}`));
      resolve({ ...JSON.parse(stdout), socket: await sawSocket });
    });
  });
}

const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  const order = i % 2 === 0 ? ['base', 'dormant'] : ['dormant', 'base'];
  const started = order.map((v) => idleApp(v === 'base' ? '' : `--require ${PROBE}`));
  const results = await Promise.all(started);
  const round = Object.fromEntries(order.map((v, j) => [v, results[j]]));
  if (!round.dormant.socket || round.dormant.probeRunning || round.base.socket) throw new Error('the dormant probe was not dormant (no socket, or a probe running), or the plain app had a socket');
  rounds.push(round);
}

const perS = (r) => (r.userMs + r.systemMs) / (r.wallMs / 1000);
const stats = Object.fromEntries(['base', 'dormant'].map((v) => {
  const cpu = rounds.map((r) => perS(r[v]));
  return [v, { cpuMsPerS: mean(cpu), minMsPerS: min(cpu), maxMsPerS: max(cpu), threads: rounds[0][v].threads }];
}));
const diffs = rounds.map((r) => perS(r.dormant) - perS(r.base));

console.log('');
table(['target', 'CPU ms/s (mean)', 'min', 'max', 'threads'],
  Object.entries(stats).map(([v, s]) => [v, fmt(s.cpuMsPerS, 3), fmt(s.minMsPerS, 3), fmt(s.maxMsPerS, 3), String(s.threads)]));
console.log(`dormant - base, per round (ms/s): ${diffs.map((d) => signed(d, 3)).join(', ')}; mean ${signed(mean(diffs), 3)} ms/s (${signed(mean(diffs) / 10, 4)}% of one core)`);

save('dormant-cost', { rounds: ROUNDS, settleMs: SETTLE_MS, windowMs: WINDOW_MS, machine, stats, diffsMsPerS: diffs, perRound: rounds });
