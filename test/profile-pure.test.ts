// The CPU sampler's pure parts: its wire messages (and what a crafted stream cannot make
// loopscope do), the worker's table of V8's profiles, the blame of a block from its samples,
// the call line from the source text, the session's profile model and what the summary, the
// window and the exports compute from it. End to end, with real processes: sampler*.test.ts,
// profile-export.test.ts, ui-profile.test.ts.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blameBlock, type SampleTree } from '../probe/block-blame';
import { ProfileTable, scaleTicks, type V8Profile } from '../probe/profile-table';
import { onlyCallLine } from '../probe/source-lines';
import { MessageType, WireError, WireLimitError, type ProfileBatch, type ProfileDictionary, type ProfileFrame, type StackFrame } from '../probe/wire';
import { FrameReader } from '../probe/wire-framing';
import { encodeBlocked, encodeProbePause, encodeProfilerState } from '../probe/wire-json';
import { encodeProfileDictionary, encodeProfileSamples } from '../probe/wire-profile';
import { ProbeDecoder } from '../probe/wire-decoder';
import { ProfileModel } from '../main/session/profile-model';
import { rangeStats, splitByLine } from '../main/session/profile-stats';
import { summarizeProfile } from '../main/reports/profile-summary';
import { profileLines } from '../main/terminal/summary-text';
import { toCpuProfile } from '../main/reports/cpuprofile';
import { profileView } from '../main/ui/profile-view';
import { CallError, dispatchCall } from '../main/ui/ui-calls';
import { layoutFlame } from '../renderer/profile/flame-layout';
import { fakeApi } from './helpers/fake-api';
import { FIXTURES } from './helpers/probe-harness';
import { RecordingReader } from '../main/recording/recording-reader';
import { RecordingPlayer } from '../main/replay/recording-player';
import { WHOLE_RECORDING_SAMPLES } from '../main/session/profile-model';

const frame = (functionName: string, url = '/app.js', lineNumber = 1, kind: ProfileFrame['kind'] = 'code'): ProfileFrame => ({ functionName, url, lineNumber, columnNumber: 1, kind });
const decode = (bytes: Uint8Array, decoder = new ProbeDecoder()) => new FrameReader().push(bytes).map((f) => decoder.decode(f));

// (root) → main → parse; (root) → (idle); (root) → (garbage collector)
const dictionary: ProfileDictionary = {
  reset: false,
  frames: [[1, frame('(root)', '', 0, 'root')], [2, frame('main', '/app.js', 3)], [3, frame('parse', '/app.js', 10)], [4, frame('(idle)', '', 0, 'idle')], [5, frame('(garbage collector)', '', 0, 'gc')]],
  nodes: [[1, 0, 1], [2, 1, 2], [3, 2, 3], [4, 1, 4], [5, 1, 5]],
};

const batch = (nodeIds: number[], fromUs: number, lineTicks: number[] = []): ProfileBatch => ({
  fromUs, toUs: fromUs + nodeIds.length * 20_000, intervalUs: 20_000, count: nodeIds.length,
  nodeIds: Uint32Array.from(nodeIds), timesUs: Float64Array.from(nodeIds.map((_, i) => fromUs + (i + 1) * 20_000)), lineTicks: Uint32Array.from(lineTicks),
});

