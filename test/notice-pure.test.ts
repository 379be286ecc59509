// The notice of a worker thread the probe could not follow, in its pure parts: how the probe
// reads the inspector's reply and bounds what it sends, the message on the wire and its checks,
// the session's keeping of it (keyframes too), and its words wherever warnings show.

import { EventEmitter } from 'node:events';
import type { Session } from 'node:inspector';
import { describe, expect, it } from 'vitest';
import { clipName, GC_PAUSES_DROPPED, GC_PAUSES_UNRECORDED, MAX_NAME_LENGTH, MessageType, PROTOCOL_VERSION, WireError, WireLimitError, type Hello, type Notice, type ProbeMessage } from '../probe/wire';
import { encodeNotice } from '../probe/wire-json';
import { FrameReader, jsonFrame } from '../probe/wire-framing';
import { ProbeDecoder } from '../probe/wire-decoder';
import { followOutcome } from '../probe/follow-outcome';
import { NoticeBudget, NOTICES_IN_ALL, NOTICES_PER_SECOND } from '../probe/notice-budget';
import { applyMessage, initialSessionState, KEPT_NOTICES } from '../main/session/session-state';
import { parseSessionState } from '../main/session/state-check';
import { gcObservedText, heldBackText, noticeLine, noticeText, noticeWarnings, workerLabel } from '../main/common/notice-text';
import { NodeWorkers } from '../probe/node-workers';
import { logHeadlessEvents } from '../main/cli/headless-events';
import type { SessionWatch } from '../main/cli/session-watch';
import type { LiveSource } from '../main/session/live-source';
import { summarize } from '../main/reports/summary';
import { renderSummaryText } from '../main/terminal/summary-text';
import { renderLiveView } from '../main/terminal/live-view';
import { sessionView } from '../main/ui/view-model';
import { DEFAULT_CONFIG } from '../probe/constants';
import { feedOf } from './helpers/feed';

const hello: Hello = {
  protocol: PROTOCOL_VERSION, token: 't', probeVersion: '0.1.0', pid: 4100, ppid: 1, nodeVersion: 'v20.0.0',
  platform: 'linux', arch: 'x64', argv: ['/usr/bin/node', 'app.js'], execArgv: [], title: 'node', cwd: '/srv',
  threadId: 0, timeOriginMs: 1.7e12, config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, loadedBy: 'preload',
};

const notice: Notice = {
  kind: 'worker-unfollowed', timeUs: 1_500_000, threadId: 3, name: 'cruncher-1', cause: 'refused',
  reason: 'Cannot add property Symbol(loopscope.probe), object is not extensible',
};

function decode(frame: Uint8Array): ProbeMessage {
  const [raw] = new FrameReader().push(frame);
  return new ProbeDecoder().decode(raw!);
}

const withFields = (patch: Record<string, unknown>): Uint8Array => jsonFrame(MessageType.Notice, { ...notice, ...patch });

describe('the notice on the wire', () => {
  it('round-trips', () => {
    expect(decode(encodeNotice(notice))).toEqual({ type: 'notice', notice });
  });

  it('the probe clips a worker name and a reason past the limit', () => {
    const long = 'x'.repeat(MAX_NAME_LENGTH + 50);
    const m = decode(encodeNotice({ ...notice, name: long, reason: long }));
    expect(m).toEqual({ type: 'notice', notice: { ...notice, name: clipName(long), reason: clipName(long) } });
  });

  it('rejects each bad field with an error that names it', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kind: 'worker-lost' }, /notice: field "kind" must be one of worker-unfollowed/],
      [{ threadId: 0 }, /field "threadId" must be a worker's thread id/],
      [{ threadId: 2.5 }, /field "threadId"/],
      [{ threadId: '3' }, /field "threadId" must be a finite number/],
      [{ timeUs: null }, /field "timeUs" must be a finite number/],
      [{ name: 7 }, /field "name" must be a string/],
      [{ cause: 'crashed' }, /field "cause" must be one of refused, threw, inspector/],
      [{ reason: undefined }, /field "reason" must be a string/],
    ];
    for (const [patch, message] of cases) {
      expect(() => decode(withFields(patch)), JSON.stringify(patch)).toThrow(WireError);
      expect(() => decode(withFields(patch)), JSON.stringify(patch)).toThrow(message);
    }
  });

  it('rejects names past the limit, payloads that are not JSON objects, and frames past its size', () => {
    expect(() => decode(withFields({ reason: 'r'.repeat(MAX_NAME_LENGTH + 1) }))).toThrow(WireLimitError);
    expect(() => decode(jsonFrame(MessageType.Notice, [notice]))).toThrow(/notice: payload is not a JSON object/);
    expect(() => decode(withFields({ padding: 'p'.repeat(70 * 1024) }))).toThrow(/a Notice frame of \d+ bytes, more than the limit of 65536/);
  });
});

