// Benchmark: what exporting costs loopscope. 32 real targets (bench/fixtures/fleet-app.js,
// each with the real probe, default settings) connect to one probe server in this process,
// and each becomes a loop of one LoopSet, as a session of many loops will give. Rounds
// alternate two phases of equal length:
//   watch    the 32 live sessions are fed (frames decoded and reduced), nothing exported;
//   export   the same, plus FleetExporter: a Prometheus endpoint scraped every interval and
//            OTLP/HTTP protobuf metrics pushed every interval (blocked loops as log records).
// loopscope's CPU in each phase is this process's process.cpuUsage() over the phase's window;
// the scraper and the OTLP receiver run in another process, so their work is not counted.
// The cost of exporting is export − watch, as % of one core; the budget is 2% at a 10 s
// interval. The targets' own CPU (from /proc/<pid>/stat) is summed per phase too: exporting
// happens in loopscope, so it must not move.
//
// Bundled by bench/export-cost.mjs with esbuild; run that file.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { launch } from '../main/launch/launch';
import { startProbeServer, type ProbeServer } from '../main/server/probe-server';
import { LiveSource } from '../main/session/live-source';
import { LoopSet, loopOf } from '../main/fleet/loop-set';
import { FleetExporter } from '../main/fleet/fleet-exporter';
import { otlpSettings } from '../main/fleet/fleet-config';

const HELP = `Usage: node bench/export-cost.mjs [--loops <n>] [--interval <s>] [--window <s>] [--rounds <n>] [--quick]

Measures loopscope's own CPU with and without the exporters (Prometheus endpoint scraped and
OTLP pushed every interval), watching <n> real probed processes, phases alternated.
Defaults: 32 loops, a 10 s interval, 40 s windows, 3 rounds (--quick: 8 loops, 2 s, 8 s, 1).
`;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`export-cost: --${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}
const QUICK = process.argv.includes('--quick');
const LOOPS = option('loops', QUICK ? 8 : 32);
const INTERVAL_MS = option('interval', QUICK ? 2 : 10) * 1000;
const WINDOW_MS = option('window', QUICK ? 8 : 40) * 1000;
const ROUNDS = option('rounds', QUICK ? 1 : 3);
const SETTLE_MS = 2000;
const STARTUP_MS = 8000;
const OUT = process.argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const ROOT = join(__dirname, '..', '..');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, ms (10 ms ticks). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** Another process: an OTLP receiver that accepts everything, and a scraper of /metrics every interval. */
const HELPER = `
const http = require('node:http');
const [promPort, everyMs] = process.argv.slice(1).map(Number);
let posts = 0, scrapes = 0, bytes = 0;
const sink = http.createServer((req, res) => { req.on('data', (d) => (bytes += d.length)); req.on('end', () => { posts++; res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }); res.end(); }); });
sink.listen(0, '127.0.0.1', () => console.log('sink ' + sink.address().port));
setInterval(() => http.get({ host: '127.0.0.1', port: promPort, path: '/metrics' }, (res) => { res.on('data', (d) => (bytes += d.length)); res.on('end', () => scrapes++); }).on('error', () => {}), everyMs);
process.on('SIGUSR2', () => console.log(JSON.stringify({ posts, scrapes, bytes })));
`;

function lineFrom(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve) => {
    let seen = '';
    const on = (d: Buffer): void => {
      seen += d;
      const m = seen.match(pattern);
      if (m) {
        child.stdout!.off('data', on);
        resolve(m);
      }
    };
    child.stdout!.on('data', on);
  });
}

async function main(): Promise<void> {
  const c = cpus();
  console.log(`export cost: loopscope's CPU with and without the exporters`);
  console.log(`machine: ${availableParallelism()} × ${c[0]?.model ?? 'unknown'}, node ${process.version}`);
  console.log(`${LOOPS} loops, ${INTERVAL_MS / 1000} s export interval, ${ROUNDS} rounds of two ${WINDOW_MS / 1000} s windows (watch, export)`);

  const server = await startProbeServer();
  const loops = new LoopSet();
  const sources: LiveSource[] = [];
  server.onConnection((connection) => {
    const source = new LiveSource(connection);
    sources.push(source);
    loops.add(loopOf(source));
  });
  const rejected: string[] = [];
  server.onRejected((reason) => rejected.push(reason));
  const targets: ChildProcess[] = [];
  const helpers: ChildProcess[] = [];
  try {
    await measureAll(server, loops, sources, targets, helpers, rejected);
  } finally {
    for (const t of [...targets, ...helpers]) t.kill('SIGKILL');
    await server.close();
  }
}

