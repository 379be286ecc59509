#!/usr/bin/env node
// Recording benchmark: write throughput, and a 1 GB recording opened and seeked.
//
// Writes a 1 GB recording of synthetic frames as fast as the writer takes them, in two
// shapes: trace mode (500,000 lifecycle events/s in batches of 4096, plus metrics every
// 100 ms: ~10 min of recording) and metrics mode only (a metrics sample every 100 ms, in
// chunks of 5 samples as the recorder's 500 ms flush makes them live: a day of recording in
// 100 MB). Then, per file:
//   - open: RecordingReader.open, the replay session at the first frame, and the first view
//     rendered (renderLiveView), from a cold page cache;
//   - cold seeks: 30 seeks to random times, each from a cold page cache, each to the state
//     there (keyframe, `recent` rebuilt, frames reduced forward), rendered;
//   - seeks with the cache kept: 30 more, to other random times, without dropping the cache;
//   - after each seek, apart: the trace model, which the player builds on first use;
//   - open without an index (cut where the index chunk began, as a kill -9 leaves a file):
//     as replay opens it (the keyframes from the last keyframe's trails, then the chunks after
//     it), then 30 cold seeks; and, as the baseline, the scan of every chunk header that
//     `summary` and `export` still do (and replay did before trails).
// "Cold" is the page cache of this machine dropped (`sync`, then 3 > /proc/sys/vm/drop_caches:
// needs root, else the run stops). On a virtual machine the host may still cache the disk
// image, so the cold reads are only as cold as the guest can make them; the sequential read
// rate printed tells how slow the disk under it is.
// Baseline, in the same run: writing the same number of bytes with fs.writeSync (64 KiB
// writes), and reading the whole file sequentially (what a format without an index costs).
// Budgets: ≥ 50 MB/s written; a 1 GB file shows its first frame in ≤ 1 s; seeks in ≤ 200 ms.
//
//   node bench/recording-large.mjs [--quick]   (--quick: 100 MB and 20 MB files)

import { closeSync, openSync, readSync, rmSync, statSync, truncateSync, copyFileSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { QUICK, requireBuilt, printMachine, tempDir, median, max, fmt, table, verdict, save } from './lib.mjs';
import { loadRecording, writeSynthetic } from './recording-lib.mjs';

requireBuilt();
printMachine('recording: write throughput, open and seek in a large file');
const rec = await loadRecording();
const TARGET = (QUICK ? 100 : 1024) * 1024 * 1024;
const SEEKS = 30;
const tmp = tempDir('recording');

function dropCaches() {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  } catch (err) {
    console.error(`bench: cannot drop the page cache (${err.code ?? err.message}): run as root, or the "cold" figures would be warm`);
    process.exit(70);
  }
}

function baselineWrite(path, bytes) {
  const block = Buffer.alloc(64 * 1024, 7);
  const fd = openSync(path, 'w');
  const started = performance.now();
  for (let at = 0; at < bytes; at += block.length) writeSync(fd, block);
  closeSync(fd);
  const ms = performance.now() - started;
  rmSync(path);
  return ms;
}

/** Where the index chunk begins: the footer's last 8 bytes. */
function indexOffset(path) {
  const fd = openSync(path, 'r');
  const footer = Buffer.alloc(16);
  readSync(fd, footer, 0, 16, statSync(path).size - 16);
  closeSync(fd);
  return footer.readDoubleLE(8);
}

function sequentialRead(path) {
  dropCaches();
  const fd = openSync(path, 'r');
  const buffer = Buffer.alloc(4 * 1024 * 1024);
  const started = performance.now();
  let at = 0;
  for (let n; (n = readSync(fd, buffer, 0, buffer.length, at)) > 0;) at += n;
  closeSync(fd);
  return performance.now() - started;
}

/** quick: as replay opens a file (false: reading every chunk header when there is no index). */
function openAndShow(path, quick = true) {
  dropCaches();
  const started = performance.now();
  const session = quick ? rec.ReplaySession.open(path) : new rec.ReplaySession(rec.RecordingReader.open(path));
  const lines = rec.renderLiveView(session, { width: 100, elapsedMs: 0, status: 'replay', remainingMs: undefined });
  const ms = performance.now() - started;
  if (lines.length === 0 || session.state.hello === undefined) throw new Error('no first state');
  return { session, ms };
}

/** SEEKS seeks to random times (the same ones for the same seed), each rendered; cold: each from a dropped page cache. */
function seeks(session, { cold, seed: initial }) {
  const times = [];
  const span = session.endMs - session.startMs;
  let seed = initial;
  for (let i = 0; i < SEEKS; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const target = session.startMs + (seed / 2147483648) * span;
    if (cold) dropCaches();
    const started = performance.now();
    session.seek(target);
    rec.renderLiveView(session, { width: 100, elapsedMs: target, status: 'replay', remainingMs: undefined });
    const shown = performance.now();
    times.push(shown - started);
    // The trace model is built on first use after a seek (a timeline asks for it): timed apart.
    if (session.trace.events > 0) traceTimes.push(performance.now() - shown);
  }
  return times;
}
const traceTimes = [];