describe('the profile on the wire', () => {
  it('round-trips the dictionary and a harvest of samples', () => {
    const b = batch([3, 3, 4, 5, 3], 1_000_000, [3, 11, 3]);
    const [d, s] = decode(new Uint8Array([...encodeProfileDictionary(dictionary), ...encodeProfileSamples(b)]));
    expect(d).toEqual({ type: 'profileDictionary', dictionary });
    expect(s).toEqual({ type: 'profileSamples', batch: b });
  });

  it('refuses samples of nodes it was never told of, out of order, or out of their range', () => {
    const decoder = new ProbeDecoder();
    decode(encodeProfileDictionary(dictionary), decoder);
    expect(() => decode(encodeProfileSamples(batch([3, 9], 0)), decoder)).toThrow(/node 9, which is not in the dictionary/);
    expect(() => decode(encodeProfileSamples(batch([3], 0, [9, 1, 1])), decoder)).toThrow(/line tick refers to node 9/);
    const back = { ...batch([3, 3], 0), timesUs: Float64Array.from([40_000, 20_000]) };
    expect(() => decode(encodeProfileSamples(back), decoder)).toThrow(/out of order/);
    const outside = { ...batch([3], 0), toUs: 10_000 };
    expect(() => decode(encodeProfileSamples(outside), decoder)).toThrow(/out of order or out of range/);
  });

  it('refuses nodes whose parent or frame is unknown, node 0, and a node defined twice (so no chain of parents can loop)', () => {
    const d = (nodes: [number, number, number][]): Uint8Array => encodeProfileDictionary({ reset: false, frames: [[1, frame('f')]], nodes });
    expect(() => decode(d([[1, 5, 1]]))).toThrow(/parent 5/);
    expect(() => decode(d([[1, 0, 7]]))).toThrow(/frame 7/);
    expect(() => decode(d([[0, 0, 1]]))).toThrow(/reserved/);
    expect(() => decode(d([[1, 0, 1], [2, 1, 1], [1, 2, 1]]))).toThrow(/defined twice/);
    const decoder = new ProbeDecoder();
    decode(d([[1, 0, 1]]), decoder);
    expect(() => decode(d([[1, 0, 1]]), decoder)).toThrow(/defined twice/);
    // After a reset the probe's ids start afresh.
    expect(decode(encodeProfileDictionary({ reset: true, frames: [[1, frame('g')]], nodes: [[1, 0, 1]] }), decoder)).toHaveLength(1);
  });

  it('bounds what a crafted dictionary can make loopscope hold', () => {
    const many = Array.from({ length: 70_000 }, (_, i) => [i + 1, frame(`f${i}`)] as const);
    expect(() => decode(encodeProfileDictionary({ reset: false, frames: many, nodes: [] }))).toThrow(WireLimitError);
    const long = frame('x'.repeat(5000));
    expect(() => decode(encodeProfileDictionary({ reset: false, frames: [[1, long]], nodes: [] }))).toThrow(WireLimitError);
    // A payload whose counts say more than it holds.
    const payload = encodeProfileDictionary(dictionary).subarray(8);
    expect(() => new ProbeDecoder().decode({ type: MessageType.ProfileDictionary, payload: payload.subarray(0, payload.length - 3) })).toThrow(WireError);
  });

  it('round-trips the sampler\'s fields of a blocked report, the probe\'s pauses and the sampler\'s state; older reports have none', () => {
    const report = {
      id: 1, state: 'ended' as const, startUs: 5, durationUs: 90_000, stack: [{ functionName: 'parse', url: '/app.js', lineNumber: 11, columnNumber: 0 }],
      stackSource: 'samples' as const, samples: 4, sampled: 5, lineSource: 'samples' as const, sampleKinds: { gc: 1, idle: 0, program: 0, probe: 0 },
      otherStacks: [{ stack: [{ functionName: 'other', url: '/app.js', lineNumber: 20, columnNumber: 0 }], samples: 1 }],
    };
    const [b, p, s] = decode(new Uint8Array([
      ...encodeBlocked(report), ...encodeProbePause({ what: 'probe start', startUs: 1, durationUs: 2 }),
      ...encodeProfilerState({ state: 'paused', intervalMs: 20, reason: 'why' }),
    ]));
    expect(b).toEqual({ type: 'blocked', report });
    expect(p).toEqual({ type: 'probePause', pause: { what: 'probe start', startUs: 1, durationUs: 2 } });
    expect(s).toEqual({ type: 'profilerState', profiler: { state: 'paused', intervalMs: 20, reason: 'why' } });
    const [old] = decode(encodeBlocked({ id: 2, state: 'ended', startUs: 5, durationUs: 90_000, stack: [] }));
    expect(old).toEqual({ type: 'blocked', report: { id: 2, state: 'ended', startUs: 5, durationUs: 90_000, stack: [], stackError: undefined } });
    expect(() => decode(encodeBlocked({ ...report, stackSource: 'guess' as never }))).toThrow(/stackSource/);
    expect(() => decode(encodeProfilerState({ state: 'on', intervalMs: 0 }))).toThrow(/intervalMs/);
    expect(MessageType.ProfileSamples).toBe(10);
  });
});

