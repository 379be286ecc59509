#!/usr/bin/env node
// Benchmark 4: wire throughput. Bundles bench/wire-throughput.ts (which imports probe/wire.ts)
// with esbuild into bench/.out/, then runs it. See the .ts file for the method.
//
//   node bench/wire-throughput.mjs [--quick]

import { build } from 'esbuild';
import { join } from 'node:path';
import { BENCH_DIR, OUT_DIR, run } from './lib.mjs';

const bundle = join(OUT_DIR, 'wire-throughput.cjs');
await build({
  entryPoints: [join(BENCH_DIR, 'wire-throughput.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
const r = await run(process.execPath, [bundle, ...process.argv.slice(2), `--out=${join(OUT_DIR, 'wire-throughput.json')}`], { timeoutMs: 120_000 });
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = r.code ?? 1;
