// The pure parts of recording: checksums, byte layouts, keyframes, the index, the replay clock,
// times, the worst stretch, blocked-stack groups, the Chrome trace and the replay keys.

import { describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../main/recording/crc32';
import {
  ChunkKind, Codec, encodeChunkHeader, encodeFileHeader, encodeFooter, FILE_HEADER_BYTES, Lane, MAX_LOOPS, parseChunkHeader, parseFileHeader,
  parseFooter, parseFrameRecords, SectionBuilder, type ChunkHeader,
} from '../main/recording/format';
import { encodeKeyframe, parseKeyframe } from '../main/recording/keyframe';
import { RECENT_SAMPLES } from '../main/session/sample-ring';
import { encodeIndex, keyframeAtOrBefore, parseIndex } from '../main/recording/recording-index';
import * as clock from '../main/replay/replay-clock';
import { formatRecordingTime, parseRecordingTime } from '../main/common/time-format';
import { WorstStretchFinder } from '../main/reports/worst-stretch';
import { groupsWithOngoing } from '../main/session/blocked-groups';
import { ChromeTraceBuilder, traceText, TRACKS } from '../main/reports/chrome-trace';
import { renderTransport, replayKeyAction, splitKeys } from '../main/cli/replay-command';
import { applyMessage, initialSessionState, initialTotals } from '../main/session/session-state';
import { TaskEventKind } from '../probe/wire';
import { encodeDictionary, encodeMetrics } from '../probe/wire-binary';
import { ProbeDecoder } from '../probe/wire-decoder';
import { sample, syntheticHello, syntheticSession, toRaw } from './helpers/recording-synthetic';
import { eventProblems, perfettoView } from './helpers/recording-trace-check';

describe('crc32', () => {
  it('matches the standard check value, native or not', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    expect(crc32(bytes.subarray(600), crc32(bytes.subarray(0, 600)))).toBe(crc32Table(bytes));
  });
});

describe('byte layouts', () => {
  it('reads back its file header and tells a newer version and a non-recording apart', () => {
    const h = encodeFileHeader({ wireProtocol: 1, startedAtMs: 1234.5 });
    expect(parseFileHeader(h)).toEqual({ ok: true, value: { version: 2, wireProtocol: 1, startedAtMs: 1234.5 } });
    const newer = h.slice();
    newer[8] = 3;
    expect(parseFileHeader(newer)).toMatchObject({ ok: false, problem: 'newer-version' });
    expect(parseFileHeader(new TextEncoder().encode('{"traceEvents":[]}'))).toMatchObject({ ok: false, problem: 'not-recording' });
    expect(parseFileHeader(h.subarray(0, 12))).toMatchObject({ ok: false, problem: 'damaged' });
    const flipped = h.slice();
    flipped[20]! ^= 1;
    expect(parseFileHeader(flipped)).toMatchObject({ ok: false, reason: expect.stringContaining('checksum') });
  });

  it('reads back chunk headers and frame records, and rejects any damaged byte of a header', () => {
    const b = new SectionBuilder();
    b.append(0, 0, 1, 2, Uint8Array.of(1, 2, 3), 0);
    b.append(1, 1500, 1, 3, Uint8Array.of(4), 7);
    const raw = b.take();
    const section = { lane: Lane.core, codec: Codec.stored, frameCount: 2, storedBytes: raw.length, rawBytes: raw.length, typeMaskLo: (1 << 2) | (1 << 3), typeMaskHi: 0, crc: crc32(raw) };
    const input = { kind: ChunkKind.frames, frameCount: 2, firstSeq: 10, startMs: 5, endMs: 6.5, sections: [section] };
    const bytes = encodeChunkHeader(input);
    const parsed = parseChunkHeader(bytes);
    expect(parsed.ok).toBe(true);
    const header = (parsed as { value: ChunkHeader }).value;
    expect(header).toMatchObject({ kind: 1, frameCount: 2, firstSeq: 10, startMs: 5, endMs: 6.5, bodyBytes: raw.length });
    const records = parseFrameRecords(raw, header, header.sections[0]!);
    expect(records).toMatchObject({ ok: true, value: [{ seq: 10, loop: 0, timeMs: 5, type: 2 }, { seq: 11, loop: 7, timeMs: 6.5, type: 3 }] });
    for (let i = 0; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i]! ^= 0x10;
      expect(parseChunkHeader(damaged).ok).toBe(false);
    }
    // A frame whose type the section does not declare, or out of order, is damage.
    expect(parseFrameRecords(raw, header, { ...header.sections[0]!, typeMaskLo: 1 << 2 }).ok).toBe(false);
    expect(parseFrameRecords(raw, { ...header, endMs: 5.1 }, header.sections[0]!).ok).toBe(false);
  });

  it('finds its index through the footer, and only a valid one', () => {
    const footer = encodeFooter(1000);
    expect(parseFooter(footer, 2000)).toBe(1000);
    expect(parseFooter(footer, 1010)).toBeUndefined();
    const bad = footer.slice();
    bad[9]! ^= 1;
    expect(parseFooter(bad, 2000)).toBeUndefined();
    const keyframes = [{ offset: 100, seq: 10, timeMs: 1000 }, { offset: 500, seq: 2010, timeMs: 5000 }];
    const info = { frames: 3000, endMs: 9000, closedAtMs: 9100, dataEnd: 900, ending: { exitCode: 0, warnings: ['w'] } };
    expect(parseIndex(encodeIndex(info, keyframes), FILE_HEADER_BYTES)).toEqual({ ok: true, value: { info, keyframes } });
    expect(parseIndex(encodeIndex(info, [...keyframes].reverse()), FILE_HEADER_BYTES).ok).toBe(false);
    expect(keyframeAtOrBefore(keyframes, 999)).toBeUndefined();
    expect(keyframeAtOrBefore(keyframes, 4999)).toBe(0);
    expect(keyframeAtOrBefore(keyframes, 1e9)).toBe(1);
  });
});

