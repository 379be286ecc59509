// Recording real runs: a real target with the real probe, over a real socket, teed into the
// recorder exactly as `run --record` does; then the file is summarized, exported and replayed,
// and must tell the same story as the live session.

import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from '../main/launch/launch';
import { probePath } from '../main/launch/probe-path';
import { startProbeServer } from '../main/server/probe-server';
import { LiveSource } from '../main/session/live-source';
import { SessionRecorder } from '../main/recording/session-recorder';
import { summarize, type Summary } from '../main/reports/summary';
import { RecordingWriter } from '../main/recording/recording-writer';
import { RecordingReader } from '../main/recording/recording-reader';
import { summarizeRecording } from '../main/reports/recording-summary';
import { ReplaySession } from '../main/replay/replay-session';
import type { ProbeConfig } from '../probe/wire';
import { FIXTURES, REPO } from './helpers/probe-harness';
import { loopscope } from './helpers/cli';
import { perfettoView } from './helpers/recording-trace-check';

const dir = mkdtempSync(join(tmpdir(), 'loopscope-rec-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What `run --record` does: a live source and a recorder of it. */
async function recordRun(fixture: string, file: string, config: Partial<ProbeConfig>, env: Record<string, string> = {}, kill = false) {
  const server = await startProbeServer();
  const writer = RecordingWriter.create(file);
  let session: LiveSource | undefined;
  let recorder: SessionRecorder | undefined;
  server.onConnection((connection) => {
    session = new LiveSource(connection);
    recorder = SessionRecorder.into(writer, session);
  });
  const child = launch({
    command: process.execPath, args: [join(FIXTURES, fixture)], probeFile: probePath(), socketPath: server.address, token: server.issueToken(),
    config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50, ...config }, stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
  if (kill) setTimeout(() => child.kill('SIGKILL'), 1500);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  await session?.whenClosed(2000);
  await server.close();
  const warnings = session?.closeError ? [`lost the probe: ${session.closeError}`] : [];
  await recorder!.stop({ exitCode: code, warnings });
  const live = summarize(session!, { durationMs: Date.now() - session!.connectedAtMs, exitCode: code, warnings });
  return { live, writer };
}


/** The live summary and the file's agree on everything but the wall-clock duration. */
function expectSameStory(fromFile: Summary, live: Summary): void {
  const { durationMs: a, ...restFile } = fromFile;
  const { durationMs: b, ...restLive } = live;
  expect(restFile).toEqual(restLive);
  expect(Math.abs(a - b)).toBeLessThan(1500);
}

describe('recording a real run', () => {
  const file = join(dir, 'blocker.rec');
  let live: Summary;

  it('records every frame, and the file tells the same story as the live session', async () => {
    ({ live } = await recordRun('blocker.js', file, {}, { BLOCK_MS: '80', PERIOD_MS: '250', COUNT: '4', EXIT_CODE: '3' }));
    // Four blocks of 80 ms; on a loaded machine the probe may see one fewer over its threshold.
    expect(live.blockedCount).toBeGreaterThanOrEqual(3);
    const reader = RecordingReader.open(file);
    expect(reader.complete).toBe(true);
    expect(reader.warnings).toEqual([]);
    const r = summarizeRecording(reader);
    expectSameStory(r.summary, live);
    expect(r.summary.exitCode).toBe(3);
    // Grouped by stack: every block, the most blocked time in blockFor (a stack taken at
    // another moment of the same block may differ, on a loaded machine).
    expect(r.summary.blockedGroups.reduce((n, g) => n + g.count, 0)).toBe(live.blockedCount);
    expect(r.summary.blockedGroups[0]!.stack.some((f) => f.functionName === 'blockFor' && f.lineNumber === 14)).toBe(true);
    expect(r.worst!.lagMaxUs).toBeGreaterThan(70_000);
    reader.close();
  });

  it('`loopscope summary` prints the same JSON as the live --json run, and a readable report', async () => {
    const json = await loopscope(['summary', '--json', file]);
    expect(json.code).toBe(0);
    expectSameStory(JSON.parse(json.stdout) as Summary, live);
    const text = await loopscope(['summary', file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/lag\s+p50 .* p99 .* max/);
    expect(text.stdout).toMatch(/\d× .* in all[\s\S]*at blockFor \(.*blocker\.js:14[:)]/);
  });

  it('`loopscope export` writes a Chrome trace with counters, GC and blocked slices', async () => {
    const out = join(dir, 'trace.json');
    const r = await loopscope(['export', file, '--format', 'chrome-trace', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('open it in');
    // Read as Perfetto's importer reads it (see the helper): what its tables would hold.
    const view = perfettoView(readFileSync(out, 'utf8'));
    expect(view.problems).toEqual([]);
    expect(view.processName).toMatch(/^node .*blocker\.js$/);
    // The CPU samples, every one the live session had, the busy wait among them (in blockFor,
    // or in the performance.now it spins on).
    expect(view.samples).toHaveLength(live.profile!.samples);
    expect(view.samples.filter((f) => f === 'blockFor' || f === 'now').length).toBeGreaterThan(3);
    for (const c of ['lag p99 ms', 'event loop utilization (%) utilization', 'heap used MB']) expect(view.counters.get(c)).toHaveLength(live.samples);
    const blocked = view.slices.filter((x) => x.thread === 'event loop blocked');
    expect(blocked).toHaveLength(live.blockedCount);
    expect(blocked.every((b) => b.name === 'event loop blocked' && b.depth === 0)).toBe(true);
    // A line found from the samples has no column.
    expect(blocked.some((b) => (b.args['stack'] as string[]).some((f) => /^blockFor \(.*blocker\.js:14(:\d+)?\)$/.test(f))), JSON.stringify(blocked.map((b) => b.args))).toBe(true);
  });

  it('`loopscope replay` shows the live view in a terminal, and quits on q', async () => {
    // `script` gives the command a pseudo-terminal, as a user's terminal would.
    const command = `stty cols 120 rows 30; ${process.execPath} ${join(REPO, 'bin', 'loopscope.js')} replay ${file} --paused --from 1`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    await new Promise((r) => setTimeout(r, 1500));
    child.stdin.write('.');
    await new Promise((r) => setTimeout(r, 300));
    child.stdin.write('q');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(screen).toContain(`pid ${live.pid}`);
    expect(screen).toMatch(/⏸ 1× 00:01\.\d \/ \d\d:\d\d\.\d/);
    expect(screen).toMatch(/lag\s+p50/);
  });

  it('replays to the same state as live, seeking and stepping', () => {
    const replay = ReplaySession.open(file);
    replay.seek(replay.endMs);
    const end = summarize(replay, { durationMs: 0, exitCode: 3, warnings: [] });
    expect(end.blockedCount).toBe(live.blockedCount);
    expect(end.samples).toBe(live.samples);
    replay.seek(replay.startMs);
    expect(replay.state.totals.samples).toBe(0);
    expect(replay.state.hello?.pid).toBe(live.pid);
    // A step applies frames up to one that changes what a view shows.
    const before = replay.state;
    replay.step();
    expect(replay.state).not.toBe(before);
    replay.close();
  });
});

describe('recording other modes and endings', () => {
  it('tasks mode: the thread-pool saturation survives the round trip', async () => {
    const file = join(dir, 'pool.rec');
    const { live } = await recordRun('pool-saturation.js', file, { mode: 'tasks' });
    expect(live.tasks?.threadpool.saturated).toBe(true);
    const reader = RecordingReader.open(file);
    expectSameStory(summarizeRecording(reader).summary, live);
    reader.close();
    const text = await loopscope(['summary', file]);
    expect(text.stdout).toContain('thread pool');
  });

  it('trace mode: callbacks are exported as slices with their async ids', async () => {
    const file = join(dir, 'trace.rec');
    const { live } = await recordRun('http-request.js', file, { mode: 'trace' });
    expect(live.traceEvents).toBeGreaterThan(0);
    const reader = RecordingReader.open(file);
    expectSameStory(summarizeRecording(reader).summary, live);
    reader.close();
    const out = join(dir, 'callbacks.json');
    expect((await loopscope(['export', file, '-o', out])).code).toBe(0);
    const view = perfettoView(readFileSync(out, 'utf8'));
    expect(view.problems).toEqual([]);
    const callbacks = view.slices.filter((x) => x.thread === 'main thread: callbacks');
    expect(callbacks.length).toBeGreaterThan(0);
    expect(typeof callbacks[0]!.args['asyncId']).toBe('number');
  });

  it('a target killed with SIGKILL mid-recording leaves a complete, readable file', async () => {
    const file = join(dir, 'killed-target.rec');
    const { live } = await recordRun('idle.js', file, {}, { RUN_MS: '60000' }, true);
    const reader = RecordingReader.open(file);
    const r = summarizeRecording(reader);
    expect(r.summary.samples).toBe(live.samples);
    expect(r.summary.samples).toBeGreaterThan(5);
    reader.close();
  });
});
