// Benchmark 4: wire throughput. Messages/s and bytes/message through
//   encode (probe/wire.ts) → Unix socket → FrameReader + ProbeDecoder (probe/wire.ts)
// for metrics frames (encodeMetrics) and blocked-report frames (encodeBlocked). The writer is
// a worker thread, the reader the main thread, over a real Unix socket in a temp dir. Like the
// probe's worker draining its ring, the writer sends frames in batches of about 64 KB and
// respects the socket's backpressure.
//
// Baseline, measured in the same run: the same bytes, encoded once up front, through the same
// socket to a reader that only counts bytes: what the socket alone can carry. The ratio
// pipeline/baseline says how much of the socket's capacity encoding and decoding leave.
// Also measured in-process, on one thread: encode alone and FrameReader + decode alone.
//
// Bundled by bench/wire-throughput.mjs with esbuild (it needs probe/wire.ts); run that file.

import { createServer, connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type BlockedReport, type MetricsSample, type ProbeMessage } from '../probe/wire';
import { FrameReader } from '../probe/wire-framing';
import { encodeBlocked } from '../probe/wire-json';
import { encodeDictionary, encodeMetrics } from '../probe/wire-binary';
import { ProbeDecoder } from '../probe/wire-decoder';

type Kind = 'metrics' | 'blocked';
/**
 * full:   encode → socket → FrameReader + ProbeDecoder (the pipeline measured)
 * encode: encode → socket → count bytes (where the time goes: the reader's share removed)
 * socket: pre-encoded bytes → socket → count bytes (the baseline: the socket alone)
 */
type Mode = 'full' | 'encode' | 'socket';
const MODES: readonly Mode[] = ['socket', 'encode', 'full'];
interface Phase {
  readonly kind: Kind;
  readonly mode: Mode;
  readonly ms: number;
  readonly socketPath: string;
}
interface WriterDone {
  readonly messages: number;
  readonly bytes: number;
}

const BATCH_BYTES = 64 * 1024;
const RESOURCE_TYPES = ['TCPSocketWrap', 'Timeout', 'FSReqCallback', 'TTYWrap'];

function sample(i: number): MetricsSample {
  const t = 1_000_000 + i * 100_000;
  return {
    timeUs: t, intervalUs: 100_000,
    lag: {
      minUs: 12, meanUs: 340 + (i % 7), p50Us: 210, p90Us: 820, p99Us: 2400, maxUs: 5100 + (i % 13), count: 10, stallMaxUs: 0,
      percentiles: Array.from({ length: 16 }, (_, k) => [k * 6.25, 100 + k * 37 + (i % 5)] as const),
    },
    utilization: 0.42, cpuUserUs: 31_000 + (i % 11), cpuSystemUs: 4_000,
    rssBytes: 80_000_000 + i, heapUsedBytes: 20_000_000 + i, heapTotalBytes: 33_000_000, externalBytes: 1_500_000, arrayBuffersBytes: 90_000, probeMainUs: 30, probeWorkerUs: 100,
    gc: [{ kind: 'minor', startUs: t - 50_000, durationUs: 800 }, { kind: 'incremental', startUs: t - 20_000, durationUs: 300 }],
    resources: RESOURCE_TYPES.map((type, k) => ({ type, count: 1 + k + (i % 3) })),
  };
}
const TYPE_IDS = RESOURCE_TYPES.map((_, k) => k + 1);
const DICTIONARY = encodeDictionary(RESOURCE_TYPES.map((type, k) => [k + 1, type] as const));

function report(i: number): BlockedReport {
  return {
    id: i + 1, state: 'ended', startUs: 5_000_000 + i * 1000, durationUs: 57_000 + (i % 100),
    stack: Array.from({ length: 12 }, (_, k) => ({
      functionName: k === 0 ? 'busyWait' : `handler${k}`,
      url: `file:///srv/app/node_modules/some-framework/lib/layer-${k}.js`,
      lineNumber: 10 + k * 7, columnNumber: 3 + k,
    })),
  };
}

// Messages are built up front (64 distinct ones of each kind, sent round-robin), so that what is
// timed is encoding, not this bench making up objects.
const POOL = 64;
const SAMPLES = Array.from({ length: POOL }, (_, i) => sample(i));
const REPORTS = Array.from({ length: POOL }, (_, i) => report(i));
const encode = (kind: Kind, i: number): Uint8Array =>
  kind === 'metrics' ? encodeMetrics(SAMPLES[i % POOL]!, TYPE_IDS) : encodeBlocked(REPORTS[i % POOL]!);

