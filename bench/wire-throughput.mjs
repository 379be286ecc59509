#!/usr/bin/env node
// Benchmark 4: wire throughput. Bundles bench/wire-throughput.ts (which imports probe/wire.ts)
// with esbuild into bench/.out/, then runs it. See the .ts file for the method.
//
//   node bench/wire-throughput.mjs [--quick]

import { runBundled } from './lib.mjs';

await runBundled('wire-throughput');