describe('the probe reading the evaluation\'s reply', () => {
  const value = (v: unknown) => ({ result: { type: 'object', value: v } });

  it('a started (or already running) probe is followed', () => {
    expect(followOutcome(null, value({ status: 'started', version: '0.1.0' }))).toEqual({ followed: true });
    expect(followOutcome(null, value({ status: 'already-running', version: '0.1.0' }))).toEqual({ followed: true });
  });

  it('a start that refused says why, at once (its worker was running)', () => {
    expect(followOutcome(null, value({ status: 'failed', error: 'SharedArrayBuffer is not defined' })))
      .toEqual({ followed: false, cause: 'refused', reason: 'SharedArrayBuffer is not defined', ifStillRunning: false });
    expect(followOutcome(null, value({ status: 'failed' }))).toMatchObject({ cause: 'refused', reason: 'the probe did not say why' });
    // The worker's words: its first line only (an error's text may carry its stack).
    expect(followOutcome(null, value({ status: 'failed', error: 'Error: no\n    at start (probe.js:1:1)' }))).toMatchObject({ cause: 'refused', reason: 'Error: no' });
  });

  it('an exception or an inspector error counts only if the worker runs on (a worker that ends answers with one)', () => {
    const threw = { result: { type: 'object', subtype: 'error' }, exceptionDetails: { text: 'Uncaught', exception: { description: 'ReferenceError: require is not defined\n    at <anonymous>:1:22' } } };
    expect(followOutcome(null, threw)).toEqual({ followed: false, cause: 'threw', reason: 'ReferenceError: require is not defined', ifStillRunning: true });
    expect(followOutcome(null, { exceptionDetails: { text: 'Uncaught' } })).toMatchObject({ cause: 'threw', reason: 'Uncaught' });
    expect(followOutcome(new Error('Execution context was destroyed.'), undefined))
      .toEqual({ followed: false, cause: 'inspector', reason: 'Execution context was destroyed.', ifStillRunning: true });
  });

  it('any other answer is not the probe\'s', () => {
    for (const odd of [undefined, null, 42, {}, value(undefined), value('started'), value({ status: 'maybe' })]) {
      expect(followOutcome(null, odd)).toMatchObject({ followed: false, cause: 'threw', ifStillRunning: true });
    }
  });
});

describe('the probe\'s budget of notices', () => {
  it('a few a second, and a bound in all', () => {
    const budget = new NoticeBudget();
    const burst = Array.from({ length: 10 }, () => budget.take(1000));
    expect(burst.filter(Boolean)).toHaveLength(NOTICES_PER_SECOND);
    expect(budget.take(1999)).toBe(false);
    expect(budget.take(2000)).toBe(true);
    let sent = NOTICES_PER_SECOND + 1;
    for (let t = 3000; t < 100_000; t += 1000) for (let i = 0; i < 10; i++) if (budget.take(t)) sent++;
    expect(sent).toBe(NOTICES_IN_ALL);
  });
});