describe('metrics frames, as replay decodes them (thousands a seek)', () => {
  const decoder = new ProbeDecoder();
  decoder.decode(toRaw(encodeDictionary([[1, 'Timeout'], [2, 'TCPWRAP']])));
  const frame = encodeMetrics(sample(20), [1, 2]);
  const patched = (at: number, value: number) => {
    const copy = frame.slice();
    new DataView(copy.buffer).setFloat64(8 + at, value, true);
    return toRaw(copy);
  };

  it('gives back every field, GC pauses, resources and percentiles', () => {
    expect(decoder.decode(toRaw(frame))).toEqual({ type: 'metrics', sample: sample(20) });
  });

  it('rejects a non-finite number, saying where, and leaves the reserved slot unread', () => {
    expect(() => decoder.decode(patched(16 + 5 * 8, NaN))).toThrow('metrics: non-finite number at byte 56');
    expect(() => decoder.decode(patched(16 + 22 * 8, Infinity))).toThrow('metrics: non-finite number at byte 192');
    expect(decoder.decode(patched(16 + 20 * 8, NaN))).toEqual({ type: 'metrics', sample: sample(20) });
  });

  it('names a GC kind it does not know "unknown"', () => {
    const m = decoder.decode(patched(16 + 21 * 8, 99));
    expect(m.type === 'metrics' && m.sample.gc[0]!.kind).toBe('unknown');
  });
});

