// The window's pure parts added for issue 16: task findings (shared with the CLI), block
// groups and spike picking, a launch line's VAR=value prefixes, a program's output lines in
// bounded memory, loopscope's own processes, the trace model's length and its names for
// resources it never saw made, the callback names on the wire, axis ticks, the replay's block
// buttons, and a paused timeline's kept view.

import { describe, expect, it } from 'vitest';
import { FAN_OUT_MANY, POOL_WAIT_MS, poolSaturated, taskFindings } from '../main/reports/task-findings';
import type { TasksSummary } from '../main/reports/summary';
import { groupTitle, reportAt, shownBlocks, sourceBadge } from '../renderer/blocks/block-selection';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './helpers/probe-harness';
import { blockSamplesText } from '../main/common/block-samples-text';
import { RecordingReader } from '../main/recording/recording-reader';
import { RecordingPlayer } from '../main/replay/recording-player';
import { addBlock, groupKey, groupsWithOngoing, type BlockGroup } from '../main/session/blocked-groups';
import type { BlockedView, BlockGroupView, StackFrame, TimelineView } from '../main/ui/ui-api';
import { parseLaunchLine } from '../renderer/launch-line';
import { KEPT_LINES, MAX_LINE_CHARS, OutputBuffer } from '../main/launch/output-lines';
import { isLoopscopeCommand, scriptOf } from '../main/attach/own-processes';
import { TraceModel } from '../main/session/trace-model';
import { BEFORE_TRACE_TYPE, FORGOTTEN_TYPE } from '../main/common/trace-terms';
import { timelineView } from '../main/ui/trace-view';
import { TaskEventKind, type BlockedReport, type TaskEventBatch } from '../probe/wire';
import { encodeDictionary, encodeTaskEvents } from '../probe/wire-binary';
import { ProbeDecoder } from '../probe/wire-decoder';
import { decimalsFor, niceTicks, valueAxis } from '../renderer/charts/nice-ticks';
import { formatAxisTime, timeTicks } from '../renderer/charts/time-axis';
import { blockStep, markedReport, PAST_BLOCK_S } from '../renderer/replay/scrubber';
import { keepPaused } from '../renderer/timeline/paused-view';
import { parseLaunchSettings } from '../main/ui/ui-calls';
import { bootTimeOf, parseStat, startedAtMs } from '../main/attach/proc-parse';

const tasks = (over: Partial<TasksSummary> = {}): TasksSummary => ({
  promisesTracked: false,
  byType: {},
  threadpool: { size: 4, maxInFlight: 8, maxQueued: 4, completed: 16, queueMsP50: 0.4, queueMsP99: 1.6, saturated: false, saturatedIntervals: 3 },
  timers: { fired: 0, lateMsP50: 0, lateMsP99: 0, lateMsMax: 0 },
  fanOut: { p99: 0, max: 0, maxType: '' },
  slowCallbacks: [],
  growing: [],
  untracked: 0,
  ...over,
});

const frame = (functionName: string, url: string, lineNumber = 1, columnNumber = 1): StackFrame => ({ functionName, url, lineNumber, columnNumber });