describe('the session keeps notices', () => {
  it('the first ones, bounded', () => {
    let state = applyMessage(initialSessionState, { type: 'hello', hello });
    for (let i = 0; i < KEPT_NOTICES + 10; i++) state = applyMessage(state, { type: 'notice', notice: { ...notice, threadId: i + 1 } });
    expect(state.notices).toHaveLength(KEPT_NOTICES);
    expect(state.notices[0]!.threadId).toBe(1);
  });

  it('in keyframes: checked as frames are, and absent from keyframes written before them', () => {
    const state = applyMessage(applyMessage(initialSessionState, { type: 'hello', hello }), { type: 'notice', notice });
    const stored = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
    expect(parseSessionState(stored).notices).toEqual([notice]);
    const { notices: _none, ...before } = stored;
    expect(parseSessionState(before).notices).toEqual([]);
    expect(() => parseSessionState({ ...stored, notices: [{ ...notice, cause: 'crashed' }] })).toThrow(/cause/);
    expect(() => parseSessionState({ ...stored, notices: 'none' })).toThrow(/state.notices is not a list/);
    // Checked as stored: a name past the wire's limit is refused, not clipped.
    expect(() => parseSessionState({ ...stored, notices: [{ ...notice, name: 'n'.repeat(MAX_NAME_LENGTH + 1) }] })).toThrow(WireLimitError);
  });
});

describe('the notice in words', () => {
  it('names the worker, says why and what can be done', () => {
    expect(workerLabel(notice)).toBe('worker thread 3 (cruncher-1)');
    expect(workerLabel({ threadId: 4, name: '' })).toBe('worker thread 4');
    expect(noticeLine(notice)).toBe('worker thread 3 (cruncher-1) could not be followed: the probe could not start in it (Cannot add property Symbol(loopscope.probe), object is not extensible)');
    expect(noticeLine(notice, 4100)).toMatch(/^worker thread 3 \(cruncher-1\) of process 4100 could not be followed: /);
    const refused = noticeText(notice, 4100);
    expect(refused).toMatch(/^worker thread 3 \(cruncher-1\) of process 4100 could not be followed: the probe could not start in it \(Cannot add property .*\)\. Its loop is missing from this session; the probe does not try again\. /);
    expect(refused).toContain('a worker that locks its global object (as SES lockdown does)');
    const threw: Notice = { ...notice, cause: 'threw', reason: 'TypeError: x' };
    expect(noticeText(threw)).toBe('worker thread 3 (cruncher-1) could not be followed: loading the probe there threw (TypeError: x). Its loop is missing from this session; the probe does not try again');
    expect(noticeText({ ...notice, cause: 'inspector', reason: 'boom' })).toContain('the inspector would not run the probe\'s start in it (boom)');
  });

  it('in the summary\'s warnings (after the session\'s own) and its unfollowedWorkers, the text report, the live view and the window', () => {
    const main = feedOf([{ type: 'hello', hello }, { type: 'notice', notice }]);
    const child = feedOf([{ type: 'hello', hello: { ...hello, pid: 4200 } }, { type: 'notice', notice: { ...notice, threadId: 2, name: '' } }]);
    const loops = [{ data: main, exitCode: 0 }, { data: child }];
    expect(noticeWarnings([main, child]).map((w) => w.slice(0, 45))).toEqual(['worker thread 3 (cruncher-1) of process 4100 ', 'worker thread 2 of process 4200 could not be ']);

    const s = summarize(main, { durationMs: 1000, exitCode: 0, warnings: ['lost the probe: x'], loops });
    expect(s.warnings).toEqual(['lost the probe: x', ...noticeWarnings([main, child])]);
    expect(s.unfollowedWorkers).toEqual([
      { pid: 4100, atMs: 1500, threadId: 3, name: 'cruncher-1', cause: 'refused', reason: notice.reason },
      { pid: 4200, atMs: 1500, threadId: 2, name: '', cause: 'refused', reason: notice.reason },
    ]);
    expect(renderSummaryText(s)).toContain(`  warning: ${noticeWarnings([main])[0]}\n`);

    const live = renderLiveView(main, { width: 400, elapsedMs: 100, status: undefined, remainingMs: undefined, loops: [main, child] });
    // Shown once samples come; the loops' lines are there then too.
    expect(live.join('\n')).not.toContain('missing');
    const sampled = feedOf([{ type: 'hello', hello }, { type: 'notice', notice }, { type: 'metrics', sample: metrics() }]);
    expect(renderLiveView(sampled, { width: 400, elapsedMs: 100, status: undefined, remainingMs: undefined })).toContain(` missing  ${noticeLine(notice, 4100)}`);

    const view = sessionView(main, {
      id: 's1', group: 's1', loops: [], how: 'launch', config: DEFAULT_CONFIG, ended: false, error: undefined, warnings: ['attach warning'],
      recording: null, replay: null, output: null, exit: null,
    });
    expect(view.warnings).toEqual(['attach warning', noticeWarnings([main])[0]]);
  });
});

