#!/usr/bin/env node
// Recording benchmark: file size per minute in each mode (metrics, tasks, trace, and trace
// with promises), for two real targets recorded as `run --record` records them:
//   - the demo app (main/demo/demo-app.js): periodic blocking work, file reads and crypto;
//   - an HTTP server (bench/fixtures/http-server.js) under a steady 500 requests/s from
//     autocannon (10 connections), so every mode sees the same traffic.
// Each recording lasts SECONDS (20; --quick: 6); the figure is scaled to a minute. Also the
// frame bytes received per minute (what the probe sent), for the compression ratio.
//
//   node bench/recording-size.mjs [--quick]

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { ROOT, FIXTURES, QUICK, requireBuilt, printMachine, tempDir, waitForLine, fmt, table, save, sleep } from './lib.mjs';
import { loadRecording } from './recording-lib.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

requireBuilt();
printMachine('recording: file size per minute, per mode');
const rec = await loadRecording();
const SECONDS = QUICK ? 6 : 20;
const tmp = tempDir('recording-size');

async function record(target, mode, promises) {
  const file = join(tmp.path, `${target.name.replace(/\W+/g, '-')}-${mode}${promises ? '-promises' : ''}.rec`);
  const server = await rec.startProbeServer();
  const writer = rec.RecordingWriter.create(file);
  let closed;
  server.onConnection((c) => {
    writer.start(c.hello);
    c.on('frame', (raw, at) => writer.write(raw, at));
    closed = new Promise((resolve) => c.on('close', resolve));
  });
  const child = rec.launch({
    command: process.execPath, args: [target.script], probeFile: rec.probePath(), socketPath: server.address, token: server.issueToken(),
    config: { mode, promises, intervalMs: 100, blockThresholdMs: 50 }, stdio: ['ignore', 'pipe', 'inherit'], env: process.env,
  });
  child.stdout.resume();
  let load;
  if (target.http) {
    const [, port] = await waitForLine(child, /listening (\d+)/);
    load = autocannon({ url: `http://127.0.0.1:${port}/`, connections: 10, overallRate: 500, duration: SECONDS });
  }
  await sleep(SECONDS * 1000);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await load;
  await Promise.race([closed, sleep(2000)]);
  await server.close();
  await writer.close({ exitCode: 0, warnings: [] });
  const stats = writer.stats;
  const perMinute = 60 / SECONDS;
  return {
    target: target.name, mode: promises ? `${mode} + promises` : mode,
    fileKBPerMin: (statSync(file).size / 1024) * perMinute, framesKBPerMin: (stats.frameBytes / 1024) * perMinute,
    framesPerMin: stats.frames * perMinute, dropped: stats.droppedFrames,
  };
}

const targets = [
  { name: 'demo app', script: join(ROOT, 'main', 'demo', 'demo-app.js'), http: false },
  { name: 'HTTP 500 req/s', script: join(FIXTURES, 'http-server.js'), http: true },
];
const results = [];
for (const target of targets) {
  for (const [mode, promises] of [['metrics', false], ['tasks', false], ['trace', false], ['trace', true]]) {
    const r = await record(target, mode, promises);
    console.log(JSON.stringify(r));
    results.push(r);
  }
}
tmp.remove();

const size = (kb) => (kb >= 1024 ? `${fmt(kb / 1024, 1)} MB` : `${fmt(kb, 0)} kB`);
table(['target', 'mode', 'file per minute', 'per hour', 'frames received per minute', 'compression', 'dropped'], results.map((r) => [
  r.target, r.mode, size(r.fileKBPerMin), size(r.fileKBPerMin * 60), size(r.framesKBPerMin), `${fmt(r.framesKBPerMin / r.fileKBPerMin, 1)}×`, String(r.dropped),
]));
save('recording-size', { quick: QUICK, seconds: SECONDS, results });