async function measureAll(server: ProbeServer, loops: LoopSet, sources: LiveSource[], targets: ChildProcess[], helpers: ChildProcess[], rejected: string[]): Promise<void> {
  for (let i = 0; i < LOOPS; i++) {
    // A few at a time: 32 Node processes starting at once on 2 cores take long to connect.
    if (i % 4 === 3) await sleep(300);
    targets.push(launch({
      command: process.execPath, args: [join(ROOT, 'bench', 'fixtures', 'fleet-app.js')],
      config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 },
      token: server.issueToken(), probeFile: join(ROOT, 'dist', 'probe.js'), socketPath: server.address,
      stdio: ['ignore', 'ignore', 'inherit'], env: process.env,
    }));
  }
  const promPort = 20000 + Math.floor(Math.random() * 20000);
  const helper = spawn(process.execPath, ['-e', HELPER, String(promPort), String(INTERVAL_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  helpers.push(helper);
  const sinkPort = Number((await lineFrom(helper, /sink (\d+)/))[1]);
  const deadline = Date.now() + 90_000;
  while (sources.length < LOOPS && Date.now() < deadline) await sleep(100);
  if (sources.length < LOOPS) throw new Error(`only ${sources.length} of ${LOOPS} probes connected${rejected.length ? `; refused: ${rejected.join('; ')}` : ''}`);
  // The targets' start (loading, compiling) is over before anything is measured.
  await sleep(STARTUP_MS);

  const targetsCpu = (): number => targets.reduce((a, t) => a + processCpuMs(t.pid!), 0);
  const measure = async (): Promise<{ ownMsPerS: number; targetsMsPerS: number }> => {
    const cpu0 = process.cpuUsage();
    const t0 = targetsCpu();
    const start = performance.now();
    await sleep(WINDOW_MS);
    const elapsed = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    return { ownMsPerS: ((cpu.user + cpu.system) / 1000 / elapsed) * 1000, targetsMsPerS: ((targetsCpu() - t0) / elapsed) * 1000 };
  };

  const rows: { round: number; watch: number; exporting: number; targetsWatch: number; targetsExport: number }[] = [];
  let traffic = '';
  const exportPhase = async (): Promise<{ ownMsPerS: number; targetsMsPerS: number }> => {
    const exporter = await FleetExporter.start(loops, {
      prometheus: { host: '127.0.0.1', port: promPort },
      otlp: otlpSettings(`http://127.0.0.1:${sinkPort}`, {}),
      intervalMs: INTERVAL_MS,
      log: (line) => console.log(`  loopscope: ${line}`),
    });
    await sleep(SETTLE_MS);
    const m = await measure();
    helper.kill('SIGUSR2');
    traffic = (await lineFrom(helper, /\{.*\}/))[0];
    await exporter.shutdown();
    await sleep(SETTLE_MS);
    return m;
  };
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which phase comes first, so that a drift of the machine's load cancels out.
    const [watch, exporting] = round % 2 === 1
      ? [await measure(), await exportPhase()]
      : await exportPhase().then(async (e) => [await measure(), e] as const);
    rows.push({ round, watch: watch.ownMsPerS, exporting: exporting.ownMsPerS, targetsWatch: watch.targetsMsPerS, targetsExport: exporting.targetsMsPerS });
    console.log(`round ${round}: loopscope ${watch.ownMsPerS.toFixed(2)} → ${exporting.ownMsPerS.toFixed(2)} ms/s (export cost ${((exporting.ownMsPerS - watch.ownMsPerS) / 10).toFixed(3)}% of a core); targets ${watch.targetsMsPerS.toFixed(1)} → ${exporting.targetsMsPerS.toFixed(1)} ms/s; receiver and scraper so far: ${traffic}`);
  }
  const costs = rows.map((r) => (r.exporting - r.watch) / 10);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const targetRatio = mean(rows.map((r) => r.targetsExport / r.targetsWatch));
  console.log(`\nexport cost: mean ${mean(costs).toFixed(3)}% of one core (rounds: ${costs.map((x) => x.toFixed(3)).join(', ')}); budget 2%: ${mean(costs) <= 2 ? 'PASS' : 'MISS'}`);
  console.log(`targets' CPU, export/watch: ${targetRatio.toFixed(4)} (the probe is the same in both phases)`);
  if (OUT) {
    mkdirSync(join(OUT, '..'), { recursive: true });
    writeFileSync(OUT, JSON.stringify({ loops: LOOPS, intervalMs: INTERVAL_MS, windowMs: WINDOW_MS, rows, costs, targetRatio, traffic }, null, 2));
  }
}

main().catch((err: unknown) => {
  console.error(`export-cost: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