describe('a loop whose GC pauses are observed on its thread', () => {
  it('is a warning that names the loop and says why, in the summary and the window; a traced loop is none', () => {
    const observed = feedOf([{ type: 'hello', hello: { ...hello, threadId: 2, threadName: 'allocator-0' } }, { type: 'gcSource', gc: { source: 'observer', reason: 'this thread\'s OS id is not known' } }]);
    const traced = feedOf([{ type: 'hello', hello }, { type: 'gcSource', gc: { source: 'trace' } }]);
    const text = 'GC pauses of worker thread 2 (allocator-0) of process 4100 are observed on its thread (a PerformanceObserver, which costs allocation-heavy code more CPU than V8\'s trace events): this thread\'s OS id is not known';
    expect(noticeWarnings([traced, observed])).toEqual([text]);
    expect(gcObservedText({ pid: 4100, threadId: 0 }, 'the program records trace events itself (v8)')).toMatch(/^GC pauses of the main thread of process 4100 are observed on its thread .*: the program records trace events itself \(v8\)$/);
    // The loop's state keeps the latest: back on the trace, the warning goes.
    const back = feedOf([{ type: 'hello', hello }, { type: 'gcSource', gc: { source: 'observer', reason: 'x' } }, { type: 'gcSource', gc: { source: 'trace' } }]);
    expect(noticeWarnings([back])).toEqual([]);
    const s = summarize(observed, { durationMs: 1000, exitCode: 0, warnings: [], loops: [{ data: traced }, { data: observed }] });
    expect(s.warnings).toEqual([text]);
    expect(s.loops.map((l) => l.gc.source)).toEqual(['trace', 'observer']);
  });
});

describe('notices held back by the probe\'s budget', () => {
  // 5 notices held back (counted as Notice drops), 2 metrics frames lost to a slow read.
  const drops = { type: 'drops', drops: { frames: { Notice: 5, Metrics: 2 }, bytes: 300 } } as const;
  const named = Array.from({ length: 4 }, (_, i): ProbeMessage => ({ type: 'notice', notice: { ...notice, threadId: i + 1 } }));
  const data = feedOf([{ type: 'hello', hello }, ...named, drops, { type: 'metrics', sample: metrics() }]);

  it('say, when they are task events, that the trace and the tasks views miss them', () => {
    const lost = feedOf([{ type: 'hello', hello }, { type: 'drops', drops: { frames: { TaskEvents: 3 }, bytes: 9000 } }, { type: 'metrics', sample: metrics() }]);
    expect(renderSummaryText(summarize(lost, { durationMs: 1000, exitCode: 0, warnings: [] })))
      .toContain('  dropped      3 TaskEvents (8.8 kB): loopscope read too slowly; the trace and the tasks views miss the events those held\n');
  });

  it('are told as worker threads not followed, not as loopscope reading too slowly', () => {
    const held = heldBackText(5, 4100);
    expect(held).toBe('5 more worker threads of process 4100 not followed (not named: over the probe\'s limit of notices)');
    expect(heldBackText(1)).toBe('1 more worker thread not followed (not named: over the probe\'s limit of notices)');

    const s = summarize(data, { durationMs: 1000, exitCode: 0, warnings: [] });
    expect(s.warnings).toHaveLength(5);
    expect(s.warnings[4]).toBe(held);
    const text = renderSummaryText(s);
    expect(text).toContain(`  warning: ${held}\n`);
    expect(text).toContain('  dropped      2 Metrics (300 B): loopscope read too slowly\n');

    const live = renderLiveView(data, { width: 400, elapsedMs: 100, status: undefined, remainingMs: undefined }).map((l) => l.trimEnd());
    expect(live).toContain(' dropped  2 frames (300 B): loopscope read too slowly');
    expect(live.filter((l) => l.startsWith(' missing  '))).toHaveLength(3);
    expect(live).toContain('   … 1 more worker thread not followed');
    expect(live).toContain(`   … ${heldBackText(5)}`);

    const view = sessionView(data, {
      id: 's1', group: 's1', loops: [], how: 'launch', config: DEFAULT_CONFIG, ended: false, error: undefined, warnings: [],
      recording: null, replay: null, output: null, exit: null,
    });
    expect(view.dropped).toEqual({ frames: 2, bytes: 300 });
    expect(view.warnings.at(-1)).toBe(held);
  });
});