describe('keyframes', () => {
  const decoder = new ProbeDecoder();
  const state = syntheticSession(120).reduce(
    (s, f) => applyMessage(s, decoder.decode(f.raw)),
    applyMessage(initialSessionState, { type: 'hello', hello: syntheticHello }),
  );

  it('round-trip every loop\'s state, and where its recent samples are', () => {
    const recentParts = [{ samplesAt: 1000 }, { framesFrom: 32, framesTo: 900 }];
    const worker = { ...state, hello: { ...syntheticHello, threadId: 2 } };
    const bytes = encodeKeyframe({ loops: [
      { loop: 0, state, recentCount: 120, recentParts, dictionary: [[1, 'Timeout']] },
      { loop: 3, state: worker, recentCount: 5, recentParts: [{ samplesAt: 2000 }], dictionary: [] },
    ] });
    const parsed = parseKeyframe(bytes);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.loops.map((l) => l.state)).toEqual([state, worker]);
    expect(parsed.value.loops).toMatchObject([{ loop: 0, recentCount: 120, recentParts, dictionary: [[1, 'Timeout']] }, { loop: 3, recentCount: 5 }]);
    // Loops out of order, or numbered past the limit, are not a keyframe this writer makes.
    const loops = (l: unknown[]): Uint8Array => new TextEncoder().encode(JSON.stringify({ v: 2, loops: l }));
    const entry = (loop: number): unknown => ({ loop, state, recentCount: 0, recentParts: [], dictionary: [] });
    expect(parseKeyframe(loops([entry(1), entry(0)])).ok).toBe(false);
    expect(parseKeyframe(loops([entry(MAX_LOOPS)])).ok).toBe(false);
    // Parts that would have a seek read the same chunks again and again, or keep more samples than any view does.
    const withParts = (recentParts: unknown[], recentCount = 10): Uint8Array => loops([{ loop: 0, state, recentCount, recentParts, dictionary: [] }]);
    expect(parseKeyframe(withParts([{ framesFrom: 32, framesTo: 900 }, { framesFrom: 900, framesTo: 1200 }, { samplesAt: 1300 }])).ok).toBe(true);
    expect(parseKeyframe(withParts([{ framesFrom: 32, framesTo: 900 }, { framesFrom: 500, framesTo: 1200 }]))).toEqual({ ok: false, reason: 'bad recent parts' });
    expect(parseKeyframe(withParts([{ samplesAt: 1300 }, { samplesAt: 1300 }]))).toEqual({ ok: false, reason: 'bad recent parts' });
    expect(parseKeyframe(withParts(Array.from({ length: 129 }, (_, i) => ({ samplesAt: i }))))).toEqual({ ok: false, reason: 'bad recent parts' });
    expect(parseKeyframe(withParts([], RECENT_SAMPLES + 1))).toEqual({ ok: false, reason: 'bad recent count' });
    // The target's words in a file, as on the wire: an escape sequence is shown, not acted on.
    const crafted = parseKeyframe(loops([{ loop: 0, state: { ...state, hello: { ...state.hello, title: 'node\x1b]0;owned\x07' } }, recentCount: 0, recentParts: [], dictionary: [[1, 'T\x9b2J']] }]));
    expect(crafted).toMatchObject({ ok: true, value: { loops: [{ state: { hello: { title: 'node ]0;owned ' } }, dictionary: [[1, 'T 2J']] }] } });
  });

  it('of version 1 (one loop, at the top) read as loop 0', () => {
    const v1 = new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 3, recentParts: [], dictionary: [[1, 'Timeout']], state }));
    const parsed = parseKeyframe(v1);
    expect(parsed.ok && parsed.value.loops).toMatchObject([{ loop: 0, recentCount: 3, dictionary: [[1, 'Timeout']] }]);
  });

  it('reject states of the wrong shape, and wire objects that do not validate', () => {
    const rest = state;
    const encode = (s: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 0, recentParts: [], dictionary: [], state: s }));
    expect(parseKeyframe(encode({ ...rest, totals: { ...rest.totals, samples: 'many' } }))).toMatchObject({ ok: false, reason: 'state.totals.samples is not a number' });
    expect(parseKeyframe(encode({ ...rest, blocked: [{ id: 1 }] })).ok).toBe(false);
    expect(parseKeyframe(encode({ ...rest, hello: { pid: 1 } })).ok).toBe(false);
    // What is inside lists and records is checked too: the views would trust it.
    const lag = rest.totals.lag;
    expect(parseKeyframe(encode({ ...rest, totals: { ...rest.totals, lag: { ...lag, counts: lag.counts.slice(1) } } })))
      .toMatchObject({ ok: false, reason: expect.stringContaining('state.totals.lag.counts') });
    expect(parseKeyframe(encode({ ...rest, totals: { ...rest.totals, lag: { ...lag, counts: lag.counts.map(() => 'x') } } })).ok).toBe(false);
    const tasks = rest.tasks;
    const typeTotals = { type: 'Timeout', created: 1, destroyed: 0, alive: 1, callbacks: 1, callbackUs: [[3, 1]], callbackMaxUs: 9, queueUs: [], queueMaxUs: 0, aliveSeries: [1] };
    expect(parseKeyframe(encode({ ...rest, tasks: { ...tasks, byType: { Timeout: typeTotals } } })).ok).toBe(true);
    expect(parseKeyframe(encode({ ...rest, tasks: { ...tasks, byType: { Timeout: { ...typeTotals, callbackUs: [[3]] } } } })))
      .toMatchObject({ ok: false, reason: expect.stringContaining('state.tasks.byType.Timeout.callbackUs') });
    expect(parseKeyframe(encode({ ...rest, tasks: { ...tasks, byType: { Timeout: { ...typeTotals, type: 'Other' } } } })).ok).toBe(false);
    expect(parseKeyframe(encode({ ...rest, tasks: { ...tasks, slowCallbacks: [{ type: 'Timeout' }] } })).ok).toBe(false);
    expect(parseKeyframe(encode({ ...rest, tasks: { ...tasks, liveSites: [{ type: 'Timeout', sampledAlive: 1, stack: [{ functionName: 1 }] }] } })).ok).toBe(false);
    expect(parseKeyframe(new TextEncoder().encode('{"v":99}'))).toMatchObject({ ok: false, reason: expect.stringContaining('version 99') });
  });

  it('read keyframes written before the sampler: their blocks grouped, the sampler\'s fields empty', () => {
    const stack = [{ functionName: 'spin', url: '/a.js', lineNumber: 3, columnNumber: 1 }];
    const { blockGroups: _g, ungroupedBlocks: _u, probePauses: _p, profiler: _s, ...old } = {
      ...initialSessionState,
      blocked: [{ id: 2, state: 'ended', startUs: 10, durationUs: 90_000, stack }, { id: 1, state: 'ended', startUs: 5, durationUs: 60_000, stack }],
    };
    const parsed = parseKeyframe(new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 0, recentParts: [], dictionary: [], state: old })));
    if (!parsed.ok) throw new Error(parsed.reason);
    const [loop] = parsed.value.loops;
    expect(loop!.state.blockGroups).toMatchObject([{ stack, count: 2, totalUs: 150_000, maxUs: 90_000, stackSource: null, sources: { none: 2 } }]);
    expect(loop!.state.probePauses).toEqual([]);
    expect(loop!.state.profiler).toBeUndefined();
    expect(loop!.profile).toBeUndefined();
    // And the new fields are checked as anything else from a file is.
    const bad = { ...initialSessionState, blockGroups: [{ key: 'k', stack: [{ functionName: 1 }], stackSource: null, count: 1, totalUs: 1, maxUs: 1, longestStartUs: 0, lastStartUs: 0 }] };
    expect(parseKeyframe(new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 0, recentParts: [], dictionary: [], state: bad }))).ok).toBe(false);
    const badPause = { ...initialSessionState, probePauses: [{ what: 'x', startUs: 'soon', durationUs: 1 }] };
    expect(parseKeyframe(new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 0, recentParts: [], dictionary: [], state: badPause }))).ok).toBe(false);
    const badGc = { ...initialSessionState, gcSource: { source: 'guessed' } };
    expect(parseKeyframe(new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 0, recentParts: [], dictionary: [], state: badGc }))).ok).toBe(false);
    const gc = { ...initialSessionState, gcSource: { source: 'observer', reason: 'not Linux' } };
    const withGc = parseKeyframe(new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 0, recentParts: [], dictionary: [], state: gc })));
    expect(withGc.ok && withGc.value.loops[0]?.state.gcSource).toEqual({ source: 'observer', reason: 'not Linux' });
  });

  it('read block groups written before their counts by source: all the group\'s blocks as its first one\'s, the only source they kept; bad counts refused', () => {
    const stack = [{ functionName: 'spin', url: '/a.js', lineNumber: 3, columnNumber: 1 }];
    const group = { key: 'k', stack, stackSource: 'interrupt', count: 3, totalUs: 1, maxUs: 1, longestStartUs: 0, lastStartUs: 0 };
    const keyframe = (g: object) => parseKeyframe(new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 0, recentParts: [], dictionary: [], state: { ...initialSessionState, blockGroups: [g] } })));
    const old = keyframe(group);
    expect(old.ok && old.value.loops[0]?.state.blockGroups[0]?.sources).toEqual({ samples: 0, interrupt: 3, 'late-interrupt': 0, none: 0 });
    expect(keyframe({ ...group, sources: { samples: 2, interrupt: 'one', 'late-interrupt': 0, none: 0 } }).ok).toBe(false);
    expect(keyframe({ ...group, sources: [] }).ok).toBe(false);
    // Counts that are no counts, or that are not the group's blocks (a crafted file's badge "samples -3/2").
    for (const sources of [{ samples: -1, interrupt: 4, 'late-interrupt': 0, none: 0 }, { samples: 1.5, interrupt: 1.5, 'late-interrupt': 0, none: 0 }, { samples: 2, interrupt: 0, 'late-interrupt': 0, none: 0 }]) {
      expect(keyframe({ ...group, sources }).ok, JSON.stringify(sources)).toBe(false);
    }
    // The source said beside the counts is theirs, whatever the file says.
    const said = keyframe({ ...group, sources: { samples: 2, interrupt: 1, 'late-interrupt': 0, none: 0 } });
    expect(said.ok && said.value.loops[0]?.state.blockGroups[0]?.stackSource).toBe('samples');
  });

  it('read block groups written before their counts of why blocks had no stack: the reasons of the reports kept, the rest as none given; bad counts refused', () => {
    const group = { key: '', stack: [], stackSource: null, count: 3, totalUs: 1, maxUs: 1, longestStartUs: 0, lastStartUs: 0 };
    const kept = { id: 1, state: 'ended', startUs: 0, durationUs: 60_000, stack: [], stackError: 'the stack did not arrive in time' };
    const keyframe = (g: object) => parseKeyframe(new TextEncoder().encode(JSON.stringify({ v: 1, recentCount: 0, recentParts: [], dictionary: [], state: { ...initialSessionState, blocked: [kept], blockGroups: [g] } })));
    const old = keyframe(group);
    expect(old.ok && old.value.loops[0]?.state.blockGroups[0]?.noStack).toEqual({ 'the stack did not arrive in time': 1, '': 2 });
    const placed = keyframe({ ...group, key: 'k', stack: [{ functionName: 'spin', url: '/a.js', lineNumber: 3, columnNumber: 1 }] });
    expect(placed.ok && placed.value.loops[0]?.state.blockGroups[0]?.noStack).toEqual({});
    // Counts that are no counts, or not the group's blocks with no stack.
    for (const noStack of [[], { why: 'three' }, { why: -1, '': 4 }, { why: 2 }, { why: 4 }]) {
      expect(keyframe({ ...group, noStack }).ok, JSON.stringify(noStack)).toBe(false);
    }
    // More reasons than a group keeps.
    const reasons = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`r${i}`, 1]));
    expect(keyframe({ ...group, count: 8, noStack: reasons(8) }).ok).toBe(true);
    expect(keyframe({ ...group, count: 9, noStack: reasons(9) }).ok).toBe(false);
    const said = keyframe({ ...group, noStack: { why: 2, '': 1 } });
    expect(said.ok && said.value.loops[0]?.state.blockGroups[0]?.noStack).toEqual({ why: 2, '': 1 });
  });

  it('know every field of the session state (a new field needs a look at state-check.ts)', () => {
    // When this fails: check the new field survives JSON (no Map, Set, typed array or class),
    // check it in parseSessionState, and either fill it in for older keyframes there (as for
    // the sampler's fields) or bump KEYFRAME_VERSION.
    expect(Object.keys(initialSessionState).sort()).toEqual(['blockGroups', 'blocked', 'drops', 'gcSource', 'goodbye', 'hello', 'notices', 'probePauses', 'profiler', 'tasks', 'totals', 'traceEvents', 'ungroupedBlocks']);
    expect(Object.keys(initialTotals)).toContain('lag');
  });
});

