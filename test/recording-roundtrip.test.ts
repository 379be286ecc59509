// Writing and reading recordings: every frame comes back in order, seeking anywhere gives the
// state that reducing from the start gives, a file can be read while it is written, and a
// recorder killed with SIGKILL loses at most about a second.

import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { RecordingWriter, type RecordingWriterOptions } from '../main/recording/recording-writer';
import { FrameCursor, RecordingReader } from '../main/recording/recording-reader';
import { RecordingPlayer, SEEK_TRACE_EVENTS } from '../main/replay/recording-player';
import { ReplaySession } from '../main/replay/replay-session';
import { summarizeRecording } from '../main/reports/recording-summary';
import { ChunkKind, FILE_HEADER_BYTES } from '../main/recording/format';
import { applyMessage, initialSessionState, type SessionState } from '../main/session/session-state';
import { RECENT_SAMPLES } from '../main/session/sample-ring';
import { MessageType, TaskEventKind, type MessageTypeId, type MetricsSample } from '../probe/wire';
import { encodeDictionary, encodeTaskEvents } from '../probe/wire-binary';
import { ProbeDecoder } from '../probe/wire-decoder';
import { exportCommand } from '../main/cli/export-command';
import { TraceModel } from '../main/session/trace-model';
import { FIXTURES, REPO } from './helpers/probe-harness';
import { syntheticHello, syntheticSession, taskEventBatch, toRaw, type TimedFrame } from './helpers/recording-synthetic';
import { perfettoView } from './helpers/recording-trace-check';

