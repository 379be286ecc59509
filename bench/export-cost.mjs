#!/usr/bin/env node
// Benchmark: what exporting (Prometheus and OTLP) costs loopscope, with 32 loops. Bundles
// bench/export-cost.ts (which imports main/) with esbuild into bench/.out/, then runs it.
// See the .ts file for the method.
//
//   node bench/export-cost.mjs [--loops <n>] [--interval <s>] [--window <s>] [--rounds <n>] [--quick] [--help]

import { requireBuilt, runBundled } from './lib.mjs';

requireBuilt();
await runBundled('export-cost', { external: ['@opentelemetry/*'], timeoutMs: 30 * 60_000 });