describe('task findings', () => {
  it('calls a pool saturated only when queued work waited long enough to matter', () => {
    // The case: eight requests on four threads, a wait p99 of 1.6 ms.
    expect(poolSaturated(4, 1.6)).toBe(false);
    expect(poolSaturated(4, POOL_WAIT_MS)).toBe(true);
    expect(poolSaturated(0, 400)).toBe(false);
    const [keepsUp] = taskFindings(tasks());
    expect(keepsUp).toMatchObject({ topic: 'thread pool', severity: 'info', title: 'Thread pool keeps up', action: null });
    expect(keepsUp!.text).toBe('4 threads, up to 8 requests at once, wait p99 ≈1.60 ms');
    const [saturated] = taskFindings(tasks({ threadpool: { ...tasks().threadpool, queueMsP99: 404, saturated: true } }));
    expect(saturated).toMatchObject({ severity: 'problem', title: 'Thread pool saturated', text: '4 threads, up to 8 requests at once, wait p99 ≈404 ms: SATURATED, 4 queued at most' });
    expect(saturated!.action).toMatch(/UV_THREADPOOL_SIZE/);
  });

  it('says how late timers fire, warning only when enough fired late', () => {
    const find = (t: TasksSummary['timers']) => taskFindings(tasks({ timers: t })).find((f) => f.topic === 'timers');
    expect(find({ fired: 0, lateMsP50: 0, lateMsP99: 0, lateMsMax: 0 })).toBeUndefined();
    expect(find({ fired: 30, lateMsP50: 0.4, lateMsP99: 47, lateMsMax: 47 })?.severity).toBe('info');
    expect(find({ fired: 500, lateMsP50: 0.4, lateMsP99: 47, lateMsMax: 80 })).toMatchObject({ severity: 'warning', title: 'Timers fire late', text: '500 fired, late p50 ≈0.40 ms, p99 ≈47.0 ms, max 80.0 ms' });
  });

  it('names growing types with where they were made, fan-out, and the slowest callbacks by distinct site, the program\'s frames first', () => {
    const site = [frame('initAsyncResource', 'node:internal/timers'), frame('leak', '/app/leak.js', 3)];
    const found = taskFindings(tasks({
      growing: [{ type: 'Timeout', aliveAtStart: 10, aliveAtEnd: 400, sites: [{ type: 'Timeout', sampledAlive: 40, stack: site }] }],
      fanOut: { p99: 2, max: FAN_OUT_MANY, maxType: 'Immediate' },
      slowCallbacks: [
        { type: 'Timeout', durationMs: 130, startMs: 1, initStack: [frame('slow', '/app/a.js', 9)] },
        { type: 'Timeout', durationMs: 120, startMs: 2, initStack: [frame('slow', '/app/a.js', 9)] },
        { type: 'Immediate', durationMs: 3, startMs: 3, initStack: [frame('other', '/app/b.js', 2)], chain: [{ asyncId: 1, type: 'TCPWRAP' }, { asyncId: 2, type: 'Immediate' }] },
        { type: 'Immediate', durationMs: 0.2, startMs: 4, initStack: [frame('tiny', '/app/c.js', 2)] },
      ],
    }));
    expect(found.find((f) => f.topic === 'growing')).toMatchObject({ severity: 'warning', text: 'Timeout: 10 → 400 alive (a leak?)', frames: [site[1]] });
    expect(found.find((f) => f.topic === 'fan-out')).toMatchObject({ severity: 'warning', text: `one Immediate callback created ${FAN_OUT_MANY} resources (p99 ≈2)` });
    const slow = found.filter((f) => f.topic === 'slowest');
    expect(slow.map((f) => f.text)).toEqual(['Timeout callback, 130 ms', 'Immediate callback, 3.00 ms']);
    expect(slow[0]!.severity).toBe('warning');
    expect(slow[1]!.chain).toEqual(['TCPWRAP', 'Immediate']);
  });

  it('names each place a growing type was made at, a line of the program\'s whatever its column and callers: a Promise.all and its shards', () => {
    // As the probe sent them for test/fixtures/promise-fanout.js: by whole stack text.
    const at = (fn: string, line: number, column: number, caller: number): StackFrame[] => [
      { functionName: fn, url: '/app/fanout.js', lineNumber: line, columnNumber: column }, { functionName: 'tick', url: '/app/fanout.js', lineNumber: caller, columnNumber: 64 },
    ];
    const sites = [
      { type: 'PROMISE', sampledAlive: 7, stack: at('fetchShard', 10, 10, 18) },
      { type: 'PROMISE', sampledAlive: 5, stack: at('request', 19, 11, 24) },
      { type: 'PROMISE', sampledAlive: 4, stack: at('request', 19, 23, 24) },
      { type: 'PROMISE', sampledAlive: 2, stack: at('request', 19, 11, 30) },
      { type: 'PROMISE', sampledAlive: 1, stack: at('other', 40, 3, 24) },
      { type: 'PROMISE', sampledAlive: 1, stack: at('last', 50, 3, 24) },
    ];
    const growing = (s: typeof sites) => taskFindings(tasks({ growing: [{ type: 'PROMISE', aliveAtStart: 500, aliveAtEnd: 9000, sites: s }] })).find((f) => f.topic === 'growing')!;
    const found = growing(sites);
    expect(found.text).toBe('PROMISE: 500 → 9000 alive (a leak?); of the 20 sampled still alive, made 11 at request (fanout.js:19), 7 at fetchShard (fanout.js:10), 1 at other (fanout.js:40), and at 1 more place');
    // The place's stack: its site with the most alive.
    expect(found.frames[0]).toMatchObject({ functionName: 'request', lineNumber: 19, columnNumber: 11 });
    expect(found.action).toBe('look for ones never closed, cleared or awaited (the stack shown is the first place\'s)');
    // One place, several sites: no list.
    expect(growing(sites.slice(1, 4)).text).toBe('PROMISE: 500 → 9000 alive (a leak?)');
  });
});

