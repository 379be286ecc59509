// Shared helpers for the benchmarks: paths, child processes, CPU pinning, statistics and
// printing. Benchmarks are not tests: they measure, print, and save their raw results under
// bench/.out/ (ignored by git) so that BENCHMARKS.md can be written from a real run.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installNode, NODE_VERSIONS } from '../test/helpers/node-install.mjs';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH_DIR);
export const FIXTURES = join(BENCH_DIR, 'fixtures');
export const OUT_DIR = join(BENCH_DIR, '.out');
export const CLI = join(ROOT, 'bin', 'loopscope.js');
export const PROBE = join(ROOT, 'dist', 'probe.js');

/** Fails early, with what to do, when the probe or the CLI have not been built. */
export function requireBuilt() {
  for (const f of [PROBE, join(ROOT, 'dist', 'cli.js')]) {
    if (!existsSync(f)) {
      console.error(`bench: ${f} is missing. Run \`npm run build\` first (or \`npm run bench\`, which builds).`);
      process.exit(70);
    }
  }
}

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `loopscope-bench-${prefix}-`));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------
// The machine

export function machine() {
  const c = cpus();
  return {
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: c[0]?.model ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    taskset: hasTaskset(),
  };
}

let tasksetChecked;
/** Whether `taskset` exists and can pin (it may be missing or forbidden in a container). */
export function hasTaskset() {
  if (tasksetChecked === undefined) {
    const r = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    tasksetChecked = r.status === 0 && availableParallelism() >= 2;
  }
  return tasksetChecked;
}

/** Prefixes a command with `taskset -c <cpus>` when pinning is possible and wanted. */
export function pinned(cpuList, command, args) {
  if (cpuList === undefined || !hasTaskset()) return { command, args };
  return { command: 'taskset', args: ['-c', cpuList, command, ...args] };
}

/** Moves every thread of a running process to the given CPUs. */
export function repin(pid, cpuList) {
  if (!hasTaskset()) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' }).status === 0;
}

/**
 * Moves a running process's main thread to `mainCpu` and every other thread it has now to
 * `otherCpu`: a machine whose JavaScript thread is the bottleneck, with a core to spare for
 * the rest. Threads made later take the main thread's CPU.
 */
export function spreadThreads(pid, mainCpu, otherCpu) {
  if (!hasTaskset()) return false;
  const tids = readdirSync(`/proc/${pid}/task`).map(Number);
  // A thread that ended in between is no failure.
  return tids.every((tid) => spawnSync('taskset', ['-p', '-c', tid === pid ? mainCpu : otherCpu, String(tid)], { stdio: 'ignore' }).status === 0
    || !existsSync(`/proc/${pid}/task/${tid}`));
}

export function printMachine(title) {
  const m = machine();
  console.log(`\n=== ${title} ===`);
  console.log(`machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.platform}, Node ${m.node}${m.taskset ? '' : ', no taskset: not pinned'}`);
  return m;
}

// ---------------------------------------------------------------------------------------
// Other Node versions: installed as the tests install them (test/helpers/node-install.mjs).

export { NODE_VERSIONS };

/**
 * The path of a Node binary: `which` is a major version of NODE_VERSIONS, a full version
 * (installed with npm on first use), or a path to a binary. This machine's own Node for its
 * own version.
 */
export async function nodeBinary(which) {
  if (which.includes('/')) {
    if (!existsSync(which)) throw new Error(`no Node binary at ${which}`);
    return which;
  }
  const version = NODE_VERSIONS[which] ?? which;
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`"${which}" is not a Node version (e.g. 22 or 22.23.3) nor a path to a binary`);
  if (`v${version}` === process.version) return process.execPath;
  return installNode(version);
}

// ---------------------------------------------------------------------------------------
// Child processes

/**
 * Runs a command to its end, collecting stdout and stderr. Rejects on a timeout (the
 * process is killed) but not on a non-zero exit: callers check `code`.
 */
