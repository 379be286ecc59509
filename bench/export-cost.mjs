#!/usr/bin/env node
// Benchmark: what exporting (Prometheus and OTLP) costs loopscope, with 32 loops. Bundles
// bench/export-cost.ts (which imports main/) with esbuild into bench/.out/, then runs it.
// See the .ts file for the method.
//
//   node bench/export-cost.mjs [--loops <n>] [--interval <s>] [--window <s>] [--rounds <n>] [--quick] [--help]

import { build } from 'esbuild';
import { join } from 'node:path';
import { BENCH_DIR, OUT_DIR, requireBuilt, run } from './lib.mjs';

requireBuilt();
const bundle = join(OUT_DIR, 'export-cost.cjs');
await build({
  entryPoints: [join(BENCH_DIR, 'export-cost.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  external: ['@opentelemetry/*'],
});
const r = await run(process.execPath, [bundle, ...process.argv.slice(2), `--out=${join(OUT_DIR, 'export-cost.json')}`], { timeoutMs: 30 * 60_000 });
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = r.code ?? 1;
