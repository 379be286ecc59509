// The heap's floor over a session (main/session/heap-floor.ts): bounded however long the
// session, told in the summary when it rose (memory kept), not for a heap that only saws up and
// down, and among the window's key findings; kept in keyframes, and checked there. The
// recordings are written by the real recorder and read by the real CLI, and by the window in
// Chromium through `loopscope serve`.

import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addHeapSample, initialHeapFloor, MAX_STRETCHES, risingHeapFloor, type HeapFloor } from '../main/session/heap-floor';
import { RecordingWriter } from '../main/recording/recording-writer';
import { parseSessionState } from '../main/session/state-check';
import { initialSessionState } from '../main/session/session-state';
import { encodeDictionary, encodeMetrics } from '../probe/wire-binary';
import type { Summary } from '../main/reports/summary';
import { loopscope } from './helpers/cli';
import { CHROMIUM } from './helpers/browser';
import { failureShot, openWindow, showRecordingAtEnd } from './helpers/window';
import { keyFindings, type FindingSources } from '../renderer/screens/key-findings';
import { sample, syntheticHello, toRaw } from './helpers/recording-synthetic';

const dir = mkdtempSync(join(tmpdir(), 'loopscope-heap-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MB = 1024 * 1024;
/** A heap that saws from its floor up by 30 MB and back each 2 s, the floor rising by `perS` a second. */
const heapAt = (tS: number, perS: number): number => (20 + perS * tS + 30 * ((tS % 2) / 2)) * MB;

/** A recording of 40 s by the real recorder, its heap as heapAt's. */
async function record(name: string, perS: number): Promise<string> {
  const file = join(dir, name);
  const writer = RecordingWriter.create(file, { keyframeMaxFrames: 100 });
  const t0 = Date.now();
  writer.start(syntheticHello, t0);
  writer.write(toRaw(encodeDictionary([[1, 'Timeout'], [2, 'TCPWRAP']])), t0 + 5);
  for (let i = 0; i < 400; i++) {
    const s = sample(i);
    writer.write(toRaw(encodeMetrics({ ...s, heapUsedBytes: heapAt(s.timeUs / 1e6, perS) }, [1, 2])), t0 + (i + 1) * 100);
  }
  await writer.close({ exitCode: 0, warnings: [] });
  return file;
}

function session(seconds: number, perS: number): HeapFloor {
  let h = initialHeapFloor;
  for (let tS = 0.1; tS <= seconds; tS += 0.1) h = addHeapSample(h, tS * 1e6, heapAt(tS, perS));
  return h;
}

describe('the heap\'s floor', () => {
  it('is told when it rose: from the first quarter\'s lowest to the last\'s', () => {
    const rising = risingHeapFloor(session(60, 1))!;
    expect(rising.firstBytes / MB).toBeGreaterThan(20);
    expect(rising.firstBytes / MB).toBeLessThan(22);
    // The last quarter's lowest: where the saw comes down, at 46 s.
    expect(rising.lastBytes / MB).toBeCloseTo(66, 1);
  });

  it('is not told for a heap that only saws, nor for a short session, nor for a small rise', () => {
    expect(risingHeapFloor(session(60, 0))).toBeUndefined();
    expect(risingHeapFloor(session(15, 3))).toBeUndefined();
    expect(risingHeapFloor(session(60, 0.1))).toBeUndefined(); // 4.5 MB
  });

  it('stays bounded however long the session, and its stretches with no sample are null', () => {
    const long = session(3600, 0.01);
    expect(long.floors.length).toBeLessThanOrEqual(MAX_STRETCHES);
    expect(long.stretchUs).toBeGreaterThanOrEqual(3600e6 / MAX_STRETCHES);
    const gap = addHeapSample(addHeapSample(initialHeapFloor, 0, 5 * MB), 3.5e6, 6 * MB);
    expect(gap.floors).toEqual([5 * MB, null, null, 6 * MB]);
  });

  it('is kept in keyframes as JSON, checked, and started afresh in a keyframe written before it', () => {
    const state = { ...initialSessionState, totals: { ...initialSessionState.totals, heapFloor: session(30, 1) } };
    const back = parseSessionState(JSON.parse(JSON.stringify(state)));
    expect(back.totals.heapFloor).toEqual(state.totals.heapFloor);
    const { heapFloor: _dropped, ...olderTotals } = state.totals;
    expect(parseSessionState(JSON.parse(JSON.stringify({ ...state, totals: olderTotals }))).totals.heapFloor).toEqual(initialHeapFloor);
    const crafted = (floors: unknown[]) => JSON.parse(JSON.stringify({ ...state, totals: { ...state.totals, heapFloor: { ...state.totals.heapFloor, floors } } }));
    expect(() => parseSessionState(crafted([-1]))).toThrow(/heapFloor\.floors is not a list of at most 64 sizes/);
    expect(() => parseSessionState(crafted(new Array(65).fill(1)))).toThrow(/heapFloor\.floors/);
    expect(() => parseSessionState(crafted(['1']))).toThrow(/heapFloor\.floors/);
  });

  it('shows in `loopscope summary` of a recording whose heap kept memory, and not in one whose heap only saws', async () => {
    const [kept, sawing] = await Promise.all([record('kept.lsrec', 1), record('sawing.lsrec', 0)]);
    const text = await loopscope(['summary', kept]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ {15}the heap's floor \(its lowest, after GC\) rose from 2\d\.\d MB in the session's first quarter to 5\d\.\d MB in its last: memory the program keeps \(a leak, or a cache filling\); a heap snapshot/m);
    const json = JSON.parse((await loopscope(['summary', kept, '--json'])).stdout) as Summary;
    expect(json.memory.risingFloor!.lastBytes - json.memory.risingFloor!.firstBytes).toBeGreaterThan(25 * MB);
    const flat = await loopscope(['summary', sawing]);
    expect(flat.stdout).not.toContain('heap\'s floor');
    expect(flat.stdout).toMatch(/memory +heap used max 4\d\.\d MB/);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('the heap\'s floor in the window', () => {
  it('is among the key findings of a replay whose heap kept memory', async () => {
    const run = await openWindow();
    const { page } = run;
    try {
      await showRecordingAtEnd(run, await record('kept-window.lsrec', 1));
      const finding = page.getByTestId('key-findings').getByText(/^The heap's floor \(its lowest, after GC\) rose from 2\d\.\d MB in the session's first quarter to 5\d\.\d MB in its last/);
      await finding.waitFor({ timeout: 15_000 });
    } catch (err) {
      await page.screenshot({ path: failureShot('heap-floor', 'window') });
      throw err;
    } finally {
      await run.close();
    }
  }, 60_000);
});

describe('the heap\'s floor among the key findings', () => {
  it('is a warning, in the summary\'s words', () => {
    const view: FindingSources = {
      blockGroups: [], warnings: [], dropped: { frames: 0, bytes: 0 }, gcUnrecorded: 0, exit: null, findings: [], pid: 10, threadId: 0, loops: [],
      risingHeapFloor: { firstBytes: 5 * MB, lastBytes: 256 * MB },
    };
    expect(keyFindings(view, '/app')).toEqual([{
      id: 'heap-floor', severity: 'warning',
      text: 'The heap\'s floor (its lowest, after GC) rose from 5.0 MB in the session\'s first quarter to 256.0 MB in its last: memory the program keeps (a leak, or a cache filling); a heap snapshot (node --heapsnapshot-signal, or DevTools) shows what holds it',
    }]);
    expect(keyFindings({ ...view, risingHeapFloor: null }, '/app')).toEqual([]);
  });
});