const dir = mkdtempSync(join(tmpdir(), 'loopscope-rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hello = { ...syntheticHello, token: '' };

/** Records `frames` (times relative to the recorder's start) and closes the file. */
async function record(name: string, frames: readonly TimedFrame[], options: RecordingWriterOptions = {}): Promise<string> {
  const file = join(dir, name);
  const writer = RecordingWriter.create(file, options);
  const t0 = Date.now();
  writer.start(syntheticHello, t0);
  for (const f of frames) writer.write(f.raw, t0 + f.atMs);
  await writer.close({ exitCode: 0, warnings: [] });
  return file;
}

/** What reducing every frame from the start gives, up to frame `lastIndex`: the state and the samples the views keep. */
function foldUntil(frames: readonly TimedFrame[], lastIndex: number): { state: SessionState; recent: MetricsSample[] } {
  const decoder = new ProbeDecoder();
  let state = applyMessage(initialSessionState, { type: 'hello', hello });
  const recent: MetricsSample[] = [];
  for (let i = 0; i <= lastIndex; i++) {
    try {
      const m = decoder.decode(frames[i]!.raw);
      state = applyMessage(state, m);
      if (m.type === 'metrics') recent.push(m.sample);
    } catch {
      // undecodable frames change nothing, live or replayed
    }
  }
  return { state, recent: recent.slice(-RECENT_SAMPLES) };
}

/** The player holds exactly what reducing from the start gives. */
function expectFolded(player: RecordingPlayer, frames: readonly TimedFrame[], lastIndex: number): void {
  const folded = foldUntil(frames, lastIndex);
  expect(player.state).toEqual(folded.state);
  expect(player.recent.slice()).toEqual(folded.recent);
}

describe('round trip', () => {
  const frames = syntheticSession(3000);
  // Bulk frames of a type this loopscope does not know, interleaved: stored opaquely.
  const mixed = frames.flatMap((f, i) => (i % 7 === 3 ? [f, { raw: { type: 99 as MessageTypeId, payload: Uint8Array.from({ length: 300 + i }, (_, j) => (i + j) & 0xff) }, atMs: f.atMs }] : [f]));

  it('gives back every frame, byte for byte, in order, across lanes', async () => {
    const file = await record('mixed.rec', mixed, { keyframeMaxFrames: 500 });
    const reader = RecordingReader.open(file);
    expect(reader.complete).toBe(true);
    expect(reader.info.frames).toBe(mixed.length + 1);
    expect(reader.keyframes.length).toBeGreaterThan(5);
    const cursor = new FrameCursor(reader, FILE_HEADER_BYTES);
    const hello = cursor.next()!;
    expect(hello).toMatchObject({ seq: 0, type: 1 });
    expect(new TextDecoder().decode(hello.payload)).not.toContain('secret-token');
    for (let i = 0; i < mixed.length; i++) {
      const f = cursor.next()!;
      expect(f.seq).toBe(i + 1);
      expect(f.type).toBe(mixed[i]!.raw.type);
      expect(Buffer.from(f.payload).equals(Buffer.from(mixed[i]!.raw.payload))).toBe(true);
    }
    expect(cursor.next()).toBeUndefined();
    const player = new RecordingPlayer(reader);
    player.advanceTo(reader.info.endMs);
    expect(player.warnings).toEqual([expect.stringMatching(/^\d+ type 99 frames could not be decoded/)]);
    reader.close();
  });

  // Heavy bulk data between samples (as in trace mode): `recent` is kept in samples chunks, and
  // after 4 blocks of 300 in a snapshot of all of it.
  const heavy = frames.slice(0, 1800).flatMap((f) => [f, { raw: { type: 98 as MessageTypeId, payload: new Uint8Array(randomBytes(15_000)) }, atMs: f.atMs }]);

  it.each([
    // Few large chunks: `recent` is read from ranges of frames chunks.
    ['light bulk', 'seek.rec', mixed, {}, { blocks: 0, snapshots: 0 }],
    ['heavy bulk', 'heavy.rec', heavy, {}, { blocks: 4, snapshots: 1 }],
    // Chunks of a few samples, as metrics mode's 500 ms flush writes them: each full block of
    // 300 samples is copied, so that a seek does not inflate a thousand small chunks.
    ['small chunks', 'small.rec', mixed, { chunkBytes: 1500 }, { blocks: 10, snapshots: 0 }],
  ] as const)('seeks anywhere, forward and back, to the state that reducing from the start gives (%s)', async (_what, name, mixed, options, copies) => {
    const file = await record(name, mixed, { keyframeMaxFrames: 400, ...options });
    const reader = RecordingReader.open(file);
    // Samples chunks of whole blocks, and snapshots (more than a block); keyframes' partial
    // blocks are copied too when spread over many bytes.
    const samplesChunks: number[] = [];
    for (let at: number = FILE_HEADER_BYTES, c = reader.locate(at); c.kind === 'chunk'; at = c.chunk.end, c = reader.locate(at)) {
      if (c.chunk.header.kind === ChunkKind.samples) samplesChunks.push(c.chunk.header.frameCount);
    }
    expect(samplesChunks.filter((n) => n === 300)).toHaveLength(copies.blocks);
    expect(samplesChunks.filter((n) => n > 300)).toHaveLength(copies.snapshots);
    const player = new RecordingPlayer(reader);
    // Frame times as the file holds them (the writer's clock, shifted a little from t0).
    const times: number[] = [];
    const cursor = new FrameCursor(reader, FILE_HEADER_BYTES);
    const helloMs = cursor.next()!.timeMs;
    for (let f = cursor.next(); f; f = cursor.next()) times.push(f.timeMs);
    for (const t of [150_000, 20_000, 20_050, 299_999, helloMs, 77_777, 250_000, 1e9, 100]) {
      player.seek(t);
      let last = -1;
      while (last + 1 < times.length && times[last + 1]! <= t) last++;
      expectFolded(player, mixed, last);
    }
    reader.close();
  });

  it('seeks past the 6000 samples the state keeps, to the exact state', async () => {
    const long = syntheticSession(6300);
    const file = await record('long.rec', long, { keyframeMaxFrames: 400 });
    const reader = RecordingReader.open(file);
    const player = new RecordingPlayer(reader);
    for (const t of [625_050, 601_050, 100_050]) {
      player.seek(t);
      let last = -1;
      while (last + 1 < long.length && long[last + 1]!.atMs <= t - 50) last++;
      expectFolded(player, long, last);
    }
    expect(player.recent.length).toBeLessThan(6000);
    player.seek(625_050);
    expect(player.recent).toHaveLength(6000);
    reader.close();
  });

  it('seeks through trace data feeding the trace model only the newest batches, to the exact state', async () => {
    // 30 batches of 4096 events between samples, and a keyframe only at the end: a seek into
    // the middle reduces every frame from the start.
    const traced = frames.slice(0, 300).flatMap((f, i) => (i % 10 === 5 ? [f, { raw: taskEventBatch(1000 + i * 1000, f.atMs * 1000), atMs: f.atMs }] : [f]));
    const file = await record('traced.rec', traced, { keyframeMaxFrames: 1e9, keyframeMaxBytes: 1e12, keyframeIntervalMs: 1e12 });
    const reader = RecordingReader.open(file);
    const batches = traced.filter((f) => f.raw.type === MessageType.TaskEvents);
    const player = new RecordingPlayer(reader);
    // Half-way to the next sample (frame times in the file are shifted by a few ms at most).
    player.seek(batches[20]!.atMs + 50);
    let last = traced.indexOf(batches[20]!);
    while (last + 1 < traced.length && traced[last + 1]!.atMs <= batches[20]!.atMs) last++;
    expectFolded(player, traced, last);
    expect(player.state.traceEvents).toBe(21 * 4096);
    // The model holds the newest batches that make SEEK_TRACE_EVENTS, as if fed only those.
    const kept = Math.ceil(SEEK_TRACE_EVENTS / 4096);
    const expected = new TraceModel();
    const decoder = new ProbeDecoder();
    decoder.decode(traced[0]!.raw);
    for (const b of batches.slice(21 - kept, 21)) {
      const m = decoder.decode(b.raw);
      if (m.type === 'taskEvents') expected.apply(m.batch);
    }
    expect(player.trace.events).toBe(kept * 4096);
    expect(player.trace.turns).toEqual(expected.turns);
    expect(player.trace.resources).toEqual(expected.resources);
    // Playing on feeds it every batch again.
    player.advanceTo(batches[22]!.atMs + 50);
    expect(player.trace.events).toBe((kept + 2) * 4096);
    reader.close();
  });

  it('exports a Chrome trace that Perfetto\'s importer reads as meant', async () => {
    // A type name with characters a trace must not carry raw, and callbacks nested at one start.
    const k = TaskEventKind;
    const kinds = Uint8Array.from([k.init, k.init, k.before, k.before, k.after, k.after]);
    const batch = toRaw(encodeTaskEvents(6, kinds, Float64Array.from([7, 8, 7, 8, 8, 7]), Float64Array.from([1, 7, 0, 0, 0, 0]),
      Float64Array.from([100, 101, 110, 110, 115, 130]), Uint16Array.from([3, 1, 0, 0, 0, 0])));
    const traced = [
      ...frames.slice(0, 400), { raw: toRaw(encodeDictionary([[3, 'odd\u007ftype\ud800']])), atMs: 40_001 }, { raw: batch, atMs: 40_002 },
    ];
    const file = await record('export.rec', traced);
    const out = join(dir, 'export.json');
    expect(await exportCommand([file, '-o', out])).toBe(0);
    const view = perfettoView(readFileSync(out, 'utf8'));
    expect(view.problems).toEqual([]);
    expect(view.processName).toBe('node /srv/app.js');
    const samples = traced.filter((f) => f.raw.type === MessageType.Metrics).length;
    expect(view.counters.get('lag p99 ms')).toHaveLength(samples);
    expect(view.counters.get('heap used MB')).toHaveLength(samples);
    const on = (thread: string) => view.slices.filter((x) => x.thread === thread).map((x) => [x.name, x.depth]);
    expect(on('event loop blocked')).toHaveLength(traced.filter((f) => f.raw.type === MessageType.Blocked).length / 2);
    expect(on('GC').length).toBeGreaterThan(0);
    // The control character is a space from the decoder on; the lone surrogate the export replaces.
    expect(on('main thread: callbacks')).toEqual([['odd type\ufffd', 0], ['Timeout', 1]]);
  });

  it('steps one change at a time and replays at speed with a fake clock', async () => {
    const file = await record('step.rec', frames.slice(0, 400));
    let now = 0;
    const replay = new ReplaySession(RecordingReader.open(file), { now: () => now });
    expect(replay.state.hello?.pid).toBe(4242);
    // The first step passes over the dictionary frame (it changes nothing shown) to a sample.
    replay.step();
    expect(replay.state.totals.samples).toBe(1);
    replay.step();
    expect(replay.state.totals.samples).toBe(2);
    replay.setSpeed(4);
    replay.play();
    now += 2500;
    replay.tick();
    // 2.5 s at 4× is 10 s of recording: about 100 samples of 100 ms.
    expect(replay.state.totals.samples).toBeGreaterThan(90);
    expect(replay.state.totals.samples).toBeLessThan(110);
    now += 60_000;
    replay.tick();
    expect(replay.playing).toBe(false);
    expect(replay.state.totals.samples).toBe(frames.slice(0, 400).filter((f) => f.raw.type === 2).length);
    replay.close();
  });

  it('summarizes the same from one keyframe at the end or from many', async () => {
    const few = await record('few.rec', frames, { keyframeMaxFrames: 1e9, keyframeMaxBytes: 1e12, keyframeIntervalMs: 1e12 });
    const many = await record('many.rec', frames, { keyframeMaxFrames: 100 });
    const a = RecordingReader.open(few);
    const b = RecordingReader.open(many);
    expect(a.keyframes).toHaveLength(1);
    const sa = summarizeRecording(a).summary;
    const sb = summarizeRecording(b).summary;
    expect({ ...sa, durationMs: 0 }).toEqual({ ...sb, durationMs: 0 });
    expect(sa).toMatchObject({ samples: 3000, blockedCount: 60, exitCode: 0, pid: 4242 });
    a.close();
    b.close();
  });
});

describe('durability', () => {
  it('can be read while it is still being written, and follows it as it grows', async () => {
    const file = join(dir, 'growing.rec');
    const writer = RecordingWriter.create(file, { flushIntervalMs: 20 });
    const t0 = Date.now();
    writer.start(syntheticHello, t0);
    const frames = syntheticSession(300);
    for (const f of frames.slice(0, 100)) writer.write(f.raw, t0 + f.atMs);
    await new Promise((r) => setTimeout(r, 150));
    const reader = RecordingReader.open(file);
    expect(reader.complete).toBe(false);
    expect(reader.info.frames).toBe(101);
    expect(reader.warnings.join()).toContain('not closed cleanly');
    for (const f of frames.slice(100)) writer.write(f.raw, t0 + f.atMs);
    await new Promise((r) => setTimeout(r, 150));
    expect(reader.refresh()).toBe(true);
    expect(reader.info.frames).toBe(frames.length + 1);
    await writer.close();
    reader.refresh();
    expect(reader.complete).toBe(true);
    expect(summarizeRecording(reader).summary.samples).toBe(300);
    reader.close();
  });

  it('loses at most about a second when the recorder is killed with SIGKILL', async () => {
    const bundle = join(dir, 'recording.cjs');
    await build({
      stdin: { contents: "export * from './main/recording/recording-writer'; export * from './test/helpers/recording-synthetic';", resolveDir: REPO, loader: 'ts' },
      bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'warning',
    });
    const file = join(dir, 'killed.rec');
    const child = spawn(process.execPath, [join(FIXTURES, 'recording-writer.js')], { env: { ...process.env, RECORDING_BUNDLE: bundle, RECORDING_FILE: file }, stdio: ['ignore', 'pipe', 'inherit'] });
    let handed = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (handed = Number(d.trim().split('\n').pop())));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (handed >= 150) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await new Promise((r) => child.once('exit', r));
    const reader = RecordingReader.open(file);
    expect(reader.complete).toBe(false);
    // One frame every 10 ms: a second is 100 frames (plus what was in the pipe of stdout).
    expect(reader.info.frames).toBeGreaterThan(handed - 110);
    const s = summarizeRecording(reader);
    expect(s.summary.pid).toBe(4242);
    expect(s.summary.warnings.join()).toContain('not closed cleanly');
    reader.close();
  });
});