const report = (id: number, t: number, durationMs: number, stack: readonly StackFrame[], ongoing = false): BlockedView => ({
  id, t, durationMs, at: new Date(0).toISOString(), ongoing, stack, stackError: stack.length ? null : 'not taken',
  stackSource: 'samples', samples: null, sampled: null, sampleKinds: null, lineSource: null, otherStacks: [], unsampled: null, group: groupKey(stack),
});
const wireReport = (b: BlockedView): BlockedReport => ({ id: b.id, state: 'ended', startUs: b.t * 1e6, durationUs: b.durationMs * 1000, stack: b.stack, stackSource: 'samples' });
const groupView = (g: BlockGroup): BlockGroupView => ({
  key: g.key, count: g.count, totalMs: g.totalUs / 1000, maxMs: g.maxUs / 1000, stack: g.stack, stackSource: g.stackSource, sources: g.sources,
  longestT: g.longestStartUs / 1e6, longestMs: g.maxUs / 1000, lastT: g.lastStartUs / 1e6, ongoing: false,
});

describe('block groups', () => {
  const parse = [frame('parse', '/app/a.js', 5, 7), frame('handle', '/app/a.js', 20), frame('processTimers', 'node:internal/timers', 519)];
  const parseElsewhere = [frame('JSON.parse', '', 0, 0), frame('parse', '/app/a.js', 5, 12), frame('handle', '/app/a.js', 20), frame('listOnTimeout', 'node:internal/timers', 581)];
  const compress = [frame('compress', '/app/z.js', 2), frame('handle', '/app/a.js', 22)];
  const blocked = [report(1, 1, 60, parse), report(2, 2, 70, parseElsewhere), report(3, 3, 300, compress), report(4, 4, 50, []), report(5, 5, 65, parse)];
  let grouped: { groups: readonly BlockGroup[]; overflow: number } = { groups: [], overflow: 0 };
  for (const b of blocked) grouped = addBlock(grouped.groups, grouped.overflow, wireReport(b));
  const groups = groupsWithOngoing(grouped.groups, []).map(groupView);

  it('puts reports with the same frames of the program\'s own (by line, not column) in one group, most time first', () => {
    expect(groups.map((g) => [g.count, g.totalMs, g.maxMs])).toEqual([[1, 300, 300], [3, 195, 70], [1, 50, 50]]);
    expect(groupKey(parse)).toBe(groupKey(parseElsewhere));
    expect(groupTitle(parse, '/app')).toEqual({ name: 'parse ← handle', where: 'a.js:5:7' });
    expect(groupTitle([], '')).toEqual({ name: 'no stack', where: 'none could be taken' });
  });

  it('badges a group with where most of its blocks\' stacks came from, and how many of how many when they differ (a real attach)', () => {
    // The blocks of `loopscope attach` to an HTTP server in readFileSync: the first before the
    // sampler's first start (from the interrupt), 25 more at the same place from samples.
    const { blocked: real } = JSON.parse(readFileSync(join(FIXTURES, 'readfile-attach-blocks.json'), 'utf8')) as { blocked: BlockedReport[] };
    let all: { groups: readonly BlockGroup[]; overflow: number } = { groups: [], overflow: 0 };
    for (const b of real.filter((r) => r.state === 'ended')) all = addBlock(all.groups, all.overflow, b);
    const [top] = groupsWithOngoing(all.groups, []).map(groupView);
    expect([top!.count, top!.stackSource]).toEqual([26, 'samples']);
    // The stack under that badge is a sampled block's, not the first block's from the interrupt.
    const firstSampled = real.find((b) => b.state === 'ended' && b.stackSource === 'samples')!;
    expect(all.groups.find((g) => g.count === 26)!.stack).toEqual(firstSampled.stack);
    expect(sourceBadge(top!.stackSource!, top!.sources)).toEqual({ label: 'samples 25/26', title: 'Stacks from CPU samples in 25 of 26 blocks, from the watchdog\'s interrupt in 1' });
    // One source for all, and a report's own: the plain badge.
    expect(sourceBadge('samples', groups[0]!.sources)).toEqual({ label: 'samples', title: 'From the CPU samples taken inside the block' });
    expect(sourceBadge('interrupt').label).toBe('interrupt');
  });

  it('shows the picked report with its group, else the picked group (the first by default) with its longest report', () => {
    const first = shownBlocks(groups, blocked, {});
    expect([first.group?.key, first.report?.id]).toEqual([groupKey(compress), 3]);
    const byGroup = shownBlocks(groups, blocked, { group: groupKey(parse) });
    expect(byGroup.reports.map((r) => r.id)).toEqual([5, 2, 1]);
    expect(byGroup.report?.id).toBe(2);
    const byReport = shownBlocks(groups, blocked, { report: 2 });
    expect([byReport.group?.key, byReport.report?.id]).toEqual([groupKey(parse), 2]);
    // A block going on whose place is not known yet: shown alone, in no group.
    const now = report(9, 6, 45, [frame('insert', 'node:internal/timers', 100)], true);
    const alone = shownBlocks(groups, [...blocked, now], { report: 9 });
    expect([alone.group, alone.report?.id, alone.reports.map((r) => r.id)]).toEqual([undefined, 9, [9]]);
  });

  it('picks the report whose block a click lands on or ends nearest, within the tolerance', () => {
    const r = [report(1, 10, 200, parse), report(2, 11, 50, parse)];
    expect(reportAt(r, 10.1, 0.5)?.id).toBe(1);
    expect(reportAt(r, 10.25, 0.5)?.id).toBe(1);
    expect(reportAt(r, 11.07, 0.5)?.id).toBe(2);
    expect(reportAt(r, 13, 0.5)).toBeUndefined();
  });

  it('says what the samples held: the stack\'s share, and what ran no JavaScript; or that none ran any, and the stack is the interrupt\'s', () => {
    const kinds = { gc: 3, idle: 1, program: 0, probe: 0 };
    expect(blockSamplesText({ samples: 5, sampled: 9, sampleKinds: kinds })).toBe('This stack in 5 of the block\'s 9 CPU samples; 3 in GC, 1 idle.');
    expect(blockSamplesText({ samples: 4, sampled: 4, sampleKinds: { gc: 0, idle: 0, program: 0, probe: 0 } })).toBe('This stack in 4 of the block\'s 4 CPU samples.');
    expect(blockSamplesText({ samples: 0, sampled: 4, sampleKinds: { ...kinds, idle: 0, gc: 4 } })).toBe('None of the block\'s 4 CPU samples ran JavaScript (4 in GC): this stack is the watchdog\'s, taken inside the block.');
    expect(blockSamplesText({ samples: null, sampled: null, sampleKinds: null })).toBeUndefined();
  });

  it('says when a block had far fewer samples than its length was due, and what became of the rest', () => {
    const none = { gc: 0, idle: 0, program: 0, probe: 0 };
    expect(blockSamplesText({ samples: 1, sampled: 1, sampleKinds: none }, { durationMs: 130, intervalMs: 20 })).toBe(
      'This stack in 1 of the block\'s 1 CPU samples. It had 1 where about 6 were due: the rest of it passed with no sample (the main thread in a system call, such as a large file read, or without a CPU).',
    );
    // Half or more, or too short a block to tell: nothing more.
    expect(blockSamplesText({ samples: 3, sampled: 3, sampleKinds: none }, { durationMs: 130, intervalMs: 20 })).toBe('This stack in 3 of the block\'s 3 CPU samples.');
    expect(blockSamplesText({ samples: 1, sampled: 1, sampleKinds: none }, { durationMs: 55, intervalMs: 20 })).toBe('This stack in 1 of the block\'s 1 CPU samples.');
    // The review's server blocked in readFileSync: most of its blocks had one sample a read.
    const reader = RecordingReader.open(join(FIXTURES, 'readfile-blocks.lsrec'));
    const player = new RecordingPlayer(reader, { recentSamples: 0, refuseOverLimit: true });
    player.advanceTo(Infinity);
    const texts = player.state.blocked.map((b) => blockSamplesText(b, { durationMs: b.durationUs / 1000, intervalMs: 20 }) ?? '');
    reader.close();
    expect(texts.filter((t) => t.includes('were due')).length).toBeGreaterThan(texts.length / 2);
  });
});