describe('the worker\'s table of V8\'s profiles', () => {
  const cf = (functionName: string, url = 'file:///app.js', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });
  const profile = (startTime: number, samples: number[], deltas: number[]): V8Profile => ({
    startTime, endTime: startTime + deltas.reduce((a, b) => a + b, 0),
    nodes: [
      { id: 1, callFrame: cf('(root)', ''), children: [2, 4, 5] },
      { id: 2, callFrame: cf('main', 'file:///app.js', 2), children: [3] },
      { id: 3, callFrame: cf('parse', 'file:///app.js', 9), positionTicks: [{ line: 11, ticks: 1 }, { line: 12, ticks: 1 }] },
      { id: 4, callFrame: cf('(idle)', '') },
      { id: 5, callFrame: cf('', 'loopscope-probe-profile'), children: [6] },
      { id: 6, callFrame: cf('control', '/probe.js', 100) },
    ],
    samples, timeDeltas: deltas,
  });

  it('takes each sample once across overlapping profiles, on the main thread\'s clock, without the harvests\' own', () => {
    const table = new ProfileTable({ file: '/probe.js' }, 1000);
    const a = table.ingest(profile(10_000, [4, 3, 3, 6], [1000, 20_000, 20_000, 100]), 20_000);
    // The next profile started before this one ended: its first two samples were in both.
    const b = table.ingest(profile(40_000, [3, 6, 3, 4], [1000, 100, 100, 20_000]), 20_000);
    expect([...a.timesUs]).toEqual([10_000, 30_000, 50_000]);
    expect([...b.timesUs]).toEqual([60_200]);
    expect(b.fromUs).toBe(a.toUs);
    // The probe's harvest (under loopscope-probe-profile) is dropped; its node is still known.
    const dict = table.unsent()!;
    expect(dict.frames.map(([, f]) => [f.functionName, f.url, f.kind])).toContainEqual(['parse', '/app.js', 'code']);
    expect(dict.frames.map(([, f]) => f.kind)).toContain('probe');
    const parseNode = dict.nodes.find(([, , f]) => dict.frames.find(([id]) => id === f)![1].functionName === 'parse')![0];
    expect([...a.lineTicks]).toEqual([parseNode, 11, 1, parseNode, 12, 1]);
    // V8 counts lines over a whole profile: those of the samples the first harvest sent are not counted again.
    expect([...b.lineTicks]).toEqual([]);
    table.markSent();
    expect(table.unsent()).toBeUndefined();
    expect(table.samplesBetween(0, 60_000).nodes).toHaveLength(3);
  });

  it('keeps only the lines inside the function: V8 gives code inlined into it the lines of its own script', () => {
    const inlined = (startTime: number): V8Profile => ({
      startTime, endTime: startTime + 40_000,
      nodes: [
        { id: 1, callFrame: cf('(root)', ''), children: [2] },
        { id: 2, callFrame: cf('spin', 'file:///app.js', 9), positionTicks: [{ line: 11, ticks: 2 }, { line: 139, ticks: 1 }, { line: 5, ticks: 1 }] },
      ],
      samples: [2, 2, 2, 2], timeDeltas: [10_000, 10_000, 10_000, 10_000],
    });
    const withSource = new ProfileTable({ file: '/probe.js' }, 0, (f) => (f.functionName === 'spin' ? { from: 10, to: 13 } : undefined));
    expect([...withSource.ingest(inlined(0), 10_000).lineTicks].filter((_, i) => i % 3 === 1)).toEqual([11]);
    // Without the source, only lines before the function's own are known not to be its.
    const without = new ProfileTable({ file: '/probe.js' }, 0);
    expect([...without.ingest(inlined(0), 10_000).lineTicks].filter((_, i) => i % 3 === 1)).toEqual([11, 139]);
  });

  it('scales a node\'s line ticks to the samples it keeps, the largest shares first', () => {
    const ticks = [{ line: 11, ticks: 3 }, { line: 12, ticks: 1 }, { line: 0, ticks: 5 }];
    expect(scaleTicks(ticks, 2)).toEqual([[11, 2]]);
    expect(scaleTicks(ticks, 3)).toEqual([[11, 2], [12, 1]]);
    expect(scaleTicks(ticks, 9)).toEqual([[11, 3], [12, 1]]);
    expect(scaleTicks([], 3)).toEqual([]);
  });
});

/** A tree of nodes from paths: node n is the frame named by the last name of path n, its parent the path without it. */
function tree(paths: string[][]): SampleTree & { id(path: string[]): number } {
  const frames: ProfileFrame[] = [];
  const parents: number[] = [];
  const ids = new Map<string, number>();
  const own = (name: string): ProfileFrame => (
    name.startsWith('node:') ? frame(name.slice(5), 'node:internal/x', 1) : name === 'native' ? frame('hexSlice', '', 0) : name.startsWith('(') ? frame(name, '', 0, name === '(garbage collector)' ? 'gc' : name === '(idle)' ? 'idle' : 'root') : name === 'probe' ? frame('beat', '/probe.js', 1, 'probe') : frame(name, '/app.js', name.length)
  );
  const idOf = (path: string[]): number => {
    const key = path.join('>');
    let id = ids.get(key);
    if (id === undefined) {
      const parent = path.length > 1 ? idOf(path.slice(0, -1)) : 0;
      frames.push(own(path[path.length - 1]!));
      parents.push(parent);
      id = frames.length;
      ids.set(key, id);
    }
    return id;
  };
  for (const p of paths) idOf(p);
  return { frame: (n) => frames[n - 1]!, parent: (n) => parents[n - 1]!, id: idOf };
}