describe('GC pauses V8\'s trace has half of', () => {
  // 3 pauses whose begin or end the trace lost, 2 the probe had no room for.
  const drops = { type: 'drops', drops: { frames: { [GC_PAUSES_UNRECORDED]: 3, [GC_PAUSES_DROPPED]: 2 }, bytes: 0 } } as const;
  const data = feedOf([{ type: 'hello', hello }, drops, { type: 'metrics', sample: metrics() }]);

  it('are told with the GC figures they are missing from, not as loopscope reading too slowly', () => {
    const s = summarize(data, { durationMs: 1000, exitCode: 0, warnings: [] });
    expect(s.gc.unrecorded).toBe(3);
    expect(s.loops[0]?.gc.unrecorded).toBe(3);
    expect(s.dropped.frames).toEqual({ [GC_PAUSES_DROPPED]: 2 });
    expect(s.warnings).toEqual([]);
    const text = renderSummaryText(s);
    expect(text).toMatch(/ {2}gc {11}\d+ pauses, .*; 3 more not recorded \(V8's trace lost the begin or the end of those pauses as the probe's GC tracing changed sessions; they are not in the counts or times\)\n/);
    expect(text).toContain('  dropped      2 gcPauses (0 B): loopscope read too slowly');

    const live = renderLiveView(data, { width: 400, elapsedMs: 100, status: undefined, remainingMs: undefined }).map((l) => l.trimEnd());
    expect(live.find((l) => l.startsWith(' gc '))).toMatch(/, 3 not recorded \(V8's trace lost their begin or end\)$/);
    expect(live).toContain(' dropped  2 frames (0 B): loopscope read too slowly');

    const view = sessionView(data, {
      id: 's1', group: 's1', loops: [], how: 'launch', config: DEFAULT_CONFIG, ended: false, error: undefined, warnings: [],
      recording: null, replay: null, output: null, exit: null,
    });
    expect(view.gcUnrecorded).toBe(3);
    expect(view.dropped).toEqual({ frames: 2, bytes: 0 });
  });

  it('leave the GC summary as it was when there are none', () => {
    const s = summarize(feedOf([{ type: 'hello', hello }, { type: 'metrics', sample: metrics() }]), { durationMs: 1000, exitCode: 0, warnings: [] });
    expect('unrecorded' in s.gc).toBe(false);
    expect(renderSummaryText(s)).not.toContain('not recorded');
  });
});

describe('the target\'s words in a notice', () => {
  it('control characters (an escape sequence in a worker\'s name or an error) are not passed on from the wire', () => {
    const [decoded] = new FrameReader().push(encodeNotice({ ...notice, name: 'evil\x1b[2J\x07', reason: 'bad\nline\x7f' })).map((f) => new ProbeDecoder().decode(f));
    if (decoded?.type !== 'notice') throw new Error(`decoded as ${decoded?.type}`);
    const crafted = decoded.notice;
    for (const text of [workerLabel(crafted), noticeLine(crafted), noticeText(crafted)]) {
      expect(text).not.toMatch(/[\x00-\x1f\x7f]/);
    }
    expect(noticeLine(crafted)).toBe('worker thread 3 (evil [2J ) could not be followed: the probe could not start in it (bad line )');
  });
});

describe('the probe\'s check that a worker runs on', () => {
  function fakeSession(): Session & EventEmitter {
    const session = new EventEmitter() as Session & EventEmitter;
    session.post = (() => undefined) as Session['post'];
    return session;
  }
  const detached = (session: EventEmitter, sessionId: string): boolean => session.emit('NodeWorker.detachedFromWorker', { params: { sessionId } });

  it('tells once the time is up, unless the session ended first or the probe stopped', async () => {
    const session = fakeSession();
    const workers = new NodeWorkers(session, () => undefined);
    const told: string[] = [];
    for (const id of ['runs-on', 'ends', 'other-ends']) workers.ifRunningAfter(id, 30, () => told.push(id));
    detached(session, 'ends');
    detached(session, 'never-checked');
    await new Promise((r) => setTimeout(r, 60));
    expect(told).toEqual(['runs-on', 'other-ends']);

    workers.ifRunningAfter('late', 30, () => told.push('late'));
    workers.stop();
    workers.ifRunningAfter('after-stop', 1, () => told.push('after-stop'));
    await new Promise((r) => setTimeout(r, 60));
    expect(told).toEqual(['runs-on', 'other-ends']);
  });

  it('a call into a worker that ends fails then, and a check started from its failure never tells', async () => {
    const session = fakeSession();
    const workers = new NodeWorkers(session, () => undefined);
    const replies: string[] = [];
    const told: string[] = [];
    workers.send('ends', 'Runtime.evaluate', {}, (err) => {
      replies.push(`ends: ${err?.message}`);
      workers.ifRunningAfter('ends', 1, () => told.push('ends'));
    });
    workers.send('runs-on', 'Runtime.evaluate', {}, (err) => replies.push(`runs-on: ${err?.message}`));
    detached(session, 'ends');
    expect(replies).toEqual(['ends: the worker ended']);
    await new Promise((r) => setTimeout(r, 30));
    expect(told).toEqual([]);
    workers.stop();
    expect(replies).toEqual(['ends: the worker ended', 'runs-on: stopped']);
  });

  it('an odd detach event is ignored', () => {
    const session = fakeSession();
    new NodeWorkers(session, () => undefined);
    expect(() => session.emit('NodeWorker.detachedFromWorker', null)).not.toThrow();
  });
});

describe('production mode\'s log of notices', () => {
  it('the first KEPT_NOTICES of a connection, then a count', () => {
    const connection = Object.assign(new EventEmitter(), { hello });
    let frame: (raw: Uint8Array, at: number, m: ProbeMessage) => void = () => undefined;
    const source = { connection, onFrame: (l: typeof frame) => (frame = l) } as unknown as LiveSource;
    const watch = { onSession: (l: (s: LiveSource) => void) => l(source) } as unknown as SessionWatch;
    const lines: string[] = [];
    logHeadlessEvents(watch, (line) => lines.push(line));
    for (let i = 0; i < KEPT_NOTICES + 7; i++) frame(new Uint8Array(), 0, { type: 'notice', notice: { ...notice, threadId: i + 1 } });
    connection.emit('close');
    expect(lines.filter((l) => l.includes('could not be followed'))).toHaveLength(KEPT_NOTICES);
    expect(lines.at(-1)).toBe('process 4100: probe disconnected (and 7 more notices not logged)');
  });
});

function metrics() {
  return {
    timeUs: 1_000_000, intervalUs: 100_000,
    lag: { minUs: 1, meanUs: 20, p50Us: 10, p90Us: 30, p99Us: 900, maxUs: 1000, count: 9, stallMaxUs: 0, percentiles: [[0, 1], [50, 10], [100, 1000]] as [number, number][] },
    utilization: 0.25, cpuUserUs: 20_000, cpuSystemUs: 3_000, rssBytes: 5e7, heapUsedBytes: 1e7, heapTotalBytes: 2e7,
    externalBytes: 1e6, arrayBuffersBytes: 1e5, probeMainUs: 0, probeWorkerUs: 0, gc: [], resources: [],
  };
}