describe('a launch line', () => {
  it('takes leading VAR=value words as the environment, the rest as the command', () => {
    expect(parseLaunchLine(`PORT=3000 GREETING='hi there' EMPTY= node app.js A=1`)).toEqual({ env: { PORT: '3000', GREETING: 'hi there', EMPTY: '' }, argv: ['node', 'app.js', 'A=1'] });
    expect(parseLaunchLine('node app.js')).toEqual({ env: {}, argv: ['node', 'app.js'] });
    expect(parseLaunchLine('1A=2 node')).toEqual({ env: {}, argv: ['1A=2', 'node'] });
  });

  it('is checked where it arrives: names, values, folder', () => {
    expect(parseLaunchSettings({ cwd: '/tmp', env: { PORT: '1' } })).toEqual({ cwd: '/tmp', env: { PORT: '1' } });
    expect(parseLaunchSettings(null)).toBeUndefined();
    expect(() => parseLaunchSettings({ env: { 'A-B': '1' } })).toThrow(/"A-B" is not a variable name/);
    expect(() => parseLaunchSettings({ env: { A: 1 } })).toThrow(/the value of A must be text/);
    expect(() => parseLaunchSettings({ cwd: 'a\0b' })).toThrow(/cwd must be a folder path/);
    expect(() => parseLaunchSettings({ shell: true })).toThrow(/unknown launch setting "shell"/);
  });
});

