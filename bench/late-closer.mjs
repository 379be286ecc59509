#!/usr/bin/env node
// What the late closer costs while it waits. When attach gives up on a busy target, it leaves a
// detached loopscope process (main/attach/late-close.ts) that watches, for up to 2 minutes, for
// the inspector the pending SIGUSR1 will open, to close it. This runs that hidden command
// against an idle target whose inspector never opens, for a known port and an unknown one. On
// Linux both list the target's threads every 250 ms and read its sockets only once a thread
// comes (the inspector's own); elsewhere a known port is knocked on every 250 ms and an unknown
// one's listening sockets read every second. --seconds each, side by side with a plain Node process that only wakes
// 4 times a second (the reference: what any waiting Node process costs here). CPU time comes
// from /proc/<pid>/stat, from 2 s after the start (Node's own start-up left out) to the end.
//
//   node bench/late-closer.mjs [--quick] [--seconds S]

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { CLI, QUICK, requireBuilt, printMachine, sleep, fmt, table, save, helpRequested, stringArg, exited } from './lib.mjs';

helpRequested(import.meta.url);
const SECONDS = Number(stringArg('seconds', QUICK ? '10' : '60'));
const STARTUP_MS = 2000;
if (!(SECONDS * 1000 > STARTUP_MS)) throw new Error('--seconds must be more than 2');

requireBuilt();
const machine = printMachine('late closer: CPU while it waits for an inspector that never opens');
console.log(`${SECONDS} s per process, measured from ${STARTUP_MS / 1000} s after its start; all side by side`);

/** CPU time so far in ms (user + system), from /proc. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** A port nothing listens on: taken from the kernel, then freed. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const target = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
const until = Date.now() + (SECONDS + 30) * 1000;
const port = await freePort();
const processes = {
  'closer, known port': spawn(process.execPath, [CLI, '_close-inspector', String(target.pid), '127.0.0.1', String(port), '', String(until)], { stdio: 'ignore' }),
  'closer, unknown port': spawn(process.execPath, [CLI, '_close-inspector', String(target.pid), '127.0.0.1', '0', '', String(until)], { stdio: 'ignore' }),
  'reference: plain Node waking 4 times a second': spawn(process.execPath, ['-e', 'setInterval(() => {}, 250)'], { stdio: 'ignore' }),
};
const all = Object.values(processes);
try {
  await sleep(STARTUP_MS);
  const before = all.map((p) => cpuMs(p.pid));
  await sleep(SECONDS * 1000 - STARTUP_MS);
  const after = all.map((p) => cpuMs(p.pid));
  const stillWaiting = all.every((p) => p.exitCode === null);
  if (!stillWaiting) throw new Error('a process ended before the end of the measure: the closer gave up or failed');
  const minutes = (SECONDS * 1000 - STARTUP_MS) / 60_000;
  const rows = Object.keys(processes).map((name, i) => ({ name, msPerMinute: (after[i] - before[i]) / minutes }));
  table(['process', 'CPU ms per minute', 'over the closer\'s 2 minutes'], rows.map((r) => [r.name, fmt(r.msPerMinute, 0), fmt(r.msPerMinute * 2, 0)]));
  console.log('(/proc counts CPU in 10 ms ticks: over short runs a row is only good to ±10 ms a run)');
  save('late-closer', { machine, seconds: SECONDS, rows });
} finally {
  for (const p of [...all, target]) p.kill('SIGKILL');
  await Promise.all([...all, target].map(exited));
}
