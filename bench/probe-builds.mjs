#!/usr/bin/env node
// Two builds of the probe compared on the busy loop (bench/fixtures/busy-app.js), to show that a
// refactoring changed nothing the target pays. Each round runs the app under `loopscope run` with
// this checkout's probe and with the other build side by side, both pinned to one CPU (which CPU
// alternates by round), then an A/A pair (this build twice) for the noise floor. Reported: the
// other build's CPU time over this build's, median over the rounds with min and max.
//
// A build of an older commit (the probe is one bundled file):
//   git worktree add --detach /tmp/at <commit> && ln -s "$PWD/node_modules" /tmp/at/ && (cd /tmp/at && node build.mjs)
//
//   node bench/probe-builds.mjs --against /tmp/at/dist/probe.js [--rounds N] [--quick]

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI, FIXTURES, PROBE, QUICK, requireBuilt, printMachine, hasTaskset, pinned, run, median, min, max, fmt, pct, table, save } from './lib.mjs';

const option = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const against = option('against');
if (against === undefined || !existsSync(against)) {
  console.error('usage: node bench/probe-builds.mjs --against <other build>/dist/probe.js [--rounds N] [--quick]');
  process.exit(2);
}
const OTHER = resolve(against);
const ROUNDS = Number(option('rounds') ?? (QUICK ? 2 : 8));
const UNITS = QUICK ? 20_000 : 60_000;

requireBuilt();
const machine = printMachine('two probe builds on the busy loop: CPU time of a fixed job');
const PIN = hasTaskset();
console.log(`this build: ${PROBE}\nother build: ${OTHER}\n${ROUNDS} rounds of ${UNITS} units, pairs side by side${PIN ? ' on one CPU' : ''}`);

async function probed(cpu, probePath) {
  const cli = cpu === undefined ? undefined : cpu === '0' ? '1' : '0';
  const target = pinned(cpu, process.execPath, [join(FIXTURES, 'busy-app.js'), String(UNITS)]);
  const { command, args } = pinned(cli, process.execPath, [CLI, 'run', '--json', '--', target.command, ...target.args]);
  const r = await run(command, args, { env: { ...process.env, LOOPSCOPE_PROBE_PATH: probePath }, timeoutMs: 120_000 });
  const summary = JSON.parse(r.stdout);
  if (r.code !== 0 || summary.samples === 0) throw new Error(`probed busy app (${probePath}): exit ${r.code}, ${summary.warnings.join('; ')}`);
  // Under --json the target's stdout comes out on the CLI's stderr.
  return JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{"units"')));
}

const rounds = [];
for (let i = 0; i < ROUNDS; i++) {
  const cpu = PIN ? String(i % 2) : undefined;
  const [base, other] = await Promise.all([probed(cpu, PROBE), probed(cpu, OTHER)]);
  const [base2, control] = await Promise.all([probed(cpu, PROBE), probed(cpu, PROBE)]);
  rounds.push({ other: other.cpuMs / base.cpuMs, control: control.cpuMs / base2.cpuMs, otherMain: other.mainThreadMs / base.mainThreadMs });
  console.log(`  round ${i + 1}/${ROUNDS}: CPU ms this ${fmt(base.cpuMs, 0)}, other ${fmt(other.cpuMs, 0)}; A/A ${fmt(base2.cpuMs, 0)}, ${fmt(control.cpuMs, 0)}`);
}

const stats = (xs) => [fmt(median(xs), 4), fmt(min(xs), 4), fmt(max(xs), 4)];
console.log('');
table(['pair', 'CPU time ratio (median)', 'min', 'max'], [
  ['other build / this build', ...stats(rounds.map((r) => r.other))],
  ['main thread only', ...stats(rounds.map((r) => r.otherMain))],
  ['A/A: this / this', ...stats(rounds.map((r) => r.control))],
]);
const diff = median(rounds.map((r) => r.other)) - 1;
const floor = Math.max(...rounds.map((r) => Math.abs(r.control - 1)));
console.log(`\nthe other build costs ${pct(diff)} CPU time against this one; the A/A pairs differ by up to ${pct(floor)}: ` +
  (Math.abs(diff) <= floor ? 'no difference above the noise floor' : 'a difference above the noise floor'));
save('probe-builds', { other: OTHER, rounds: ROUNDS, units: UNITS, pinned: PIN, machine, diff, floor, perRound: rounds });