describe('a program\'s output lines', () => {
  const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('splits lines across writes, even inside a character, and keeps the last one at the end', () => {
    const out = new OutputBuffer();
    const text = bytes('héllo\r\nwor');
    out.write(text.subarray(0, 2));
    out.write(text.subarray(2));
    out.write(bytes('ld\nlast'));
    expect(out.since(0, 10).lines).toEqual(['héllo', 'world']);
    out.end();
    expect(out.since(0, 10)).toEqual({ lines: ['héllo', 'world', 'last'], first: 0, total: 3, bytes: 18 });
  });

  it('keeps the last lines in bounded memory, counting what it let go, and cuts a line that never ends', () => {
    const out = new OutputBuffer();
    for (let i = 0; i < KEPT_LINES + 500; i++) out.write(bytes(`line ${i}\n`));
    expect(out.dropped).toBe(500);
    expect(out.since(0, 2)).toMatchObject({ lines: ['line 500', 'line 501'], first: 500, total: KEPT_LINES + 500 });
    expect(out.tail(1)).toEqual([`line ${KEPT_LINES + 499}`]);
    out.write(bytes('x'.repeat(MAX_LINE_CHARS * 2 + 10)));
    expect(out.tail(2).map((l) => l.length)).toEqual([MAX_LINE_CHARS, MAX_LINE_CHARS]);
    out.skip(5 * 1024 * 1024);
    expect(out.tail(1)[0]).toBe('[loopscope skipped 5.0 MB of output here: the program wrote faster than they could be read]');
  });
});

