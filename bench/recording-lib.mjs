// Shared by the recording benchmarks: loopscope's recording code (TypeScript) bundled on the
// fly with esbuild into bench/.out/, and a recorder wired to a real probe connection exactly
// as `run --record` wires it.

import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR, ROOT } from './lib.mjs';

const require = createRequire(import.meta.url);

/** The recording modules, the session pieces and the synthetic-session helpers, as one CommonJS module. */
export async function loadRecording() {
  mkdirSync(OUT_DIR, { recursive: true });
  const outfile = join(OUT_DIR, 'recording-bundle.cjs');
  await build({
    stdin: {
      contents: [
        "export * from './main/recording/recording-writer';",
        "export * from './main/recording/recording-reader';",
        "export * from './main/replay/recording-player';",
        "export * from './main/reports/recording-summary';",
        "export * from './main/replay/replay-session';",
        "export * from './main/recording/errors';",
        "export { startProbeServer } from './main/server/probe-server';",
        "export { launch } from './main/launch/launch';",
        "export { probePath } from './main/launch/probe-path';",
        "export { syntheticHello, syntheticSession, sample, toRaw } from './test/helpers/recording-synthetic';",
        "export { encodeMetrics, encodeDictionary, encodeTaskEvents } from './probe/wire-binary';",
        "export { MessageType } from './probe/wire';",
        "export { renderLiveView } from './main/terminal/live-view';",
        "export { mutate, rng, runCase } from './test/helpers/recording-fuzz';",
      ].join('\n'),
      resolveDir: ROOT, loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'warning',
  });
  return require(outfile);
}

/**
 * Runs `command` with the probe and records it to `file`, as `run --record` does. Resolves
 * with the writer's stats once the target has exited (or after `durationMs`, when it is
 * stopped with SIGTERM).
 */
export async function recordRun(rec, { file, command, args, config, env = process.env, durationMs }) {
  const server = await rec.startProbeServer();
  const writer = rec.RecordingWriter.create(file);
  let closed;
  server.onConnection((connection) => {
    writer.start(connection.hello);
    connection.on('frame', (raw, at) => writer.write(raw, at));
    closed = new Promise((resolve) => connection.on('close', resolve));
  });
  const child = rec.launch({
    command, args, probeFile: rec.probePath(), socketPath: server.address, token: server.issueToken(),
    config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50, ...config }, stdio: ['ignore', 'ignore', 'inherit'], env,
  });
  const timer = durationMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), durationMs);
  const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  await server.close();
  await writer.close({ exitCode: code, warnings: [] });
  return writer.stats;
}

/** Trace-mode-like event batches (4096 lifecycle events each, as the probe sends them), distinct. */
export function traceBatches(rec, count = 16, events = 4096) {
  const batches = [];
  let asyncId = 1000;
  let timeUs = 0;
  for (let b = 0; b < count; b++) {
    const kinds = new Uint8Array(events);
    const asyncIds = new Float64Array(events);
    const triggerIds = new Float64Array(events);
    const timesUs = new Float64Array(events);
    const typeIds = new Uint16Array(events);
    for (let i = 0; i < events; i++) {
      const phase = i % 4; // init, before, after, destroy of one resource
      if (phase === 0) asyncId++;
      kinds[i] = [0, 1, 2, 3][phase];
      asyncIds[i] = asyncId;
      triggerIds[i] = phase === 0 ? asyncId - 1 - (i % 13) : 0;
      timeUs += 1 + ((i * 7919) % 5);
      timesUs[i] = timeUs;
      typeIds[i] = phase === 0 ? 1 + (i % 4) : 0;
    }
    batches.push(rec.toRaw(rec.encodeTaskEvents(events, kinds, asyncIds, triggerIds, timesUs, typeIds)));
  }
  return batches;
}

export const TRACE_DICTIONARY = [[1, 'Timeout'], [2, 'TCPWRAP'], [3, 'PROMISE'], [4, 'HTTPINCOMINGMESSAGE']];

/**
 * Writes a synthetic recording as fast as the writer takes it: a metrics sample every 100 ms
 * of recording time and, with `eventsPerSecond`, trace batches at that rate. Waits whenever
 * the writer's backlog passes 32 MB (a live probe would instead see its frames dropped).
 * Stops at `seconds` of recording time or `fileBytes` on disk. `writerOptions` go to the writer.
 */
export async function writeSynthetic(rec, file, { seconds = Infinity, fileBytes = Infinity, eventsPerSecond = 0, writerOptions = {} } = {}) {
  const writer = rec.RecordingWriter.create(file, writerOptions);
  const t0 = Date.now();
  writer.start(rec.syntheticHello, t0);
  writer.write(rec.toRaw(rec.encodeDictionary([[1, 'Timeout'], [2, 'TCPWRAP'], ...TRACE_DICTIONARY.slice(2)])), t0);
  const batches = eventsPerSecond > 0 ? traceBatches(rec) : [];
  const batchMs = eventsPerSecond > 0 ? (4096 / eventsPerSecond) * 1000 : Infinity;
  let nextSample = 100;
  let nextBatch = batchMs;
  let i = 0;
  let b = 0;
  const started = performance.now();
  while (nextSample / 1000 <= seconds && writer.stats.fileBytes < fileBytes) {
    if (nextBatch < nextSample) {
      writer.write(batches[b++ % batches.length], t0 + nextBatch);
      nextBatch += batchMs;
    } else {
      writer.write(rec.toRaw(rec.encodeMetrics(rec.sample(i++), [1, 2])), t0 + nextSample);
      nextSample += 100;
    }
    if (writer.stats.backlogBytes > 32 * 1024 * 1024) {
      while (writer.stats.backlogBytes > 8 * 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
    }
  }
  await writer.close({ exitCode: 0, warnings: [] });
  const ms = performance.now() - started;
  return { ...writer.stats, ms, recordedMs: Math.min(nextSample, nextBatch) };
}