// ---------------------------------------------------------------------------------------
// Writer (worker thread)

async function runWriter(phase: Phase): Promise<WriterDone> {
  const socket = connect(phase.socketPath);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const write = (bytes: Uint8Array): Promise<void> =>
    socket.write(bytes) ? Promise.resolve() : new Promise((resolve) => socket.once('drain', () => resolve()));
  let bytes = 0;
  if (phase.kind === 'metrics') {
    await write(DICTIONARY);
    bytes += DICTIONARY.byteLength;
  }
  // For the baseline, one batch's worth of frames, encoded once and sent again and again.
  const preEncoded: Uint8Array[] = [];
  if (phase.mode === 'socket') {
    for (let size = 0, i = 0; size < BATCH_BYTES; i++) {
      const f = encode(phase.kind, i);
      preEncoded.push(f);
      size += f.byteLength;
    }
  }
  let messages = 0;
  const end = performance.now() + phase.ms;
  while (performance.now() < end) {
    const batch = Buffer.allocUnsafe(BATCH_BYTES + 4096);
    let at = 0;
    for (let k = 0; at < BATCH_BYTES; k++) {
      const f = phase.mode === 'socket' ? preEncoded[k % preEncoded.length]! : encode(phase.kind, messages);
      if (at + f.byteLength > batch.byteLength) break;
      batch.set(f, at);
      at += f.byteLength;
      messages++;
    }
    bytes += at;
    await write(batch.subarray(0, at));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
  return { messages, bytes };
}

// ---------------------------------------------------------------------------------------
// Reader (main thread)

interface PhaseResult {
  readonly kind: Kind;
  readonly mode: Mode;
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly messagesPerS: number;
  readonly mbPerS: number;
  readonly bytesPerMessage: number;
}

async function runPhase(worker: Worker, dir: string, kind: Kind, mode: Mode, ms: number, n: number): Promise<PhaseResult> {
  const socketPath = join(dir, `wire-${n}.sock`);
  let received = 0;
  let decoded = 0;
  let first = 0;
  let last = 0;
  let check: ProbeMessage | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const server = createServer((socket: Socket) => {
      const reader = new FrameReader();
      const decoder = new ProbeDecoder();
      socket.on('data', (chunk: Buffer) => {
        if (first === 0) first = performance.now();
        received += chunk.byteLength;
        if (mode !== 'full') return;
        try {
          for (const frame of reader.push(chunk)) {
            check = decoder.decode(frame);
            if (check.type === kind) decoded++;
          }
        } catch (err) {
          reject(err);
        }
      });
      socket.on('end', () => {
        last = performance.now();
        server.close();
        resolve();
      });
      socket.on('error', reject);
    });
    server.listen(socketPath, () => worker.postMessage({ kind, mode, ms, socketPath } satisfies Phase));
  });
  const writerDone = new Promise<WriterDone>((resolve) => worker.once('message', resolve));
  const [w] = await Promise.all([writerDone, done]);
  if (received !== w.bytes) throw new Error(`${kind}: the writer sent ${w.bytes} bytes, the reader got ${received}`);
  if (mode === 'full' && decoded !== w.messages) throw new Error(`${kind}: the writer sent ${w.messages} messages, the reader decoded ${decoded}`);
  if (mode === 'full' && check?.type !== kind) throw new Error(`${kind}: the last message decoded as ${check?.type}`);
  const seconds = (last - first) / 1000;
  return {
    kind, mode, messages: w.messages, bytes: w.bytes, seconds,
    messagesPerS: w.messages / seconds, mbPerS: w.bytes / seconds / 1e6, bytesPerMessage: encode(kind, 0).byteLength,
  };
}

/** One thread, no socket: encode alone, then FrameReader + decode alone, for `ms` each. */
function inProcess(kind: Kind, ms: number): { encodePerS: number; decodePerS: number } {
  let n = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 256; k++) encode(kind, n++);
  }
  const encodePerS = n / ((performance.now() - t0) / 1000);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 1024; i++) frames.push(encode(kind, i));
  const chunk = Buffer.concat(frames);
  n = 0;
  t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const reader = new FrameReader();
    const decoder = new ProbeDecoder();
    if (kind === 'metrics') for (const f of reader.push(DICTIONARY)) decoder.decode(f);
    for (const f of reader.push(chunk)) {
      decoder.decode(f);
      n++;
    }
  }
  return { encodePerS, decodePerS: n / ((performance.now() - t0) / 1000) };
}