describe('loopscope\'s own processes', () => {
  it('are told by their script: loopscope by name, or this installation\'s entries', () => {
    expect(scriptOf(['node', '--inspect-port', '0', '-r', 'x.js', 'app.js', 'serve'])).toBe('app.js');
    expect(scriptOf(['node', '-e', '1'])).toBeUndefined();
    expect(isLoopscopeCommand(['node', '/home/u/.npm/_npx/1/node_modules/.bin/loopscope', 'serve'], '/x', [])).toBe(true);
    expect(isLoopscopeCommand(['node', 'bin/loopscope.js', 'run', '--', 'node', 'app.js'], '/repo', [])).toBe(true);
    expect(isLoopscopeCommand(['node', 'bin/start-app.js'], '/repo', ['/repo/bin/start-app.js'])).toBe(true);
    expect(isLoopscopeCommand(['node', 'app.js'], '/repo', ['/repo/bin/start-app.js'])).toBe(false);
    expect(isLoopscopeCommand(['node', '-e', 'require("loopscope")'], '/repo', [])).toBe(false);
  });

  it('and a process\'s start comes from /proc: ticks since boot', () => {
    expect(bootTimeOf('cpu  1 2 3\nbtime 1700000000\nprocesses 5\n')).toBe(1_700_000_000);
    const stat = `42 (node (odd) name) S ${Array.from({ length: 18 }, (_, i) => i + 4).join(' ')} 12345 0 0`;
    expect(startedAtMs(parseStat(stat), 1_700_000_000)).toBe(1_700_000_000_000 + 123_450);
    expect(startedAtMs(parseStat(stat), undefined)).toBeUndefined();
  });
});

type Event = readonly [kind: number, asyncId: number, timeUs: number, type?: string, triggerId?: number, name?: string];

function batch(events: readonly Event[]): TaskEventBatch {
  const strings = [...new Set(events.flatMap((e) => [e[3], e[5]]).filter((t): t is string => t !== undefined))];
  const id = (s: string | undefined): number => (s === undefined ? 0 : strings.indexOf(s) + 1);
  return {
    count: events.length,
    kinds: Uint8Array.from(events, (e) => e[0]),
    asyncIds: Float64Array.from(events, (e) => e[1]),
    triggerIds: Float64Array.from(events, (e) => e[4] ?? 0),
    timesUs: Float64Array.from(events, (e) => e[2]),
    typeIds: Uint16Array.from(events, (e) => id(e[3])),
    types: new Map(strings.map((s, i) => [i + 1, s])),
    nameIds: Uint16Array.from(events, (e) => id(e[5])),
    names: new Map(strings.map((s, i) => [i + 1, s])),
  };
}

describe('the trace model\'s length and names', () => {
  const { init, before, after, turn } = TaskEventKind;

  it('keeps the latest keepS seconds of turns, settable, and says when its bounds cut it sooner', () => {
    const model = new TraceModel();
    model.setKeep(5);
    const events: Event[] = [];
    for (let i = 0; i < 200; i++) events.push([turn, 0, i * 100_000]);
    model.apply(batch(events));
    const view = timelineView(model, 0, 0, 30, 100);
    expect(view.keepS).toBe(5);
    expect(view.full).toBe(false);
    // Let go in batches of at least a 64th: a little more than 5 s may stay.
    expect(view.extent!.fromS).toBeGreaterThanOrEqual(19.9 - 5 - 0.4);
    expect(view.extent!.fromS).toBeLessThanOrEqual(19.9 - 5 + 0.1);
    model.setKeep(0.01);
    expect(model.keepS).toBe(1);
    model.setKeep(1e9);
    expect(model.keepS).toBe(600);
  });

  it('names a callback by its function, and one whose resource it never saw made by why', () => {
    const model = new TraceModel();
    model.apply(batch([
      [turn, 0, 0],
      // #5 was made before tracing: the first traced init is #10.
      [before, 5, 1], [after, 5, 2],
      [init, 10, 3, 'Timeout', 1, 'tick'], [init, 11, 4, 'TCPWRAP', 1], [init, 12, 5, 'Timeout', 1],
      [before, 10, 6], [after, 10, 7], [before, 11, 8], [after, 11, 9],
      // #20 is above the first traced id but was never seen: forgotten.
      [before, 20, 10], [after, 20, 11],
    ]));
    const slices = timelineView(model, 0, 0, 1, 100).slices.map((s) => [s.asyncId, s.type, s.name]);
    expect(slices).toEqual([[5, BEFORE_TRACE_TYPE, null], [10, 'Timeout', 'tick'], [11, 'TCPWRAP', null], [20, FORGOTTEN_TYPE, null]]);
    expect(timelineView(model, 0, 0, 1, 100).tracedFromAsyncId).toBe(10);
  });
});