describe('replay clock', () => {
  it('plays, pauses, changes speed without jumping, seeks and stops at the end', () => {
    let c = clock.createClock(1000, 11_000, 0);
    expect(clock.positionAt(c, 500)).toBe(1000);
    c = clock.play(c, 0);
    expect(clock.positionAt(c, 2000)).toBe(3000);
    c = clock.setSpeed(c, 4, 2000);
    expect(clock.positionAt(c, 2000)).toBe(3000);
    expect(clock.positionAt(c, 3000)).toBe(7000);
    c = clock.pause(c, 3000);
    expect(clock.positionAt(c, 9000)).toBe(7000);
    c = clock.seek(c, 50_000, 9000);
    expect(clock.positionAt(c, 9000)).toBe(11_000);
    c = clock.play(c, 9000);
    expect(clock.positionAt(c, 9000)).toBe(1000);
    expect(clock.atEnd(c, 20_000)).toBe(true);
    c = clock.extend(c, 20_000, 9000);
    expect(c.endMs).toBe(20_000);
    expect(clock.setSpeed(c, 100, 0).speed).toBe(16);
    expect(clock.setSpeed(c, 0.01, 0).speed).toBe(0.25);
    expect([clock.nextSpeed(1, 1), clock.nextSpeed(1, -1), clock.nextSpeed(16, 1), clock.nextSpeed(0.25, -1), clock.nextSpeed(3, 1), clock.nextSpeed(3, -1)])
      .toEqual([2, 0.5, 16, 0.25, 4, 2]);
  });

  it('maps keys to actions and draws the transport line', () => {
    expect(replayKeyAction(' ')).toEqual({ kind: 'toggle' });
    expect(replayKeyAction('\x1b[D')).toEqual({ kind: 'seekBy', ms: -5000 });
    // Keys that came in one read (typed fast, repeated, pasted): each acted on.
    expect(splitKeys('qq')).toEqual(['q', 'q']);
    expect(splitKeys(' \x03')).toEqual([' ', '\x03']);
    expect(splitKeys('\x1b[C\x1b[1;2Dq\x1b')).toEqual(['\x1b[C', '\x1b[1;2D', 'q', '\x1b']);
    expect(splitKeys('\x1b[4~g').map(replayKeyAction)).toEqual([{ kind: 'end' }, { kind: 'start' }]);
    expect(replayKeyAction('+')).toEqual({ kind: 'speed', direction: 1 });
    expect(replayKeyAction('x')).toBeUndefined();
    const line = renderTransport({ playing: true, speed: 2, positionMs: 6000, startMs: 1000, endMs: 11_000, warnings: 1, following: false }, 200);
    expect(line).toContain('▶ 2× 00:05.0 / 00:10.0 [██████████──────────]');
    expect(line).toContain('1 warning');
  });

  it('formats and parses recording times', () => {
    expect(formatRecordingTime(83_456)).toBe('01:23.4');
    expect(formatRecordingTime(3_723_000)).toBe('1:02:03.0');
    expect(['90', '90s', '1:30', '0:01:30', '1.5m', '90000ms'].map(parseRecordingTime)).toEqual([90_000, 90_000, 90_000, 90_000, 90_000, 90_000]);
    expect(parseRecordingTime('soon')).toBeUndefined();
  });
});