const results = [];
// Metrics mode writes a few MB an hour: 100 MB is a day of it (1 GB would take an hour to
// write here, one 500 ms chunk after another, for nothing more: its chunks are as small, only
// more of them; seeking costs the same whatever the size).
const SHAPES = [
  { name: 'trace mode', eventsPerSecond: 500_000, bytes: TARGET, writerOptions: {} },
  // A lane is written at 1500 bytes: 5 samples, as a live recording's 500 ms flush writes them.
  { name: 'metrics mode', eventsPerSecond: 0, bytes: (QUICK ? 20 : 100) * 1024 * 1024, writerOptions: { chunkBytes: 1500 } },
];
for (const shape of SHAPES) {
  const file = join(tmp.path, `${shape.name.replace(' ', '-')}.rec`);
  console.log(`\n${shape.name}: writing ${fmt(shape.bytes / 1024 / 1024, 0)} MB…`);
  const w = await writeSynthetic(rec, file, { fileBytes: shape.bytes, eventsPerSecond: shape.eventsPerSecond, writerOptions: shape.writerOptions });
  const baseMs = baselineWrite(join(tmp.path, 'baseline.bin'), w.fileBytes);
  const size = statSync(file).size;
  const open = openAndShow(file);
  traceTimes.length = 0;
  const seekMs = seeks(open.session, { cold: true, seed: 7 });
  const warmSeekMs = seeks(open.session, { cold: false, seed: 11 });
  const traceMs = [...traceTimes];
  open.session.close();
  const readMs = sequentialRead(file);
  const cut = join(tmp.path, 'cut.rec');
  copyFileSync(file, cut);
  truncateSync(cut, indexOffset(file));
  const scan = openAndShow(cut);
  if (scan.session.reader.openedFrom !== 'trails') throw new Error(`the file without an index was opened from ${scan.session.reader.openedFrom}, not its keyframes' trails`);
  const scanSeekMs = seeks(scan.session, { cold: true, seed: 7 });
  scan.session.close();
  const full = openAndShow(cut, false);
  full.session.close();
  rmSync(cut);
  rmSync(file);
  const r = {
    shape: shape.name, fileMB: size / 1024 / 1024, recordedMin: w.recordedMs / 60_000, frames: w.frames, keyframes: w.keyframes,
    writeMBps: w.frameBytes / 1e6 / (w.ms / 1000), writeFramesPerS: w.frames / (w.ms / 1000), writeFileMBps: w.fileBytes / 1e6 / (w.ms / 1000), compression: w.frameBytes / w.fileBytes,
    baselineWriteMBps: w.fileBytes / 1e6 / (baseMs / 1000), openMs: open.ms,
    seekP50Ms: median(seekMs), seekMaxMs: max(seekMs), warmSeekP50Ms: median(warmSeekMs), warmSeekMaxMs: max(warmSeekMs),
    traceModelP50Ms: traceMs.length > 0 ? median(traceMs) : null, traceModelMaxMs: traceMs.length > 0 ? max(traceMs) : null,
    sequentialReadMs: readMs, sequentialReadMBps: size / 1e6 / (readMs / 1000),
    openNoIndexMs: scan.ms, openNoIndexFullScanMs: full.ms, seekNoIndexP50Ms: median(scanSeekMs), seekNoIndexMaxMs: max(scanSeekMs),
    seeksMs: { cold: seekMs, cacheKept: warmSeekMs, noIndexCold: scanSeekMs },
  };
  results.push(r);
  console.log(JSON.stringify(r));
}
tmp.remove();

console.log('\nwrite (frame bytes in, while compressing and writing; baseline: fs.writeSync of the file\'s size)');
// The 50 MB/s budget is for the modes that make volume; metrics mode sends ~10 small frames a
// second, so what matters there is frames per second.
table(['file', 'recorded', 'frames', 'frames/s', 'in MB/s', 'file MB/s', 'compression', 'baseline MB/s', '≥ 50 MB/s'], results.map((r) => [
  r.shape, `${fmt(r.recordedMin, 1)} min`, String(r.frames), fmt(r.writeFramesPerS, 0), fmt(r.writeMBps, 0), fmt(r.writeFileMBps, 1), `${fmt(r.compression, 1)}×`,
  fmt(r.baselineWriteMBps, 0), r.shape === 'metrics mode' ? 'n/a' : verdict(r.writeMBps >= 50),
]));
console.log('\nopen and seek, cold (first frame shown; seeks to random times, each rendered)');
table(['file', 'size', 'keyframes', 'open', 'cold seek p50', 'max', 'cache kept: seek p50', 'max', 'no index: open', 'cold seek max', 'no index, every header read: open', 'read it all', '≤ 1 s / ≤ 200 ms'], results.map((r) => [
  r.shape, `${fmt(r.fileMB, 0)} MB`, String(r.keyframes), `${fmt(r.openMs, 0)} ms`, `${fmt(r.seekP50Ms, 1)} ms`, `${fmt(r.seekMaxMs, 1)} ms`,
  `${fmt(r.warmSeekP50Ms, 1)} ms`, `${fmt(r.warmSeekMaxMs, 1)} ms`, `${fmt(r.openNoIndexMs, 0)} ms`, `${fmt(r.seekNoIndexMaxMs, 1)} ms`,
  `${fmt(r.openNoIndexFullScanMs, 0)} ms`, `${fmt(r.sequentialReadMs, 0)} ms (${fmt(r.sequentialReadMBps, 0)} MB/s)`,
  verdict(Math.max(r.openMs, r.openNoIndexMs) <= 1000 && Math.max(r.seekMaxMs, r.warmSeekMaxMs, r.seekNoIndexMaxMs) <= 200),
]));
for (const r of results.filter((x) => x.traceModelP50Ms !== null)) {
  console.log(`${r.shape}: the trace model, built on first use after a seek: p50 ${fmt(r.traceModelP50Ms, 1)} ms, max ${fmt(r.traceModelMaxMs, 1)} ms`);
}
save('recording-large', { quick: QUICK, results });