describe('callback names on the wire', () => {
  const decode = (frames: readonly Uint8Array[]) => {
    const d = new ProbeDecoder();
    return frames.map((f) => d.decode({ type: f[5] as never, payload: f.subarray(8) }));
  };
  /** The batch of a dictionary and a task events frame. */
  const batchOf = (frames: readonly Uint8Array[]): TaskEventBatch => {
    const m = decode(frames)[1];
    if (m?.type !== 'taskEvents') throw new Error('not a task events frame');
    return m.batch;
  };
  const cols = { kinds: Uint8Array.from([0, 0, 1]), ids: Float64Array.from([7, 8, 7]), triggers: Float64Array.from([1, 1, 0]), times: Float64Array.from([1, 2, 3]), types: Uint16Array.from([1, 1, 0]) };

  it('travel in a column of their own, only when a batch names any', () => {
    const dict = encodeDictionary([[1, 'Timeout'], [2, 'tick']]);
    const named = batchOf([dict, encodeTaskEvents(3, cols.kinds, cols.ids, cols.triggers, cols.times, cols.types, Uint16Array.from([2, 0, 0]))]);
    expect([...named.nameIds!]).toEqual([2, 0, 0]);
    expect(named.names!.get(2)).toBe('tick');
    expect(batchOf([dict, encodeTaskEvents(3, cols.kinds, cols.ids, cols.triggers, cols.times, cols.types)]).nameIds).toBeUndefined();
  });

  it("say which is a hook's first, for the views worked out from them (event-views.ts)", () => {
    const dict = encodeDictionary([[1, 'Timeout']]);
    expect(batchOf([dict, encodeTaskEvents(3, cols.kinds, cols.ids, cols.triggers, cols.times, cols.types, undefined, undefined, true)]).first).toBe(true);
    expect(batchOf([dict, encodeTaskEvents(3, cols.kinds, cols.ids, cols.triggers, cols.times, cols.types)]).first).toBeUndefined();
  });

  it('are checked: a name not in the dictionary, or a flag no probe sets, is refused', () => {
    const dict = encodeDictionary([[1, 'Timeout']]);
    expect(() => decode([dict, encodeTaskEvents(3, cols.kinds, cols.ids, cols.triggers, cols.times, cols.types, Uint16Array.from([9, 0, 0]))])).toThrow(/name id 9 is not in the dictionary/);
    const odd = encodeTaskEvents(3, cols.kinds, cols.ids, cols.triggers, cols.times, cols.types);
    new DataView(odd.buffer).setUint32(12, 6, true);
    expect(() => decode([dict, odd])).toThrow(/unknown flags 6/);
  });
});

