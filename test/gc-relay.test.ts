// A worker thread's loop has its GC pauses from the main loop's trace (probe/gc-relay.ts), not
// from an observer on its own thread: the relay on its own, with real BroadcastChannels, then
// real targets under the real CLI, whose worker threads observe their own GC the usual way.
// Each loop must report every pause its thread observed, and say where its pauses came from.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcRelay, GcRelayListener, MAX_RELAYED_PAUSES } from '../probe/gc-relay';
import { GcKindCode, traceNowUs } from '../probe/gc-trace';
import { FIXTURES } from './helpers/probe-harness';
import { loopscope } from './helpers/cli';
import type { LoopSummary, Summary } from '../main/reports/summary';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Heard {
  pauses: [number, number, number][];
  lost: number;
  unrecorded: number;
  said: string[];
}

function listen(tid: number): { heard: Heard; listener: GcRelayListener } {
  const heard: Heard = { pauses: [], lost: 0, unrecorded: 0, said: [] };
  const listener = new GcRelayListener(tid, {
    pause: (kind, startUs, durationUs) => heard.pauses.push([kind, startUs, durationUs]),
    lost: (count) => (heard.lost += count),
    unrecorded: (count) => (heard.unrecorded += count),
    traced: () => heard.said.push('traced'),
    untraced: (reason) => heard.said.push(`untraced: ${reason}`),
  }, () => performance.now());
  return { heard, listener };
}

describe('the relay of GC pauses', () => {
  it('passes each thread its own pauses while tracing is on, and says when it stops', async () => {
    const relay = new GcRelay(() => undefined);
    const a = listen(101);
    const b = listen(102);
    try {
      // Before the first status the loops observe their GC: pauses sent then are not taken.
      relay.push(101, GcKindCode.minor, 5, 1);
      relay.send();
      await sleep(20);
      expect(a.heard).toEqual({ pauses: [], lost: 0, unrecorded: 0, said: [] });

      relay.alive();
      relay.push(101, GcKindCode.minor, 1000, 300);
      relay.push(102, GcKindCode.major, 2000, 9000);
      relay.push(101, GcKindCode.incremental, 3000, 80);
      relay.push(999, GcKindCode.minor, 4000, 10); // a thread nobody listens for
      relay.unrecorded(102);
      relay.unrecorded(102);
      relay.send();
      await sleep(20);
      expect(a.heard).toEqual({ pauses: [[GcKindCode.minor, 1000, 300], [GcKindCode.incremental, 3000, 80]], lost: 0, unrecorded: 0, said: ['traced'] });
      expect(b.heard).toEqual({ pauses: [[GcKindCode.major, 2000, 9000]], lost: 0, unrecorded: 2, said: ['traced'] });

      // A batch with none of a thread's pauses whole still tells of those V8 recorded half of.
      relay.unrecorded(101);
      relay.send();
      await sleep(20);
      expect(a.heard.unrecorded).toBe(1);
      expect(a.heard.pauses).toHaveLength(2);

      relay.stop('the main loop\'s GC tracing failed: x');
      await sleep(20);
      expect(a.heard.said).toEqual(['traced', 'untraced: the main loop\'s GC tracing failed: x']);
    } finally {
      relay.stop('test over');
      a.listener.stop();
      b.listener.stop();
    }
  });

  it('counts what is over a batch\'s bound as lost, and takes nothing malformed', async () => {
    const relay = new GcRelay(() => undefined);
    const { heard, listener } = listen(7);
    const other = new BroadcastChannel('loopscope-probe-gc:7');
    try {
      relay.alive();
      for (let i = 0; i < MAX_RELAYED_PAUSES + 5; i++) relay.push(7, GcKindCode.minor, i, 1);
      relay.send();
      // Anything else on the channel (the target's own code can post there): dropped.
      for (const bad of [null, 3, 'x', { pauses: [1, 2, 3] }, { pauses: new Float64Array(4) }, { pauses: Float64Array.from([9, 1, 1, GcKindCode.minor, NaN, 1, GcKindCode.minor, 1, -1]) },
        { pauses: new Float64Array(0), unrecorded: -3 }, { pauses: new Float64Array(0), unrecorded: 1.5 }, { pauses: new Float64Array(0), unrecorded: '2' }]) other.postMessage(bad);
      await sleep(50);
      expect(heard.pauses.length).toBe(MAX_RELAYED_PAUSES);
      expect(heard.lost).toBe(5);
      expect(heard.unrecorded).toBe(0);
    } finally {
      other.close();
      relay.stop('test over');
      listener.stop();
    }
  });

  it('does not flap: statuses posted by anyone bring a loop back to the relay only a while after it left', async () => {
    const { heard, listener } = listen(11);
    const anyone = new BroadcastChannel('loopscope-probe-gc');
    try {
      for (let i = 0; i < 50; i++) anyone.postMessage({ tracing: i % 2 === 0, reason: 'flap' });
      await sleep(50);
      expect(heard.said).toEqual(['traced', 'untraced: flap']);
    } finally {
      anyone.close();
      listener.stop();
    }
  });

  it('at a thread\'s exit, asks for a collection and waits until one covers its exit, for a while at most', async () => {
    let asked = 0;
    const relay = new GcRelay(() => asked++);
    const { heard, listener } = listen(9);
    try {
      // Not on the relay yet: nothing to wait for.
      let done = false;
      listener.finish(1000, () => (done = true));
      expect(done).toBe(true);

      relay.alive();
      await sleep(20);
      const finished: number[] = [];
      const before = traceNowUs();
      listener.finish(2000, () => finished.push(1));
      await sleep(20);
      expect(asked).toBe(1);
      // A collection that ended before the exit does not do; the one after it does.
      relay.alive(before - 1);
      await sleep(30);
      expect(finished).toEqual([]);
      relay.push(9, GcKindCode.minor, traceNowUs() - 1000, 200);
      relay.send();
      relay.alive(traceNowUs());
      await sleep(50);
      expect(finished).toHaveLength(1);
      expect(heard.pauses).toHaveLength(1);

      // A relay that never answers: done after the time given.
      const late: number[] = [];
      const t = performance.now();
      listener.finish(100, () => late.push(performance.now() - t));
      await sleep(200);
      expect(late).toHaveLength(1);
      expect(late[0]).toBeGreaterThanOrEqual(95);

      // Stopped (the probe detached as its thread exits): done at once, nothing thrown.
      listener.stop();
      let after = false;
      listener.finish(1000, () => (after = true));
      expect(after).toBe(true);
    } finally {
      relay.stop('test over');
      listener.stop();
    }
  });
});