describe('a block\'s stack from its samples', () => {
  it('a JSON.parse: the caller is the leaf, its line from V8\'s line ticks; GC and the probe\'s samples stand apart', () => {
    const t = tree([['(root)', 'tick', 'parseBig'], ['(garbage collector)'], ['(root)', 'probe']]);
    const parse = t.id(['(root)', 'tick', 'parseBig']);
    const nodes = [parse, parse, parse, t.id(['(garbage collector)']), parse, t.id(['(root)', 'probe'])];
    const b = blameBlock(t, { nodes, lines: new Map([[parse, new Map([[15, 4], [16, 1]])]]), interrupt: undefined })!;
    expect(b.stack[0]).toMatchObject({ functionName: 'parseBig', lineNumber: 15 });
    expect(b).toMatchObject({ samples: 4, sampled: 6, lineSource: 'samples', kinds: { gc: 1, probe: 1, idle: 0, program: 0 }, others: [] });
  });

  it('a Buffer\'s toString: the caller above Node\'s code and a native, its line from the interrupt, else the source, else its own', () => {
    const t = tree([['(root)', 'tick', 'bufferHex', 'node:toString', 'native']]);
    const leaf = t.id(['(root)', 'tick', 'bufferHex', 'node:toString', 'native']);
    const nodes = [leaf, leaf, leaf];
    const interrupt = [{ functionName: 'bufferHex', url: '/app.js', lineNumber: 45, columnNumber: 19 }, { functionName: 'tick', url: '/app.js', lineNumber: 90, columnNumber: 3 }];
    const viaInterrupt = blameBlock(t, { nodes, lines: new Map(), interrupt })!;
    expect(viaInterrupt.stack.map((f) => `${f.functionName}:${f.lineNumber}`)).toEqual(['hexSlice:0', 'toString:1', 'bufferHex:45', 'tick:90']);
    expect(viaInterrupt.lineSource).toBe('interrupt');
    const viaSource = blameBlock(t, { nodes, lines: new Map(), interrupt: undefined, callLine: (f, callee) => (f.functionName === 'bufferHex' && callee === 'toString' ? 44 : undefined) })!;
    expect([viaSource.stack[2]!.lineNumber, viaSource.lineSource]).toEqual([44, 'source']);
    const own = blameBlock(t, { nodes, lines: new Map(), interrupt: undefined })!;
    expect([own.stack[2]!.lineNumber, own.lineSource]).toEqual(['bufferHex'.length, 'function']);
  });

  it('a line from the samples takes its column from an interrupt taken on that line, and only then', () => {
    const t = tree([['(root)', 'tick', 'spin']]);
    const spin = t.id(['(root)', 'tick', 'spin']);
    const at = (line: number) => [{ functionName: 'spin', url: '/app.js', lineNumber: line, columnNumber: 3 }, { functionName: 'tick', url: '/app.js', lineNumber: 19, columnNumber: 3 }];
    const input = (interrupt: StackFrame[] | undefined) => ({ nodes: [spin, spin], lines: new Map([[spin, new Map([[14, 2]])]]), interrupt });
    expect(blameBlock(t, input(at(14)))!).toMatchObject({ lineSource: 'samples', stack: [{ functionName: 'spin', lineNumber: 14, columnNumber: 3 }, { functionName: 'tick', lineNumber: 19 }] });
    expect(blameBlock(t, input(at(13)))!.stack[0]).toMatchObject({ lineNumber: 14, columnNumber: 0 });
    expect(blameBlock(t, input(undefined))!.stack[0]).toMatchObject({ lineNumber: 14, columnNumber: 0 });
  });

  it('a caller the interrupt does not show: the line of its one call of its callee, from the source', () => {
    const t = tree([['(root)', 'onTimer', 'parseBig', 'spin']]);
    const spin = t.id(['(root)', 'onTimer', 'parseBig', 'spin']);
    const callLine = (f: ProfileFrame, callee: string) => (f.functionName === 'parseBig' && callee === 'spin' ? 12 : f.functionName === 'onTimer' && callee === 'parseBig' ? 19 : undefined);
    const input = { nodes: [spin, spin, spin], lines: new Map([[spin, new Map([[9, 3]])]]), interrupt: undefined };
    const fromSource = blameBlock(t, { ...input, callLine })!;
    expect(fromSource.stack.map((f) => `${f.functionName}:${f.lineNumber}`)).toEqual(['spin:9', 'parseBig:12', 'onTimer:19']);
    // The same block with the interrupt taken in the call: the same lines, so the same group.
    const interrupt = [
      { functionName: 'spin', url: '/app.js', lineNumber: 9, columnNumber: 3 },
      { functionName: 'parseBig', url: '/app.js', lineNumber: 12, columnNumber: 3 },
      { functionName: 'onTimer', url: '/app.js', lineNumber: 19, columnNumber: 5 },
    ];
    const fromInterrupt = blameBlock(t, { ...input, interrupt, callLine })!;
    expect(fromInterrupt.stack.map((f) => `${f.functionName}:${f.lineNumber}`)).toEqual(['spin:9', 'parseBig:12', 'onTimer:19']);
    // With neither: the functions' own lines.
    expect(blameBlock(t, input)!.stack.map((f) => f.lineNumber)).toEqual([9, 'parseBig'.length, 'onTimer'.length]);
  });

  it('an interrupt taken elsewhere (not in the blamed call) lends no lines', () => {
    const t = tree([['(root)', 'tick', 'parseBig']]);
    const parse = t.id(['(root)', 'tick', 'parseBig']);
    const b = blameBlock(t, { nodes: [parse, parse], lines: new Map([[parse, new Map([[15, 2]])]]), interrupt: [{ functionName: 'tick', url: '/app.js', lineNumber: 96, columnNumber: 1 }] })!;
    expect(b.stack[1]).toMatchObject({ functionName: 'tick', lineNumber: 'tick'.length });
  });

  it('a sort with a comparator: the function that sorts, not the comparator that holds half its samples', () => {
    const t = tree([['(root)', 'tick', 'sortBig', 'cmp']]);
    const sort = t.id(['(root)', 'tick', 'sortBig']);
    const cmp = t.id(['(root)', 'tick', 'sortBig', 'cmp']);
    const b = blameBlock(t, { nodes: [sort, cmp, sort, cmp, cmp, sort], lines: new Map([[sort, new Map([[40, 3]])]]), interrupt: undefined })!;
    expect(b.stack[0]).toMatchObject({ functionName: 'sortBig', lineNumber: 40 });
    expect(b.samples).toBe(6);
  });

  it('a function inlined into its caller, which no sample shows: its frame and line from the interrupt taken in the same call', () => {
    // slowStartup() was inlined into the module's top level: the samples show (module) → now.
    const t = tree([['(root)', 'module', 'node:now']]);
    const leaf = t.id(['(root)', 'module', 'node:now']);
    const interrupt = [{ functionName: 'slowStartup', url: '/app.js', lineNumber: 8, columnNumber: 10 }, { functionName: 'module', url: '/app.js', lineNumber: 11, columnNumber: 1 }];
    const b = blameBlock(t, { nodes: [leaf, leaf, leaf], lines: new Map(), interrupt })!;
    expect(b.stack.map((f) => `${f.functionName}:${f.lineNumber}`)).toEqual(['now:1', 'slowStartup:8', 'module:11']);
    expect(b.lineSource).toBe('interrupt');
    // A comparator the samples do show is not taken from the interrupt: the sort stays blamed.
    const s = tree([['(root)', 'tick', 'sortBig', 'cmp']]);
    const sort = s.id(['(root)', 'tick', 'sortBig']);
    const cmp = s.id(['(root)', 'tick', 'sortBig', 'cmp']);
    const viaCmp = [{ functionName: 'cmp', url: '/app.js', lineNumber: 40, columnNumber: 30 }, { functionName: 'sortBig', url: '/app.js', lineNumber: 40, columnNumber: 5 }];
    const sorted = blameBlock(s, { nodes: [sort, cmp, sort, cmp, sort], lines: new Map([[sort, new Map([[40, 3]])]]), interrupt: viaCmp })!;
    expect(sorted.stack[0]).toMatchObject({ functionName: 'sortBig', lineNumber: 40 });
  });

  it('code compiled before the profiler started, which no sample names: the user frame above Node\'s from the interrupt taken in the same call', () => {
    // childBlock()'s loop was compiled on the stack in the block in which the profiler's first
    // start came: V8 logged no code for it, and its samples end in Node's timers.
    const t = tree([['(root)', 'node:processTimers', 'node:listOnTimeout']]);
    const leaf = t.id(['(root)', 'node:processTimers', 'node:listOnTimeout']);
    const interrupt = [
      { functionName: 'childBlock', url: '/app.js', lineNumber: 18, columnNumber: 20 },
      { functionName: 'listOnTimeout', url: 'node:internal/x', lineNumber: 581, columnNumber: 17 },
      { functionName: 'processTimers', url: 'node:internal/x', lineNumber: 519, columnNumber: 7 },
    ];
    const b = blameBlock(t, { nodes: [leaf, leaf, leaf], lines: new Map(), interrupt })!;
    expect(b.stack.map((f) => `${f.functionName}:${f.lineNumber}`)).toEqual(['childBlock:18', 'listOnTimeout:1', 'processTimers:1']);
    expect(b.lineSource).toBe('interrupt');
    // Without an interrupt taken inside the block, the samples say what they can.
    expect(blameBlock(t, { nodes: [leaf, leaf, leaf], lines: new Map(), interrupt: undefined })!.stack[0]!.functionName).toBe('listOnTimeout');
  });

  it('a block that did two things: the heavier, and the other apart', () => {
    const t = tree([['(root)', 'tick', 'a'], ['(root)', 'tick', 'b']]);
    const a = t.id(['(root)', 'tick', 'a']);
    const bb = t.id(['(root)', 'tick', 'b']);
    const r = blameBlock(t, { nodes: [a, a, a, bb, bb], lines: new Map(), interrupt: undefined })!;
    // The samples agree up to their caller; below it, what each did.
    expect(r.stack.map((f) => f.functionName)).toEqual(['tick']);
    expect(r.others.map((o) => [o.stack[0]!.functionName, o.samples])).toEqual([['a', 3], ['b', 2]]);
  });

  it('samples that part at the root or in Node\'s code: the part that reaches the program\'s code, not an empty stack nor Node\'s prefix', () => {
    // As in an HTTP server's readFileSync under load (the recording below): one sample in the
    // read, one in the microtask queue, one in GC; then one in the read and one in the parser itself.
    const read = ['(root)', 'node:parserOnHeadersComplete', 'node:parserOnIncoming', 'node:emit', 'onRequest', 'loadReport', 'node:readFileSync', 'native'];
    const t = tree([read, ['(root)', 'node:processTicksAndRejections'], ['(root)', '(garbage collector)']]);
    const gc = t.id(['(root)', '(garbage collector)']);
    const parted = blameBlock(t, { nodes: [t.id(read), t.id(['(root)', 'node:processTicksAndRejections']), gc], lines: new Map(), interrupt: undefined })!;
    expect(parted.stack.map((f) => f.functionName)).toEqual(['hexSlice', 'readFileSync', 'loadReport', 'onRequest', 'emit', 'parserOnIncoming', 'parserOnHeadersComplete']);
    expect(parted).toMatchObject({ samples: 1, sampled: 3, kinds: { gc: 1 } });
    expect(parted.others.map((o) => o.stack.map((f) => f.functionName))).toEqual([['processTicksAndRejections']]);
    const prefix = blameBlock(t, { nodes: [t.id(read), t.id(read.slice(0, 2)), gc], lines: new Map(), interrupt: undefined })!;
    expect(prefix.stack.map((f) => f.functionName).slice(0, 3)).toEqual(['hexSlice', 'readFileSync', 'loadReport']);
    expect(prefix.samples).toBe(1);
    // Where the samples part below the program's own frame, they still agree on it.
    const both = tree([[...read.slice(0, 6), 'node:readFileSync', 'native'], [...read.slice(0, 6), 'node:createUnsafeBuffer']]);
    const agreed = blameBlock(both, { nodes: [both.id(read), both.id([...read.slice(0, 6), 'node:createUnsafeBuffer'])], lines: new Map(), interrupt: undefined })!;
    expect(agreed.stack[0]!.functionName).toBe('loadReport');
  });

  it('in a recording of an HTTP server blocked in readFileSync: every block\'s stack has the program\'s frame its samples had', () => {
    // A user's run (s1-readfile.js, load.js): its probe reported one block with an empty stack
    // (2 of its 3 samples ran JavaScript) and one at parserOnHeadersComplete alone.
    const reader = RecordingReader.open(join(FIXTURES, 'readfile-blocks.lsrec'));
    const player = new RecordingPlayer(reader, { recentSamples: 0, refuseOverLimit: true, profileSamples: WHOLE_RECORDING_SAMPLES });
    player.advanceTo(Infinity);
    const profile = player.profile;
    const reported = player.state.blocked.map((b) => b.stack.map((f) => f.functionName).slice(0, 1).join());
    expect(reported).toContain('');
    expect(reported).toContain('parserOnHeadersComplete');
    for (const b of player.state.blocked) {
      const nodes = [...profile.range(b.startUs, b.startUs + b.durationUs).nodes];
      const blame = blameBlock(profile, { nodes, lines: new Map(), interrupt: undefined })!;
      // The same samples as the probe's, as it counted them.
      expect([blame.sampled, nodes.length]).toEqual([b.sampled, b.sampled]);
      expect(blame.stack.map((f) => f.functionName), `${b.durationUs} µs`).toContain('loadReport');
    }
    reader.close();
  });

  it('a block that ran no code: where most of its samples were, as a frame of its own; none without samples', () => {
    const t = tree([['(idle)'], ['(garbage collector)']]);
    const gc = t.id(['(garbage collector)']);
    const b = blameBlock(t, { nodes: [t.id(['(idle)']), gc, gc], lines: new Map(), interrupt: undefined })!;
    expect(b.stack).toEqual([{ functionName: '(garbage collector)', url: '', lineNumber: 0, columnNumber: 0 }]);
    expect([b.samples, b.sampled, b.kinds.gc]).toEqual([2, 3, 2]);
    expect(blameBlock(t, { nodes: [], lines: new Map(), interrupt: undefined })).toBeUndefined();
  });
});

