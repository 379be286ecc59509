// Recordings read, or started, midway. A live recording's keyframes hold what its frames so far
// defined, so that a seek decodes what follows. A recording started mid-session (the window's
// record button, --record-dir) starts with what the loop's earlier frames defined. Loops held
// for the launched program's own (`run --record`, following): their frames are kept until the
// program's loop opens the file, then written in the order and at the times they came; what is
// held is bounded, and past the bound the file still decodes, with the loop's later frames.
// Real targets over a real socket.

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from '../main/launch/launch';
import { probePath } from '../main/launch/probe-path';
import { startProbeServer } from '../main/server/probe-server';
import { LiveSource } from '../main/session/live-source';
import { HeldFrames } from '../main/recording/held-frames';
import { SessionRecorder } from '../main/recording/session-recorder';
import { RecordingWriter } from '../main/recording/recording-writer';
import { RecordingReader } from '../main/recording/recording-reader';
import { summarizeRecording } from '../main/reports/recording-summary';
import { RecordingPlayer } from '../main/replay/recording-player';
import { summarize } from '../main/reports/summary';
import { HEADER_BYTES, MessageType } from '../probe/wire';
import { FIXTURES } from './helpers/probe-harness';

const dir = mkdtempSync(join(tmpdir(), 'loopscope-midway-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Two blocking programs: the first is held (as a child that said hello before the program),
 * the second, started `rootAfterMs` later, is the program; the file is made when it comes.
 */
async function heldThenRoot(maxHeldBytes: number, file: string) {
  const server = await startProbeServer();
  const writer = RecordingWriter.create(file);
  const held = new HeldFrames(maxHeldBytes);
  const sources: LiveSource[] = [];
  let recorder: SessionRecorder | undefined;
  let released: ReturnType<HeldFrames['release']> | undefined;
  server.onConnection((connection) => {
    const source = new LiveSource(connection);
    sources.push(source);
    if (sources.length === 1) return held.hold(source);
    released = held.release();
    recorder = SessionRecorder.withHeld(writer, source, released);
  });
  const start = (env: Record<string, string>) => launch({
    command: process.execPath, args: [join(FIXTURES, 'blocker.js')], probeFile: probePath(), socketPath: server.address, token: server.issueToken(),
    config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = (child: ReturnType<typeof launch>) => new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The held one blocks three times before the program comes, and seven times after; from
  // 0.8 s, while it is held, it has a TCP server, a kind of resource named then, once.
  const first = start({ BLOCK_MS: '80', PERIOD_MS: '300', COUNT: '10', LISTEN_AT_MS: '800' });
  await new Promise((r) => setTimeout(r, 1100));
  const root = start({ BLOCK_MS: '80', PERIOD_MS: '300', COUNT: '3' });
  await Promise.all([exited(first), exited(root)]);
  await Promise.all(sources.map((s) => s.whenClosed(2000)));
  await server.close();
  await recorder!.stop();
  return { sources, released: released!, live: sources.map((s) => summarize(s, { durationMs: 0, exitCode: null, warnings: [] })) };
}

describe('a live recording read from a keyframe in its middle', () => {
  it('decodes the CPU samples after it: the keyframe holds the profile\'s nodes so far', async () => {
    const file = join(dir, 'keyframes.lsrec');
    const server = await startProbeServer();
    // A keyframe every 15 frames: several in a few seconds.
    const writer = RecordingWriter.create(file, { keyframeMaxFrames: 15 });
    let recorder: SessionRecorder | undefined;
    server.onConnection((connection) => void (recorder = SessionRecorder.into(writer, new LiveSource(connection))));
    const child = launch({
      command: process.execPath, args: [join(FIXTURES, 'blocker.js')], probeFile: probePath(), socketPath: server.address, token: server.issueToken(),
      config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, BLOCK_MS: '80', PERIOD_MS: '300', COUNT: '12' },
    });
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await server.close();
    await recorder!.stop();
    const reader = RecordingReader.open(file);
    const player = new RecordingPlayer(reader, { recentSamples: 0 });
    let samples = 0;
    player.feed.onMessage((m) => {
      if (m.type === 'profileSamples') samples++;
    });
    // Past the first harvests, so that the keyframe it starts from has profile nodes to hold.
    const middle = reader.info.firstMs + (reader.info.endMs - reader.info.firstMs) / 2;
    player.seek(middle);
    player.advanceTo(Infinity);
    reader.close();
    expect(player.warnings).toEqual([]);
    expect(samples).toBeGreaterThan(0);
  }, 30_000);
});

describe('a recording started mid-session', () => {
  it('decodes every frame: the CPU profile\'s nodes sent before it are written with its hello', async () => {
    const file = join(dir, 'midway.lsrec');
    const server = await startProbeServer();
    let source: LiveSource | undefined;
    server.onConnection((connection) => void (source = new LiveSource(connection)));
    const child = launch({
      command: process.execPath, args: [join(FIXTURES, 'blocker.js')], probeFile: probePath(), socketPath: server.address, token: server.issueToken(),
      config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, BLOCK_MS: '80', PERIOD_MS: '300', COUNT: '12' },
    });
    // After a harvest of the sampler or two (each sends only the nodes new to it).
    await expect.poll(() => source?.feed.profileDictionary, { timeout: 10_000 }).toBeDefined();
    await new Promise((r) => setTimeout(r, 500));
    const recorder = SessionRecorder.start(file, source!);
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await source!.whenClosed(2000);
    await server.close();
    await recorder.stop();
    const reader = RecordingReader.open(file);
    const { summary } = summarizeRecording(reader);
    reader.close();
    expect(summary.warnings).toEqual([]);
    expect(summary.profile!.samples).toBeGreaterThan(10);
    expect(summary.profile!.top.some((f) => f.functionName === 'blockFor')).toBe(true);
  }, 30_000);
});

describe('loops held for the program\'s own, recorded', () => {
  it('from their hello: the file has what the live session has, the program as loop 0', async () => {
    const file = join(dir, 'held.lsrec');
    const { sources, released, live } = await heldThenRoot(32 * 1024 * 1024, file);
    expect(released.dropped.size).toBe(0);
    expect(released.frames.some((f) => f.message.type === 'blocked')).toBe(true);
    const reader = RecordingReader.open(file);
    // At the times they came: the held loop's first frames are a second before the program's.
    const firstMs = new Map<number, number>();
    const player = new RecordingPlayer(reader, { recentSamples: 0 });
    player.onFrame((f) => {
      if (f.type !== MessageType.Hello && !firstMs.has(f.loop)) firstMs.set(f.loop, f.timeMs);
    });
    player.advanceTo(Infinity);
    expect(firstMs.get(0)! - firstMs.get(1)!).toBeGreaterThan(500);
    const { summary } = summarizeRecording(reader);
    reader.close();
    expect(summary.loops.map((l) => l.pid)).toEqual([sources[1]!.hello.pid, sources[0]!.hello.pid]);
    // The held loop's blocks, the three before the program came among them.
    expect(live[0]!.blockedCount).toBeGreaterThanOrEqual(3);
    expect(summary.loops[1]!.blockedCount).toBe(live[0]!.blockedCount);
    expect(summary.loops[1]!.blocked).toEqual(live[0]!.blocked);
    expect(summary.loops[1]!.lag).toEqual(live[0]!.lag);
  }, 30_000);

  it('past the bound: what came first is kept, the rest counted, and the loop\'s later frames decode', async () => {
    const file = join(dir, 'bounded.lsrec');
    const { released, live } = await heldThenRoot(1024, file);
    const kept = released.frames.reduce((n, f) => n + HEADER_BYTES + f.raw.payload.byteLength, 0);
    expect(kept).toBeLessThanOrEqual(1024);
    expect([...released.dropped.values()][0]).toBeGreaterThan(0);
    // The server's kind of resource was named in a frame left out…
    const names = released.frames.flatMap((f) => (f.message.type === 'dictionary' ? f.message.entries.map(([, name]) => name) : []));
    expect(names).not.toContain('TCPServerWrap');
    const reader = RecordingReader.open(file);
    expect(reader.complete).toBe(true);
    const player = new RecordingPlayer(reader, { recentSamples: 0 });
    const types = new Set<string>();
    let samples = 0;
    player.onLoop((loop, feed) => {
      if (loop === 1) feed.onMessage((m) => {
        if (m.type !== 'metrics') return;
        samples++;
        for (const r of m.sample.resources) types.add(r.type);
      });
    });
    player.advanceTo(Infinity);
    // …and the samples that count it decode, from the dictionary written with the loop.
    expect(player.warnings).toEqual([]);
    expect(types).toContain('TCPServerWrap');
    expect(samples).toBeGreaterThan(3);
    expect(samples).toBeLessThan(live[0]!.samples);
    const { summary } = summarizeRecording(reader);
    reader.close();
    expect(summary.warnings).toEqual([]);
    expect(summary.loops[1]!.blocked.some((b) => b.stack.some((f) => f.functionName === 'blockFor' && f.lineNumber === 14))).toBe(true);
  }, 30_000);
});