describe('what only a whole recording tells', () => {
  it('finds the worst 10 s stretch', () => {
    const finder = new WorstStretchFinder();
    for (let i = 0; i < 600; i++) finder.add(sample(i));
    const w = finder.result()!;
    // Blocks of 120 ms come every 5 s: any 10 s window holds two; the first full one wins.
    expect(w.endUs - w.startUs).toBeLessThanOrEqual(10_000_000);
    expect(w.lagMaxUs).toBe(120_000);
    expect(new WorstStretchFinder().result()).toBeUndefined();
  });

  it('counts the GC pauses that began in the worst stretch, though they arrive up to a second later', () => {
    // The loop runs late from 10 s to 20 s. Pauses of 1 ms began just before it (9.5-10 s) and
    // arrive inside it; pauses of 3 ms began at its end (19.5-20 s) and arrive after it.
    const pauses = (fromS: number, durationUs: number) =>
      Array.from({ length: 5 }, (_, k) => ({ kind: 'minor' as const, startUs: fromS * 1e6 + k * 100_000, durationUs }));
    const finder = new WorstStretchFinder();
    for (let i = 0; i < 300; i++) {
      const s = sample(i);
      const late = i >= 100 && i < 200;
      const gc = i === 104 ? pauses(9.5, 1000) : i === 204 ? pauses(19.5, 3000) : [];
      finder.add({ ...s, gc, lag: { ...s.lag, meanUs: late ? 50_000 : 100, maxUs: late ? 60_000 : 200, count: 10 } });
    }
    const w = finder.result()!;
    expect([w.startUs, w.endUs]).toEqual([10_000_000, 20_000_000]);
    expect([w.gcCount, w.gcUs]).toEqual([5, 15_000]);
  });

  it('groups blocked-loop reports by stack, keeping a stack an earlier report carried', () => {
    const stack = [{ functionName: 'spin', url: 'file:///a.js', lineNumber: 1, columnNumber: 1 }];
    const reports = [
      { id: 1, state: 'ongoing', startUs: 0, durationUs: 50_000, stack },
      { id: 1, state: 'ended', startUs: 0, durationUs: 90_000, stack: [] },
      { id: 2, state: 'ended', startUs: 5, durationUs: 60_000, stack },
      { id: 3, state: 'ongoing', startUs: 0, durationUs: 60_000, stack: [] },
      { id: 3, state: 'cancelled', startUs: 0, durationUs: 60_000, stack: [] },
      { id: 4, state: 'ongoing', startUs: 7, durationUs: 10_000, stack: [] },
    ] as const;
    const state = reports.reduce((s, report) => applyMessage(s, { type: 'blocked', report }), initialSessionState);
    expect(groupsWithOngoing(state.blockGroups, state.blocked).map(({ stack: st, count, totalUs, maxUs, longestStartUs }) => ({ stack: st, count, totalUs, maxUs, longestStartUs }))).toEqual([
      { stack, count: 2, totalUs: 150_000, maxUs: 90_000, longestStartUs: 0 },
      { stack: [], count: 1, totalUs: 10_000, maxUs: 10_000, longestStartUs: 7 },
    ]);
  });

  it('converts to Chrome trace events: metadata, counters, GC, blocks and callbacks', () => {
    const b = new ChromeTraceBuilder();
    const meta = b.add({ type: 'hello', hello: syntheticHello });
    expect(meta.find((e) => e.name === 'process_name')).toMatchObject({ ph: 'M', pid: 4242, args: { name: 'node /srv/app.js' } });
    const metrics = b.add({ type: 'metrics', sample: sample(0) });
    expect(metrics.filter((e) => e.ph === 'C').map((e) => e.name)).toEqual(['lag p50', 'lag p99', 'lag max', 'event loop utilization (%)', 'heap used', 'heap total', 'rss']);
    expect(metrics.find((e) => e.ph === 'X')).toMatchObject({ name: 'GC (minor)', tid: TRACKS.gc, ts: 10, dur: 800 });
    const stack = [{ functionName: 'spin', url: 'file:///srv/app.js', lineNumber: 3, columnNumber: 1 }];
    expect(b.add({ type: 'blocked', report: { id: 1, state: 'ongoing', startUs: 5, durationUs: 60_000, stack } })).toEqual([]);
    expect(b.add({ type: 'blocked', report: { id: 1, state: 'ended', startUs: 5, durationUs: 70_000, stack: [] } })).toEqual([
      expect.objectContaining({ name: 'event loop blocked', ph: 'X', ts: 5, dur: 70_000, tid: TRACKS.blocked, args: expect.objectContaining({ stack: ['spin (app.js:3:1)'] }) }),
    ]);
    expect(b.add({ type: 'blocked', report: { id: 5, state: 'ended', startUs: 1, durationUs: 60_000, stack, stackSource: 'interrupt', unsampled: 'the CPU sampler had not started yet' } })).toEqual([
      expect.objectContaining({ args: expect.objectContaining({ stackSource: 'interrupt', unsampled: 'no CPU samples: the CPU sampler had not started yet' }) }),
    ]);
    b.add({ type: 'blocked', report: { id: 2, state: 'ongoing', startUs: 9, durationUs: 55_000, stack } });
    expect(b.finish()).toEqual([expect.objectContaining({ ts: 9, args: expect.objectContaining({ ongoing: expect.any(String) }) })]);
    const k = TaskEventKind;
    const events = [[k.init, 7, 1, 100, 1], [k.before, 7, 0, 110, 0], [k.before, 8, 0, 115, 0], [k.after, 8, 0, 120, 0], [k.after, 7, 0, 130, 0]];
    const batch = {
      count: events.length, kinds: Uint8Array.from(events.map((e) => e[0]!)), asyncIds: Float64Array.from(events.map((e) => e[1]!)),
      triggerIds: Float64Array.from(events.map((e) => e[2]!)), timesUs: Float64Array.from(events.map((e) => e[3]!)),
      typeIds: Uint16Array.from(events.map((e) => e[4]!)), types: new Map([[1, 'Timeout']]),
    };
    // A callback nested in another comes out after it, once the outer one has ended.
    expect(b.add({ type: 'taskEvents', batch })).toEqual([
      expect.objectContaining({ name: 'Timeout', ts: 110, dur: 20, tid: TRACKS.callbacks, args: { asyncId: 7 } }),
      expect.objectContaining({ name: 'callback', ts: 115, dur: 5, args: { asyncId: 8 } }),
    ]);
    for (const e of [...meta, ...metrics]) expect(eventProblems(e)).toEqual([]);
    expect(metrics[0]).toMatchObject({ pid: 4242, tid: 4242 });
  });

  it('writes what Perfetto reads as meant: nested slices sharing a start longest first, clean text, no tid 0', () => {
    const b = new ChromeTraceBuilder();
    b.add({ type: 'hello', hello: { ...syntheticHello, argv: ['node', '/srv/a\u0007pp.js'] } });
    const k = TaskEventKind;
    // Two callbacks starting at the same µs, one inside the other, and one still running at the end.
    const events = [[k.init, 7, 1, 100, 1], [k.init, 8, 1, 100, 2], [k.before, 7, 0, 110, 0], [k.before, 8, 0, 110, 0], [k.after, 8, 0, 115, 0],
      [k.after, 7, 0, 130, 0], [k.before, 7, 0, 140, 0], [k.before, 8, 0, 141, 0], [k.after, 8, 0, 142, 0]];
    const batch = {
      count: events.length, kinds: Uint8Array.from(events.map((e) => e[0]!)), asyncIds: Float64Array.from(events.map((e) => e[1]!)),
      triggerIds: Float64Array.from(events.map((e) => e[2]!)), timesUs: Float64Array.from(events.map((e) => e[3]!)),
      typeIds: Uint16Array.from(events.map((e) => e[4]!)), types: new Map([[1, 'Timeout'], [2, 'odd\u007ftype\ud800']]),
    };
    const out = [...b.add({ type: 'taskEvents', batch }), ...b.finish()];
    expect(out.map((e) => [e.name, e.ts, e.dur])).toEqual([['Timeout', 110, 20], ['odd\ufffdtype\ufffd', 110, 5], ['odd\ufffdtype\ufffd', 141, 1]]);
    for (const e of out) expect(eventProblems(e)).toEqual([]);
    const text = `{"traceEvents":[${out.map((e) => JSON.stringify(e)).join(',')}]}`;
    expect(perfettoView(text).slices.map((s) => [s.name, s.depth])).toEqual([['Timeout', 0], ['odd\ufffdtype\ufffd', 1], ['odd\ufffdtype\ufffd', 0]]);
    expect(traceText('node /srv/a\u0007pp.js \ud83d\ude00')).toBe('node /srv/a\ufffdpp.js \ud83d\ude00');
  });
});