describe('the call line from the source text', () => {
  const source = [
    'function bufferHex(buf) {',
    "  const hex = buf.toString('hex');",
    '  return hex.length;',
    '}',
    'function twice(buf) {',
    "  return buf.toString('hex') + buf.toString('base64');",
    '}',
    'function split(a,',
    '  b) {',
    '  return structuredClone(a);',
    '}',
    'const arrow = (x) => JSON.stringify(x);',
    'function after() { return toString(); }',
  ].join('\n');

  it('finds the only line of the function that calls the callee, within its braces', () => {
    expect(onlyCallLine(source, 1, 1, 'toString')).toBe(2);
    expect(onlyCallLine(source, 8, 1, 'structuredClone')).toBe(10);
    expect(onlyCallLine(source, 12, 15, 'stringify')).toBe(12);
  });

  it('says nothing when it is not one line: twice on one line counts once; none; a name that is not one', () => {
    expect(onlyCallLine(source, 5, 1, 'toString')).toBe(6);
    expect(onlyCallLine(source, 1, 1, 'structuredClone')).toBeUndefined();
    expect(onlyCallLine(source, 1, 1, 'to.String')).toBeUndefined();
    // The search stops at the function's end: the next function's call is not this one's.
    expect(onlyCallLine(source, 1, 1, 'toString')).toBe(2);
  });
});

