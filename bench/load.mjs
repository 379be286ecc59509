#!/usr/bin/env node
// The load generator for the throughput benchmark, run as its own process so that it can be
// pinned to its own CPU. It drives autocannon (programmatically) against several servers that
// are all running at once, in short alternating slices, so that each pair of slices sees the
// same background load on a shared machine. Around every slice it reads every server's CPU
// time from /proc (whole process, and its main thread alone). Prints one JSON document.
//
//   node bench/load.mjs '<plan as JSON>'
//   plan: { targets: [{ name, url, pid }], warmupSeconds, rounds, seconds, connections, pipelining }
//   Round i drives the targets in order, reversed on odd rounds (ABBA…), to cancel drift.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

const plan = JSON.parse(process.argv[2] ?? '{}');
const { targets, warmupSeconds, rounds, seconds, connections = 10, pipelining = 1 } = plan;
if (!Array.isArray(targets) || targets.length === 0 || !targets.every((t) => t.url?.startsWith('http://127.0.0.1:') && t.pid > 0) ||
  !(warmupSeconds >= 0) || !(rounds > 0) || !(seconds > 0) || !(Number.isInteger(pipelining) && pipelining >= 1)) {
  console.error('usage: node bench/load.mjs \'{"targets":[{"name":"a","url":"http://127.0.0.1:<port>/","pid":<pid>}],"warmupSeconds":2,"rounds":5,"seconds":5}\'');
  process.exit(2);
}

/** CPU time (user + system) so far in ms, from /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat. */
function cpuMs(path) {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime; USER_HZ is 100
  } catch {
    return NaN;
  }
}
const cpuAll = () => targets.map((t) => ({ total: cpuMs(`/proc/${t.pid}/stat`), main: cpuMs(`/proc/${t.pid}/task/${t.pid}/stat`) }));

const fire = (url, duration) =>
  new Promise((resolve, reject) => {
    autocannon({ url, connections, pipelining, duration }, (err, result) => (err ? reject(err) : resolve(result)));
  });

for (const t of targets) if (warmupSeconds > 0) await fire(t.url, warmupSeconds);

const slices = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? targets : [...targets].reverse();
  for (const t of order) {
    const before = cpuAll();
    const t0 = performance.now();
    const r = await fire(t.url, seconds);
    const wallMs = performance.now() - t0;
    const after = cpuAll();
    const cpu = Object.fromEntries(targets.map((o, i) => [o.name, {
      totalMs: after[i].total - before[i].total,
      mainMs: after[i].main - before[i].main,
    }]));
    slices.push({
      round,
      target: t.name,
      requests: r.requests.total,
      seconds: wallMs / 1000,
      rps: r.requests.total / (wallMs / 1000),
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      latencyP50Ms: r.latency.p50,
      latencyP99Ms: r.latency.p99,
      cpu,
    });
  }
}
process.stdout.write(JSON.stringify({ slices }) + '\n');
