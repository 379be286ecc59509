// Recordings hold every loop: a `run --record` of a launcher whose child has a worker that
// blocks, then `summary` and `export` of the file, with the real CLI. And a recording of the
// format before loops (version 1, made by that writer) still opens, summarizes, replays and
// exports.

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './helpers/probe-harness';
import { loopscope } from './helpers/cli';
import { perfettoView } from './helpers/recording-trace-check';
import { userFrames } from '../main/common/format';
import type { LoopSummary, Summary } from '../main/reports/summary';
import { RecordingReader } from '../main/recording/recording-reader';
import { RecordingPlayer } from '../main/replay/recording-player';

const dir = mkdtempSync(join(tmpdir(), 'loopscope-loops-rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const culprits = (loop: LoopSummary): string[] => loop.blocked.flatMap((b) => userFrames(b.stack).slice(0, 1).map((f) => `${f.functionName}:${f.lineNumber}`));

interface RawEvent { name: string; ph: string; pid: number; tid: number; args?: { name?: string } }

describe('a recording of every loop', () => {
  it('run --record: summary names the worker\'s blocking function in its loop, and export gives each loop its own tracks', async () => {
    const file = join(dir, 'loops.lsrec');
    const run = await loopscope(['run', '--json', '--record', file, '--', process.execPath, join(FIXTURES, 'launcher.js')],
      { APP: 'worker-blocker.js', WORKERS: '1', COUNT: '3', WORKER_EXIT: '4' });
    expect(run.code).toBe(0);
    const live = JSON.parse(run.stdout) as Summary;
    expect(live.loops).toHaveLength(3);

    const s = await loopscope(['summary', '--json', file]);
    expect(s.code).toBe(0);
    const summary = JSON.parse(s.stdout) as Summary;
    // launcher, its child (worker-blocker.js's main thread), the child's worker
    expect(summary.loops.map((l) => ({ pid: l.pid, threadId: l.threadId, name: l.name }))).toEqual(live.loops.map((l) => ({ pid: l.pid, threadId: l.threadId, name: l.name })));
    const [launcher, child, worker] = summary.loops;
    expect(launcher).toMatchObject({ pid: summary.pid, threadId: 0, exitCode: 0 });
    expect(child).toMatchObject({ ppid: launcher!.pid, threadId: 0, name: 'main' });
    expect(worker).toMatchObject({ pid: child!.pid, name: `worker ${worker!.threadId} cruncher-0`, blockedCount: 3, exitCode: 4 });
    // Blamed as the live run blamed them; under load a stack may come late and show what ran
    // next (loops.test.ts), so two of three at least on the worker's line.
    expect(culprits(worker!)).toEqual(culprits(live.loops[2]!));
    expect(culprits(worker!).filter((c) => c === 'crunchInWorker:13').length).toBeGreaterThanOrEqual(2);
    expect(culprits(launcher!)).not.toContain('crunchInWorker:13');
    // The same as the live run said.
    expect(worker!.blocked.map((b) => b.durationMs)).toEqual(live.loops[2]!.blocked.map((b) => b.durationMs));
    // The readable report has a line per loop.
    const text = await loopscope(['summary', file]);
    expect(text.stdout).toMatch(/loops +3:/);
    // A frame from the CPU samples has its line but no column.
    expect(text.stdout).toMatch(/worker \d+ cruncher-0 .*blocked 3 +exit 4\n +longest .* at crunchInWorker \(.*worker-blocker\.js:13(:\d+)?\)/);

    const out = join(dir, 'loops.json');
    const e = await loopscope(['export', file, '--format', 'chrome-trace', '-o', out]);
    expect(e.code).toBe(0);
    const textTrace = readFileSync(out, 'utf8');
    expect(perfettoView(textTrace).problems).toEqual([]);
    const events = (JSON.parse(textTrace) as { traceEvents: RawEvent[] }).traceEvents;
    const blockedTracks = events.filter((x) => x.name === 'thread_name' && x.args?.name?.endsWith('event loop blocked'));
    // One blocked-loop track per loop, each its own (pid, tid), in the loop's process.
    expect(blockedTracks.map((t) => t.pid)).toEqual([launcher!.pid, child!.pid, child!.pid]);
    expect(new Set(blockedTracks.map((t) => t.tid)).size).toBe(3);
    const workerTrack = blockedTracks.find((t) => t.args?.name === `worker ${worker!.threadId} cruncher-0: event loop blocked`)!;
    expect(workerTrack).toBeDefined();
    const workerSlices = events.filter((x) => x.ph === 'X' && x.name === 'event loop blocked' && x.pid === workerTrack.pid && x.tid === workerTrack.tid);
    expect(workerSlices).toHaveLength(3);
    // Two process names (the launcher and its child), and the worker's counters under its name.
    expect(events.filter((x) => x.name === 'process_name').map((x) => x.pid)).toEqual([launcher!.pid, child!.pid]);
    expect(events.some((x) => x.ph === 'C' && x.pid === child!.pid && x.name === `worker ${worker!.threadId} cruncher-0: lag max`)).toBe(true);

    // Replay shows every loop, and seeking (from keyframes) gives each its state again.
    const reader = RecordingReader.open(file);
    try {
      const player = new RecordingPlayer(reader);
      player.seek(Infinity);
      expect(player.loops.map((l) => l.state.totals.blockedCount)).toEqual(summary.loops.map((l) => l.blockedCount));
      expect(player.loops[2]!.recent.length).toBeGreaterThan(0);
      player.seek(reader.info.firstMs);
      expect(player.loops).toHaveLength(1);
    } finally {
      reader.close();
    }
  });

  it('a version 1 recording (one loop, the format before loops) still opens, summarizes, replays and exports', async () => {
    const file = join(FIXTURES, 'recording-v1.lsrec');
    const s = await loopscope(['summary', '--json', file]);
    expect(s.code).toBe(0);
    const summary = JSON.parse(s.stdout) as Summary;
    expect(summary).toMatchObject({ blockedCount: 3, exitCode: 3, warnings: [] });
    expect(summary.loops).toHaveLength(1);
    expect(culprits(summary.loops[0]!)).toEqual(['blockFor:14', 'blockFor:14', 'blockFor:14']);
    const reader = RecordingReader.open(file);
    try {
      expect(reader.header.version).toBe(1);
      const player = new RecordingPlayer(reader);
      player.seek(Infinity);
      expect(player.state.totals.blockedCount).toBe(3);
      expect(player.warnings).toEqual([]);
    } finally {
      reader.close();
    }
    const out = join(dir, 'v1.json');
    expect((await loopscope(['export', file, '-o', out])).code).toBe(0);
    expect(perfettoView(readFileSync(out, 'utf8')).slices.filter((x) => x.thread === 'event loop blocked')).toHaveLength(3);
  });
});