describe('axis ticks', () => {
  it('steps by 1, 2 or 5 × 10ⁿ on whole multiples, with the decimals the step needs', () => {
    expect(niceTicks(0.3, 8.8, 3)).toEqual({ ticks: [5], step: 5 });
    expect(niceTicks(0.3, 8.8, 5)).toEqual({ ticks: [2, 4, 6, 8], step: 2 });
    expect(niceTicks(0.05, 0.31, 5)).toEqual({ ticks: [0.1, 0.2, 0.3], step: 0.1 });
    expect(decimalsFor(0.5)).toBe(1);
    expect(decimalsFor(20)).toBe(0);
    // Never 95/190/285: a round top and round steps.
    expect(valueAxis(285)).toEqual({ top: 300, ticks: [0, 100, 200, 300], step: 100 });
    expect(valueAxis(0)).toEqual({ top: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
  });

  it('reads the wall clock at round clock times when asked', () => {
    const mode = { startedAtMs: Date.UTC(2026, 0, 1, 12, 0, 7, 400), clock: true };
    const { ticks, step } = timeTicks(0, 60, 400, mode);
    expect(step).toBe(15);
    // 12:00:15, :30, :45 and 12:01:00, in t.
    expect(ticks.map((t) => Math.round((t + 7.4) * 10) / 10)).toEqual([15, 30, 45, 60]);
    expect(formatAxisTime(0, 0.1, { startedAtMs: null, clock: true })).toBe('0.0 s');
    expect(formatAxisTime(2.5, 1, { startedAtMs: null, clock: false })).toBe('3 s');
  });
});

describe('the replay bar\'s block buttons', () => {
  const marks = [{ kind: 'blocked' as const, t: 2, durationMs: 100 }, { kind: 'gc' as const, t: 3, durationMs: 20 }, { kind: 'blocked' as const, t: 5, durationMs: 300 }];
  it('go just past the next or previous blocked loop\'s end, and nowhere past the last', () => {
    const first = 2.1 + PAST_BLOCK_S;
    const second = 5.3 + PAST_BLOCK_S;
    expect(blockStep(marks, 0, 1)?.t).toBeCloseTo(first);
    expect(blockStep(marks, first, 1)?.t).toBeCloseTo(second);
    expect(blockStep(marks, second, 1)).toBeUndefined();
    expect(blockStep(marks, second, -1)?.t).toBeCloseTo(first);
    expect(blockStep(marks, first, -1)).toBeUndefined();
  });

  it('wait for a block\'s first report: one the watchdog missed comes with its samples, a second on', () => {
    const late = [{ kind: 'blocked' as const, t: 0.01, durationMs: 90, reportedT: 1.1 }, { kind: 'blocked' as const, t: 0.5, durationMs: 60, reportedT: 0.56 }];
    expect(blockStep(late, 0, 1)).toEqual({ mark: late[1], t: 0.5 + 0.06 + PAST_BLOCK_S });
    expect(blockStep(late, 0.81, 1)?.mark).toBe(late[0]);
    expect(blockStep(late, 0.81, 1)!.t).toBeGreaterThan(1.1);
    expect(blockStep(late, 0.81, 1)!.t).toBeLessThan(1.11);
  });

  it('say which block they go to, and its report is found by the mark\'s id', () => {
    const withIds = marks.map((m, i) => (m.kind === 'blocked' ? { ...m, id: i + 10 } : m));
    expect(blockStep(withIds, 0, 1)?.mark).toEqual(withIds[0]);
    expect(blockStep(withIds, 6, -1)?.mark).toEqual(withIds[2]);
    const at = (id: number, t: number): BlockedView => report(id, t, 100, []);
    expect(markedReport([at(11, 2.004), at(12, 5)], withIds[2]!)?.id).toBe(12);
    expect(markedReport([at(11, 2.004)], withIds[2]!)).toBeUndefined();
    expect(markedReport([at(11, 2.0001), at(12, 5)], marks[0]!)?.id).toBe(11);
  });
});

describe('a paused timeline', () => {
  const view = (turns: number, extentFrom: number): TimelineView => ({
    fromS: 10, toS: 12, turns: Array.from({ length: turns }, (_, i) => ({ startS: 10 + i * 0.01, durationMs: 1, callbacks: 1 })), slices: [],
    hiddenTurns: 0, hiddenSlices: 0, extent: { fromS: extentFrom, toS: 20 }, keepS: 5, full: false, tracedFromAsyncId: 1,
  });
  it('keeps what it showed once the trace lets the window go, and takes what the trace adds', () => {
    expect(keepPaused(view(50, 8), view(30, 11))).toEqual({ view: { ...view(50, 8), extent: { fromS: 11, toS: 20 } }, kept: true });
    expect(keepPaused(view(30, 8), view(50, 8))).toEqual({ view: view(50, 8), kept: false });
    expect(keepPaused(undefined, view(30, 11))).toEqual({ view: view(30, 11), kept: false });
  });
});