export function run(command, args, { timeoutMs = 60_000, env = process.env, cwd = ROOT } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} took more than ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `loopscope run --json [options] -- <command…>` to its end; resolves with the parsed summary. */
export async function loopscopeRun(options, command, { timeoutMs = 60_000 } = {}) {
  const r = await run(process.execPath, [CLI, 'run', '--json', ...options, '--', ...command], { timeoutMs });
  let summary;
  try {
    summary = JSON.parse(r.stdout);
  } catch {
    throw new Error(`loopscope run printed no JSON summary (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return { summary, stderr: r.stderr, code: r.code };
}

/** Waits for a child's output (stdout or stderr) to contain a line matching `pattern`. */
export function waitForLine(child, pattern, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d) => {
      seen += d;
      const m = seen.match(pattern);
      if (m) {
        done();
        resolve(m);
      }
    };
    const onExit = (code) => {
      done();
      reject(new Error(`process exited (${code}) before printing ${pattern}\n${seen}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms\n${seen}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}

/**
 * Drives each server (`{ variant, url, pid }`) with its own load generator (bench/load.mjs,
 * pinned to `cpu`), all at the same time, and returns each one's slice: requests/s, latency, and
 * its own CPU time as `cpu`. Fails on any error, timeout or non-2xx answer.
 */
export async function driveAtOnce(servers, { warmupSeconds, seconds, connections, pipelining, cpu }) {
  const runs = await Promise.all(servers.map((s) => {
    const plan = { targets: [{ name: s.variant, url: s.url, pid: s.pid }], warmupSeconds, rounds: 1, seconds, connections, pipelining };
    const load = pinned(cpu, process.execPath, [join(BENCH_DIR, 'load.mjs'), JSON.stringify(plan)]);
    return run(load.command, load.args, { timeoutMs: 3 * (warmupSeconds + seconds) * 1000 + 60_000 });
  }));
  return runs.map((r) => {
    if (r.code !== 0) throw new Error(`load generator failed (${r.code}): ${r.stderr}`);
    const [slice] = JSON.parse(r.stdout).slices;
    if (slice.errors || slice.non2xx || slice.timeouts) throw new Error(`${slice.target}: ${slice.errors} errors, ${slice.timeouts} timeouts, ${slice.non2xx} non-2xx`);
    return { ...slice, cpu: slice.cpu[slice.target] };
  });
}

/**
 * Builds bench/fixtures/task-parts.ts (the parts of tasks and trace modes, from the probe's own
 * modules) into bench/.out and returns the file, to be preloaded with --require.
 */
export async function buildTaskParts() {
  const out = join(OUT_DIR, 'task-parts.js');
  const { build } = await import('esbuild');
  mkdirSync(OUT_DIR, { recursive: true });
  await build({ entryPoints: [join(FIXTURES, 'task-parts.ts')], outfile: out, bundle: true, platform: 'node', format: 'cjs', target: 'node18', logLevel: 'warning', absWorkingDir: ROOT });
  return out;
}

/** Resolves once the child has exited (at once if it already has). */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// ---------------------------------------------------------------------------------------
// Statistics (bench/stats.mjs)

export { sum, mean, median, medianInterval, min, max, maxAbs, stdev } from './stats.mjs';

// ---------------------------------------------------------------------------------------
// Printing and saving

export const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
export const signed = (x, digits = 2) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(digits)}` : String(x));
export const pct = (x, digits = 2) => `${signed(x * 100, digits)}%`;

/** Prints rows (arrays of strings) as an aligned table, with a header row. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]?.length ?? 0)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(all[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of all.slice(1)) console.log(line(r));
}

export function verdict(pass) {
  return pass ? 'PASS' : 'MISS';
}

/** Saves a benchmark's raw results to bench/.out/<name>.json, with the machine and the time. */
export function save(name, results) {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, at: new Date().toISOString(), machine: machine(), ...results }, null, 2) + '\n');
  console.log(`raw results: ${file}`);
}

/** The value after `--name` on the command line, or `fallback`. */
export function stringArg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) {
    console.error(`--${name} needs a value (--help says more)`);
    process.exit(2);
  }
  return value;
}

/** --compare <probe.js>: another build of the probe to pair each run with, which must exist; undefined without the option. */
export function probeBuildArg() {
  const path = stringArg('compare', undefined);
  if (path !== undefined && !existsSync(path)) {
    console.error(`--compare: no probe build at ${path} (build one with: git worktree add /tmp/old <rev> && cd /tmp/old && node build.mjs; then give its dist/probe.js)`);
    process.exit(2);
  }
  return path;
}

/**
 * With --help or -h: prints the bench's own header comment (the lines starting with // after
 * the shebang) and exits. `moduleUrl`: the bench's import.meta.url.
 */
export function helpRequested(moduleUrl) {
  if (!process.argv.includes('--help') && !process.argv.includes('-h')) return;
  const lines = readFileSync(fileURLToPath(moduleUrl), 'utf8').split('\n');
  const start = lines[0]?.startsWith('#!') ? 1 : 0;
  const header = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('//')) break;
    header.push(line.replace(/^\/\/ ?/, ''));
  }
  console.log(header.join('\n'));
  process.exit(0);
}

/** `--quick` on the command line, or BENCH_QUICK=1: fewer rounds, for checking the bench itself. */
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/**
 * Bundles a TypeScript bench (one that imports the sources) with esbuild into bench/.out/,
 * runs it with the command line's arguments and `--out=<json>`, and passes its output and
 * exit code on.
 */
export async function runBundled(name, { external = [], timeoutMs = 120_000 } = {}) {
  const { build } = await import('esbuild');
  const bundle = join(OUT_DIR, `${name}.cjs`);
  await build({
    entryPoints: [join(BENCH_DIR, `${name}.ts`)], outfile: bundle, bundle: true, platform: 'node', format: 'cjs',
    target: 'node20', logLevel: 'warning', external,
  });
  const r = await run(process.execPath, [bundle, ...process.argv.slice(2), `--out=${join(OUT_DIR, `${name}.json`)}`], { timeoutMs });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code ?? 1;
}
