#!/usr/bin/env node
// Recording fuzz, at length: the fuzzer of test/recording-bad-files.test.ts (1,000 cases in
// `npm test`) run for many more cases over real recordings (a real blocker run in tasks mode,
// a real HTTP exchange in trace mode) and a synthetic one with unknown frame types. Each case
// mutates a file (bit flips, random bytes, cuts, holes, removed, repeated and swapped ranges,
// extreme integers, and changes behind recomputed checksums), then opens, summarizes, seeks,
// steps and exports it. Reports the outcomes, the slowest case and the heap high-water mark;
// fails (exit 1) on any exception other than a clear RecordingError.
//
//   node bench/recording-fuzz.mjs [cases] [seed]     (default 20000 cases; --quick: 2000)

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, QUICK, requireBuilt, printMachine, tempDir, fmt, save } from './lib.mjs';
import { loadRecording, recordRun, writeSynthetic } from './recording-lib.mjs';

requireBuilt();
printMachine('recording: fuzzing damaged files');
const numbers = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);
const CASES = numbers[0] ?? (QUICK ? 2000 : 20_000);
const SEED = numbers[1] ?? 1;
const rec = await loadRecording();
const tmp = tempDir('recording-fuzz');

const bases = [];
for (const [fixture, mode] of [['blocker.js', 'tasks'], ['http-request.js', 'trace']]) {
  const file = join(tmp.path, `${mode}.rec`);
  await recordRun(rec, { file, command: process.execPath, args: [join(ROOT, 'test', 'fixtures', fixture)], config: { mode, intervalMs: 50, blockThresholdMs: 30 }, env: { ...process.env, BLOCK_MS: '40', PERIOD_MS: '150', COUNT: '4' } });
  bases.push(new Uint8Array(readFileSync(file)));
}
await writeSynthetic(rec, join(tmp.path, 'synthetic.rec'), { seconds: 20, eventsPerSecond: 2000 });
bases.push(new Uint8Array(readFileSync(join(tmp.path, 'synthetic.rec'))));
if (bases.some((b) => b.length < 2048)) throw new Error('a base recording is empty: did its target run?');
console.log(`bases: ${bases.map((b) => `${fmt(b.length / 1024, 0)} kB`).join(', ')}; ${CASES} cases, seed ${SEED}`);

const r = rec.rng(SEED);
const path = join(tmp.path, 'case.rec');
const outcomes = { error: 0, read: 0 };
const messages = new Map();
let slowest = 0;
let heapMax = 0;
let failures = 0;
const started = performance.now();
for (let i = 0; i < CASES; i++) {
  let bytes = rec.mutate(bases[i % bases.length], r);
  if (r() < 0.3) bytes = rec.mutate(bytes, r);
  const t = performance.now();
  try {
    const result = rec.runCase(path, bytes, r);
    outcomes[result.kind]++;
    if (result.kind === 'error') {
      const kind = result.message.replace(/^\S+ /, '').replace(/\d+/g, 'N');
      messages.set(kind, (messages.get(kind) ?? 0) + 1);
    }
  } catch (err) {
    failures++;
    console.error(`case ${i} (seed ${SEED}) threw: ${err?.stack ?? err}`);
  }
  slowest = Math.max(slowest, performance.now() - t);
  if (i % 100 === 0) heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
  if (i > 0 && i % 5000 === 0) console.log(`  ${i} cases…`);
}
const seconds = (performance.now() - started) / 1000;
tmp.remove();
console.log(`\n${CASES} cases in ${fmt(seconds, 1)} s: ${outcomes.read} read (some in part, with warnings), ${outcomes.error} refused with a clear error, ${failures} failures`);
console.log(`slowest case ${fmt(slowest, 0)} ms; heap high-water ${fmt(heapMax / 1024 / 1024, 0)} MB`);
console.log('errors seen:');
for (const [m, n] of [...messages].sort((a, b) => b[1] - a[1])) console.log(`  ${n}× ${m}`);
save('recording-fuzz', { cases: CASES, seed: SEED, seconds, outcomes, failures, slowestMs: slowest, heapMaxMB: heapMax / 1024 / 1024, errors: Object.fromEntries(messages) });
process.exitCode = failures > 0 ? 1 : 0;