// ---------------------------------------------------------------------------------------

const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = quick ? 1 : 3;
  const ms = quick ? 500 : 1500;
  const outFile = process.argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  console.log(`\n=== wire throughput: encode → Unix socket → FrameReader + ProbeDecoder ===`);
  console.log(`machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${process.platform} ${process.arch}, Node ${process.version}`);
  console.log(`writer: a worker thread, batches of ~${BATCH_BYTES / 1024} KB with backpressure; reader: the main thread; ${rounds} rounds × ${ms} ms per phase, alternating`);

  const dir = mkdtempSync(join(tmpdir(), 'loopscope-bench-wire-'));
  const worker = new Worker(__filename, { workerData: { wireBenchWriter: true } });
  const results: PhaseResult[] = [];
  try {
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      for (const kind of ['metrics', 'blocked'] as const) {
        const order = r % 2 === 0 ? MODES : [...MODES].reverse();
        for (const mode of order) results.push(await runPhase(worker, dir, kind, mode, ms, n++));
      }
    }
  } finally {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }

  const summary = (['metrics', 'blocked'] as const).map((kind) => {
    const full = results.filter((x) => x.kind === kind && x.mode === 'full');
    const raw = results.filter((x) => x.kind === kind && x.mode === 'socket');
    const encodeOnly = results.filter((x) => x.kind === kind && x.mode === 'encode');
    const ratios = full.map((f, i) => f.messagesPerS / raw[i]!.messagesPerS);
    const local = inProcess(kind, quick ? 300 : 1000);
    return {
      kind,
      bytesPerMessage: full[0]!.bytesPerMessage,
      messagesPerS: median(full.map((x) => x.messagesPerS)),
      minMessagesPerS: Math.min(...full.map((x) => x.messagesPerS)),
      maxMessagesPerS: Math.max(...full.map((x) => x.messagesPerS)),
      mbPerS: median(full.map((x) => x.mbPerS)),
      baselineMessagesPerS: median(raw.map((x) => x.messagesPerS)),
      baselineMbPerS: median(raw.map((x) => x.mbPerS)),
      encodeSocketMessagesPerS: median(encodeOnly.map((x) => x.messagesPerS)),
      ratio: median(ratios),
      minRatio: Math.min(...ratios),
      maxRatio: Math.max(...ratios),
      encodeOnlyPerS: local.encodePerS,
      decodeOnlyPerS: local.decodePerS,
    };
  });

  console.log('');
  const header = ['frames', 'bytes/msg', 'pipeline msgs/s', 'min', 'max', 'MB/s', 'socket-only msgs/s', 'MB/s', 'pipeline/socket-only',
    'encode→socket msgs/s', '1 thread: encode', 'read+decode'];
  const rows = summary.map((s) => [
    s.kind, fmt(s.bytesPerMessage), fmt(s.messagesPerS), fmt(s.minMessagesPerS), fmt(s.maxMessagesPerS), fmt(s.mbPerS, 1),
    fmt(s.baselineMessagesPerS), fmt(s.baselineMbPerS, 1), `${s.ratio.toFixed(3)} (${s.minRatio.toFixed(3)}–${s.maxRatio.toFixed(3)})`,
    fmt(s.encodeSocketMessagesPerS), fmt(s.encodeOnlyPerS), fmt(s.decodeOnlyPerS),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('(a metrics frame at the default 100 ms interval is 10 messages/s per target; the budget of ≥ 1,000,000 events/s is for tasks-mode lifecycle events, not measured here)');

  if (outFile) {
    mkdirSync(join(outFile, '..'), { recursive: true });
    writeFileSync(outFile, JSON.stringify({
      name: 'wire-throughput', at: new Date().toISOString(),
      machine: { node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown' },
      rounds, phaseMs: ms, batchBytes: BATCH_BYTES, summary, phases: results,
    }, null, 2) + '\n');
    console.log(`raw results: ${outFile}`);
  }
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else if ((workerData as { wireBenchWriter?: boolean } | undefined)?.wireBenchWriter) {
  const port = parentPort!;
  port.on('message', (phase: Phase) => {
    runWriter(phase).then((done) => port.postMessage(done), (err: unknown) => {
      throw err;
    });
  });
}