describe('the session\'s profile, and what is made of it', () => {
  const model = (): ProfileModel => {
    const m = new ProfileModel();
    m.apply({ type: 'profileDictionary', dictionary });
    m.apply({ type: 'profileSamples', batch: batch([3, 3, 2, 4, 4, 5], 1_000_000, [3, 11, 2, 3, 12, 1]) });
    m.apply({ type: 'profileSamples', batch: batch([3, 4], 1_200_000) });
    return m;
  };

  it('keeps the samples in time order and gives those of a range', () => {
    const m = model();
    expect(m.samples).toBe(8);
    expect(m.extent).toEqual({ fromUs: 1_020_000, toUs: 1_240_000 });
    expect(m.range(1_040_000, 1_100_000).nodes).toHaveLength(4);
    expect(m.range(2_000_000, 3_000_000).nodes).toHaveLength(0);
  });

  it('counts self and total by function, the leaves\' lines in proportion to V8\'s ticks, and idle and GC apart', () => {
    const stats = rangeStats(model(), model().range(0, 1_150_000));
    expect(stats.kinds).toEqual({ code: 3, idle: 2, gc: 1, program: 0, probe: 0 });
    const parse = stats.functions.find((f) => f.frame.functionName === 'parse')!;
    expect([parse.self, parse.total, parse.own]).toEqual([2, 2, 2]);
    expect([...parse.lines]).toEqual([[11, 1], [12, 1]]);
    const main = stats.functions.find((f) => f.frame.functionName === 'main')!;
    expect([main.self, main.total, main.own]).toEqual([1, 3, 1]);
    expect(splitByLine(10, new Map([[5, 3], [6, 1]]), 1)).toEqual(new Map([[5, 8], [6, 2]]));
    expect(splitByLine(2, undefined, 7)).toEqual(new Map([[7, 2]]));
  });

  it('gives the summary\'s top functions, the program\'s own first, with ms from the interval', () => {
    const s = summarizeProfile(model(), { state: 'on', intervalMs: 20 })!;
    expect(s).toMatchObject({ sampleIntervalMs: 20, samples: 8, codeMs: 80, idleMs: 60, gcMs: 20, sampler: 'on' });
    expect(s.top.map((f) => [f.functionName, f.selfMs, f.totalMs])).toEqual([['parse', 60, 60], ['main', 20, 80]]);
    expect(summarizeProfile(new ProfileModel(), undefined)).toBeNull();
    expect(s.unsampled).toBeUndefined(); // samples every interval: nothing missed
  });

  it('says how much time passed with no sample, and where it ended: a server blocked in readFileSync', () => {
    // The main thread takes the sampler's signals only when each read returns: 231 samples in
    // 8.8 s, where 440 were due.
    const reader = RecordingReader.open(join(FIXTURES, 'readfile-blocks.lsrec'));
    const player = new RecordingPlayer(reader, { recentSamples: 0, refuseOverLimit: true, profileSamples: WHOLE_RECORDING_SAMPLES });
    player.advanceTo(Infinity);
    const s = summarizeProfile(player.profile, player.state.profiler)!;
    reader.close();
    const counted = s.codeMs + s.idleMs + s.gcMs + s.programMs + s.probeMs;
    expect(s.unsampled!.spanMs).toBeGreaterThan(8000);
    // What the counts leave out is the rest of the span, give or take the counts' rounding.
    expect(Math.abs(counted + s.unsampled!.ms - s.unsampled!.spanMs)).toBeLessThan(0.05 * s.unsampled!.spanMs);
    expect(s.unsampled!.ms).toBeGreaterThan(4000);
    expect(s.unsampled!.mostlyIn).toMatchObject({ functionName: 'loadReport', lineNumber: 6 });
    expect(s.unsampled!.mostlyIn!.ms).toBeGreaterThan(0.9 * s.unsampled!.ms);
    expect(profileLines({ profile: s, probePauses: [] }, '/').join('\n')).toMatch(/\(\d+ ms of the \d+ ms sampled passed with no sample; \d+ ms of it ended in loadReport \(\S*s1-readfile\.js:6\)\. The sampler's signal waits while the main thread is in a system call/);
  });

  it('makes a .cpuprofile: one root, a node per stack, each sample\'s node and the time since the last', () => {
    const p = toCpuProfile(model(), model().range(0, Infinity));
    expect(p.nodes[0]).toMatchObject({ id: 1, callFrame: { functionName: '(root)' } });
    expect(p.samples).toHaveLength(8);
    // Every 20 ms, and a gap between the two harvests.
    expect(p.timeDeltas.slice(1)).toEqual([20_000, 20_000, 20_000, 20_000, 20_000, 100_000, 20_000]);
    expect(p.startTime + p.timeDeltas.reduce((a, b) => a + b, 0)).toBe(p.endTime);
    const parse = p.nodes.find((n) => n.callFrame.functionName === 'parse')!;
    expect(parse).toMatchObject({ hitCount: 3, callFrame: { url: 'file:///app.js', lineNumber: 9 } });
    expect(p.nodes.find((n) => n.children?.includes(parse.id))!.callFrame.functionName).toBe('main');
  });

  it('gives the window a flame graph of code (not idle or GC) and a bottom-up table, bounded', () => {
    const v = profileView(model(), 1_000_000, 0, 0.3, { state: 'on', intervalMs: 20 });
    expect(v.samples).toBe(8);
    const names = v.flame.map((n) => `${v.frames[n.frame]!.functionName}:${n.total}`);
    expect(names).toEqual(['main:4', 'parse:3']);
    expect(v.flame[1]!.parent).toBe(v.flame[0]!.id);
    expect(v.frames[v.functions[0]!.frame]).toMatchObject({ functionName: 'parse', kind: 'own' });
    expect(v.activity.code.reduce((a, b) => a + b, 0)).toBe(5);
    expect(v.activity.idle.reduce((a, b) => a + b, 0)).toBe(3);
    const boxes = layoutFlame(v.flame, undefined);
    expect(boxes.map((b) => [v.frames[b.node.frame]!.functionName, b.x, b.w, b.depth])).toEqual([['main', 0, 1, 0], ['parse', 0, 0.75, 1]]);
    // Zoomed into parse: it fills the width, main above it.
    expect(layoutFlame(v.flame, v.flame[1]!.id).map((b) => [b.w, b.depth])).toEqual([[1, 0], [1, 1]]);
  });

  it('shows no samples over time past `untilS` (a replay\'s position), none at all before the first', () => {
    const upTo = profileView(model(), 1_000_000, 0, 0.1, undefined, 0.1);
    expect(upTo.extent).toEqual({ fromS: 0.02, toS: 0.1 });
    const shown = upTo.activity.code.reduce((a, b) => a + b, 0) + upTo.activity.idle.reduce((a, b) => a + b, 0);
    expect(shown).toBe(model().range(0, 1_100_001).nodes.length);
    const before = profileView(model(), 1_000_000, 0, 0.01, undefined, 0.01);
    expect(before.extent).toBeNull();
    expect(before.activity.code).toEqual([]);
  });

  it('is asked for a range in the window\'s calls: finite, in order, at most a day', async () => {
    const calls: unknown[][] = [];
    const api = fakeApi({ profile: async (...a) => (calls.push(a), profileView(new ProfileModel(), 0, 0, 1, undefined)) });
    await dispatchCall(api, 'profile', ['s1', 2, 12]);
    expect(calls).toEqual([['s1', 2, 12]]);
    for (const [from, to] of [[3, 2], [0, Number.NaN], ['0', 1], [0, 1e6]]) expect(() => dispatchCall(api, 'profile', ['s1', from, to])).toThrow(CallError);
  });
});