/** Whether this machine lets us run a process in a PID namespace of its own, /proc left as it is. */
const UNSHARE = spawnSync('unshare', ['-p', '-f', '-r', 'true']).status === 0;
const CLI = join(__dirname, '..', 'bin', 'loopscope.js');

interface Observed { kind: string; startMs: number; durationMs: number }
interface Slice { startMs: number; endMs: number }
interface TraceEvent { name: string; ph: string; tid: number; ts: number; dur?: number; args?: { name?: string } }

/** The pauses each worker observed, from the fixture's last line (on loopscope's stderr under --json). */
function observedOf(stderr: string): Record<string, Observed[]> {
  const line = stderr.split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the fixture printed no pauses; stderr: ${stderr.slice(-2000)}`);
  return JSON.parse(line) as Record<string, Observed[]>;
}

function workerLoops(summary: Summary): LoopSummary[] {
  return summary.loops.filter((l) => l.threadId !== 0);
}

/** A run of gc-workers.js under `loopscope run --json --record`: the summary, the pauses each worker observed, and the recording exported as a trace. */
async function runRecorded(env: Readonly<Record<string, string>>): Promise<{ summary: Summary; observed: Record<string, Observed[]>; events: TraceEvent[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'loopscope-gc-relay-'));
  try {
    const file = join(dir, 'run.loopscope');
    const r = await loopscope(['run', '--json', '--record', file, '--', process.execPath, join(FIXTURES, 'gc-workers.js')], env);
    expect(r.code, r.stderr).toBe(0);
    const exported = await loopscope(['export', file, '-o', '-']);
    expect(exported.code, exported.stderr).toBe(0);
    return { summary: JSON.parse(r.stdout) as Summary, observed: observedOf(r.stderr), events: (JSON.parse(exported.stdout) as { traceEvents: TraceEvent[] }).traceEvents };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A loop's GC slices in the exported trace, on the main thread's clock (the observer's too). */
function slicesOf(events: readonly TraceEvent[], loop: LoopSummary): Slice[] {
  const track = events.find((e) => e.ph === 'M' && e.args?.name === `${loop.name}: GC`)?.tid;
  return events.filter((e) => e.ph === 'X' && e.tid === track).map((e) => ({ startMs: e.ts / 1000, endMs: (e.ts + (e.dur ?? 0)) / 1000 }));
}

/**
 * Whether a slice is the pause the observer saw. At the same time: V8's trace scope and Node's
 * GC prologue and epilogue, which the observer's times come from, are microseconds apart, as on
 * the main thread (gc-trace.test.ts); on a loaded machine, ms of preemption may come between
 * them, on either side (seen beside 3 busy processes: a worker's scavenge observed from 4 ms
 * before the trace's began). A slice of no length is a pause whose trace event a collection
 * cut open: the main thread stops one session's tracing while a worker's incremental marking
 * starts, and V8 sets the event's duration only after it was sent (seen beside 4 busy
 * processes).
 */
function same(s: Slice, o: Observed): boolean {
  return Math.abs(s.startMs - o.startMs) < 20 && (s.endMs === s.startMs || (Math.abs(s.endMs - (o.startMs + o.durationMs)) < 20 && s.startMs < o.startMs + o.durationMs && s.endMs > o.startMs));
}

/**
 * Pauses a loop may miss without a word: one whose begin and end, or whose one complete event
 * (incremental marking's start), fall where the trace changes hands leaves nothing to count.
 * BENCHMARKS.md, "GC pauses lost where the trace changes hands": 7 of 4,890 so (1 in 700);
 * with 4 or 8 busy processes beside, 1 of 55 runs of worker-gc-exit.mjs (CI failed once on one).
 */
const SILENT_LOSS = 1;

describe('worker threads\' GC pauses', () => {
  it('come from the main loop\'s trace, each loop its own thread\'s, one for one with the thread\'s own observer', async () => {
    const { summary, observed, events } = await runRecorded({ WORKERS: '2' });
    const workers = workerLoops(summary);
    expect(workers).toHaveLength(2);
    expect(summary.gc.source).toBe('trace');
    expect(summary.warnings).toEqual([]);
    for (const w of workers) {
      // The trace has no weak-callback pauses; the observer's are rare and short (the probe
      // observes until the relay's first status: any there count).
      const all = observed[String(w.threadId)] ?? [];
      const own = all.filter((o) => o.kind !== 'weakcb');
      expect(own.length, w.name).toBeGreaterThan(10);
      expect(w.gc.source, `${w.name}: ${w.gc.sourceReason}`).toBe('trace');
      const slices = slicesOf(events, w);
      expect(slices.length, w.name).toBe(w.gc.count);
      // Each pause the observer saw, with the trace's slices near it if none is it.
      const unmatched = own.filter((o) => !slices.some((s) => same(s, o)))
        .map((o) => ({ observed: o, near: slices.filter((s) => s.endMs > o.startMs - 50 && s.startMs < o.startMs + o.durationMs + 50) }));
      // None missing but those the trace has only half of (its collections' handovers), which
      // the loop counts, and at most SILENT_LOSS more.
      const unrecorded = w.gc.unrecorded ?? 0;
      expect(unmatched.length, `${w.name}, ${unrecorded} counted unrecorded, ${slices.length} slices from ${slices[0]?.startMs} to ${slices.at(-1)?.endMs} ms: ${JSON.stringify(unmatched)}`).toBeLessThanOrEqual(unrecorded + SILENT_LOSS);
      // Each pause once, and none of another thread's (the two workers allocate alike).
      expect(w.gc.count + unrecorded, w.name).toBeGreaterThanOrEqual(own.length - SILENT_LOSS);
      expect(w.gc.count, w.name).toBeLessThanOrEqual(all.length);
      // The same pauses, a little longer or shorter each (beside 4 busy processes the observer's
      // came to 2.2% more in all, each begun before the trace's).
      const observedMs = own.filter((o) => !unmatched.some((u) => u.observed === o)).reduce((a, o) => a + o.durationMs, 0);
      expect(w.gc.totalMs, w.name).toBeGreaterThanOrEqual(observedMs * 0.95);
      expect(w.gc.totalMs, w.name).toBeLessThan(observedMs * 1.2 + own.length * 0.2);
    }
  });

  it('are all in when a worker exits, however soon after its last collection', async () => {
    // Each worker ends 50 ms after its last allocation: its last pauses are in no regular
    // collection (a second apart) but by chance, only in the one its exit asks for.
    const { summary, observed, events } = await runRecorded({ WORKERS: '2', SETTLE_MS: '50' });
    const workers = workerLoops(summary);
    expect(workers).toHaveLength(2);
    for (const w of workers) {
      const all = observed[String(w.threadId)] ?? [];
      const own = all.filter((o) => o.kind !== 'weakcb');
      expect(w.gc.source, w.name).toBe('trace');
      const last = own.at(-1)!;
      const slices = slicesOf(events, w);
      expect(slices.some((s) => same(s, last)), `${w.name}: its last pause ${JSON.stringify(last)}; the last slices ${JSON.stringify(slices.slice(-3))}`).toBe(true);
      expect(w.gc.count + (w.gc.unrecorded ?? 0), w.name).toBeGreaterThanOrEqual(own.length - SILENT_LOSS);
      expect(w.gc.count, w.name).toBeLessThanOrEqual(all.length);
    }
  });

  // Where /proc is another namespace's, a thread's id there is not its trace events' tid: the
  // relay would pass it nothing, with the loop on it (a sandbox or CI container can run so).
  it.skipIf(!UNSHARE)('are observed on the worker\'s own thread in a PID namespace whose /proc is not its own, and say why', () => {
    const r = spawnSync('unshare', ['-p', '-f', '-r', process.execPath, CLI, 'run', '--json', '--', process.execPath, join(FIXTURES, 'gc-workers.js')], {
      env: { ...process.env, WORKERS: '1', SETTLE_MS: '1500' }, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    const [w] = workerLoops(summary);
    expect(w?.gc).toMatchObject({ source: 'observer', sourceReason: expect.stringMatching(/^this thread's OS id is not known \(\/proc is another PID namespace's/) });
    // Every pause the thread saw, from its own observer.
    expect(w!.gc.count).toBe(observedOf(r.stderr)[String(w!.threadId)]?.length);
  });

  it('are observed on the worker\'s own thread where the main loop cannot trace, and each loop says why', async () => {
    // A program that records trace events itself: the probe leaves tracing to it.
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-gc-relay-'));
    try {
      const r = await loopscope(['run', '--json', '--', process.execPath, '--trace-event-categories', 'node.environment', '--trace-event-file-pattern', join(dir, 'trace-${rotation}.log'), join(FIXTURES, 'gc-workers.js')], {
        WORKERS: '1',
        // Past the relay's silence that tells the loop to observe (3.5 s).
        SETTLE_MS: '4500',
      });
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as Summary;
      const observed = observedOf(r.stderr);
      expect(summary.gc).toMatchObject({ source: 'observer', sourceReason: 'the program records trace events itself (node.environment)' });
      const [w] = workerLoops(summary);
      expect(w?.gc).toMatchObject({ source: 'observer', sourceReason: 'the main thread\'s probe passes on no GC pauses (its own GC source says why)' });
      // The observer the probe uses is the fixture's: the same pauses, weak callbacks too.
      expect(w!.gc.count).toBe(observed[String(w!.threadId)]?.length);
      // Each loop's warning says so, since it costs more.
      expect(summary.warnings.filter((t) => t.startsWith('GC pauses of'))).toEqual([
        expect.stringMatching(/^GC pauses of the main thread of process \d+ are observed on its thread .*: the program records trace events itself/),
        expect.stringMatching(/^GC pauses of worker thread \d+ \(allocator-0\) of process \d+ are observed on its thread .*: the main thread's probe passes on no GC pauses/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
