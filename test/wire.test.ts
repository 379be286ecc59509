import { describe, expect, it } from 'vitest';
import { WireError, WireLimitError, clipName, MAX_BLOCKED_BYTES, MAX_DICTIONARY_LENGTH, MAX_HELLO_BYTES, MAX_NAME_LENGTH, MAX_STACK_FRAMES, MessageType, PROTOCOL_VERSION, type Hello, type MetricsSample, type TasksSample } from '../probe/wire';
import { FrameReader } from '../probe/wire-framing';
import { encodeBlocked, encodeConfigure, encodeDetach, encodeDrops, encodeGoodbye, encodeHello, encodeTasks } from '../probe/wire-json';
import { encodeDictionary, encodeMetrics, encodeTaskEvents } from '../probe/wire-binary';
import { ProbeDecoder, decodeControl } from '../probe/wire-decoder';
import { encodeProfileDictionary } from '../probe/wire-profile';
import { formatFrame } from '../main/common/format';

const hello: Hello = {
  protocol: PROTOCOL_VERSION, token: 't0k3n', probeVersion: '0.1.0', pid: 42, ppid: 1, nodeVersion: 'v20.0.0',
  platform: 'linux', arch: 'x64', argv: ['/usr/bin/node', 'app.js'], execArgv: [], title: 'node', cwd: '/srv',
  threadId: 0, timeOriginMs: 1.7e12, config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, loadedBy: 'preload',
};

const sample: MetricsSample = {
  timeUs: 1_000_000, intervalUs: 100_000,
  lag: { minUs: 1, meanUs: 20, p50Us: 10, p90Us: 30, p99Us: 900, maxUs: 51_000, count: 9, stallMaxUs: 51_000, percentiles: [[0, 1], [50, 10], [100, 51_000]] },
  utilization: 0.25, cpuUserUs: 20_000, cpuSystemUs: 3_000, rssBytes: 5e7, heapUsedBytes: 1e7, heapTotalBytes: 2e7,
  externalBytes: 1e6, arrayBuffersBytes: 1e5, probeMainUs: 35, probeWorkerUs: 210,
  gc: [{ kind: 'minor', startUs: 950_000, durationUs: 800 }, { kind: 'major', startUs: 960_000, durationUs: 5000 }],
  resources: [{ type: 'TCPWrap', count: 3 }, { type: 'Timeout', count: 1 }],
};

function decodeAll(bytes: Uint8Array, decoder = new ProbeDecoder()) {
  return new FrameReader().push(bytes).map((f) => decoder.decode(f));
}

function withHeader(bytes: Uint8Array, patch: (v: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  patch(new DataView(copy.buffer));
  return copy;
}

describe('wire format', () => {
  it('round-trips every probe message', () => {
    const stream = new Uint8Array([
      ...encodeHello(hello),
      ...encodeDictionary([[1, 'TCPWrap'], [2, 'Timeout']]),
      ...encodeMetrics(sample, [1, 2]),
      ...encodeBlocked({ id: 1, state: 'ended', startUs: 5, durationUs: 50_000, stack: [{ functionName: 'f', url: '/a.js', lineNumber: 3, columnNumber: 7 }], unsampled: 'the CPU sampler had not started yet' }),
      ...encodeDrops({ frames: { Metrics: 2 }, bytes: 400 }),
      ...encodeGoodbye({ reason: 'target exiting', exitCode: 3 }),
    ]);
    const messages = decodeAll(stream);
    expect(messages.map((m) => m.type)).toEqual(['hello', 'dictionary', 'metrics', 'blocked', 'drops', 'goodbye']);
    expect(messages[0]).toEqual({ type: 'hello', hello });
    expect(messages[2]).toEqual({ type: 'metrics', sample });
    expect(messages[3]).toMatchObject({ type: 'blocked', report: { unsampled: 'the CPU sampler had not started yet' } });
    expect(messages[5]).toEqual({ type: 'goodbye', goodbye: { reason: 'target exiting', exitCode: 3 } });
  });

  it('reassembles frames split at every byte boundary', () => {
    const bytes = new Uint8Array([...encodeHello(hello), ...encodeGoodbye({ reason: 'x' })]);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const reader = new FrameReader();
      const frames = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
      expect(frames.map((f) => f.type)).toEqual([MessageType.Hello, MessageType.Goodbye]);
      expect(reader.pendingBytes).toBe(0);
    }
  });

  it('decodes task event batches from Node Buffers at any offset', () => {
    const n = 5;
    const kinds = Uint8Array.from([0, 1, 2, 3, 5]);
    const ids = Float64Array.from([7, 7, 7, 7, 0]);
    const triggers = Float64Array.from([1, 0, 0, 0, 0]);
    const times = Float64Array.from([10, 11, 12, 13, 14]);
    const types = Uint16Array.from([1, 0, 0, 0, 0]);
    const stream = new Uint8Array([...encodeDictionary([[1, 'TCPWRAP']]), ...encodeTaskEvents(n, kinds, ids, triggers, times, types)]);
    for (const offset of [1, 3, 8]) {
      // As a socket delivers them: Buffers that are views into a larger allocation.
      const pool = Buffer.alloc(stream.length + offset + 5, 0xee);
      pool.set(stream, offset);
      const messages = decodeAll(pool.subarray(offset, offset + stream.length));
      const batch = messages[1]!.type === 'taskEvents' ? messages[1]!.batch : undefined;
      expect(batch).toBeDefined();
      expect([...batch!.kinds]).toEqual([0, 1, 2, 3, 5]);
      expect([...batch!.asyncIds]).toEqual([7, 7, 7, 7, 0]);
      expect([...batch!.timesUs]).toEqual([10, 11, 12, 13, 14]);
      expect(batch!.types.get(1)).toBe('TCPWRAP');
    }
  });

  it('round-trips control messages', () => {
    const frames = new FrameReader().push(new Uint8Array([...encodeConfigure({ blockThresholdMs: 20 }), ...encodeDetach()]));
    expect(frames.map(decodeControl)).toEqual([{ type: 'configure', config: { blockThresholdMs: 20 } }, { type: 'detach' }]);
  });

  it.each([
    ['a length shorter than the header', (v: DataView) => v.setUint32(0, 2, true), /bad frame length 2/],
    ['a length over the limit', (v: DataView) => v.setUint32(0, 0x7fffffff, true), /larger than/],
    ['an unknown version', (v: DataView) => v.setUint8(4, 99), /unsupported protocol version 99/],
    ['an unknown type', (v: DataView) => v.setUint8(5, 200), /unknown message type 200/],
    ['reserved bits', (v: DataView) => v.setUint16(6, 1, true), /reserved/],
  ])('rejects a frame with %s', (_what, patch, message) => {
    const bad = withHeader(encodeGoodbye({ reason: 'x' }), patch);
    expect(() => new FrameReader().push(bad)).toThrow(WireError);
    expect(() => new FrameReader().push(bad)).toThrow(message);
  });

  it('rejects payloads that do not match their type', () => {
    const metrics = encodeMetrics(sample, [1, 2]);
    const decoder = new ProbeDecoder();
    decoder.decode(new FrameReader().push(encodeDictionary([[1, 'TCPWrap'], [2, 'Timeout']]))[0]!);
    // A metrics payload cut short, with the frame length patched to match the cut.
    const cut = metrics.slice(0, metrics.length - 8);
    new DataView(cut.buffer).setUint32(0, cut.length - 4, true);
    expect(() => decodeAll(cut, decoder)).toThrow(/metrics: payload is \d+ bytes, expected/);
    // A resource type id that was never in a dictionary.
    expect(() => decodeAll(metrics)).toThrow(/resource type id 1 is not in the dictionary/);
  });

  it('rejects JSON messages with missing or mistyped fields', () => {
    const bad = (value: unknown) => {
      const json = new TextEncoder().encode(JSON.stringify(value));
      const frame = new Uint8Array(8 + json.length);
      const v = new DataView(frame.buffer);
      v.setUint32(0, 4 + json.length, true);
      v.setUint8(4, PROTOCOL_VERSION);
      v.setUint8(5, MessageType.Blocked);
      frame.set(json, 8);
      return frame;
    };
    expect(() => decodeAll(bad({ id: 1 }))).toThrow(/blocked report: field "state"/);
    expect(() => decodeAll(bad({ id: 1, state: 'ended', startUs: 0, durationUs: -5, stack: [] }))).toThrow(/negative duration/);
    expect(() => decodeAll(bad({ id: 1, state: 'ended', startUs: 0, durationUs: 5, stack: [{ functionName: 3 }] }))).toThrow(/stack\[0\]/);
    expect(() => decodeAll(bad([1, 2]))).toThrow(/not a JSON object/);
  });

  it('rejects a payload that is not UTF-8 or not JSON', () => {
    const frame = encodeGoodbye({ reason: 'x' });
    const garbled = frame.slice();
    garbled[10] = 0xff;
    expect(() => decodeAll(garbled)).toThrow(/not valid UTF-8/);
    const notJson = frame.slice();
    notJson[8] = 0x7d; // '}' where '{' was
    expect(() => decodeAll(notJson)).toThrow(/not valid JSON/);
  });

  it('refuses control messages from a probe and probe messages as control', () => {
    expect(() => decodeAll(encodeDetach())).toThrow(/not sent by a probe/);
    expect(() => decodeControl(new FrameReader().push(encodeHello(hello))[0]!)).toThrow(/not sent by loopscope/);
  });
});

describe('wire limits: what one frame may make loopscope decode and hold', () => {
  const frameOf = (type: number, json: unknown): Uint8Array => {
    const body = new TextEncoder().encode(JSON.stringify(json));
    const frame = new Uint8Array(8 + body.length);
    const v = new DataView(frame.buffer);
    v.setUint32(0, 4 + body.length, true);
    v.setUint8(4, PROTOCOL_VERSION);
    v.setUint8(5, type);
    frame.set(body, 8);
    return frame;
  };
  const long = 'x'.repeat(MAX_NAME_LENGTH + 1);
  const stackFrame = { functionName: 'f', url: '/a.js', lineNumber: 1, columnNumber: 1 };

  it('refuses names past MAX_NAME_LENGTH, naming the limit', () => {
    const report = { id: 1, state: 'ended', startUs: 0, durationUs: 5 };
    expect(() => decodeAll(frameOf(MessageType.Blocked, { ...report, stack: [{ ...stackFrame, url: long }] }))).toThrow(WireLimitError);
    expect(() => decodeAll(frameOf(MessageType.Blocked, { ...report, stack: [{ ...stackFrame, functionName: long }] }))).toThrow(/4097 characters, more than the limit of 4096/);
    expect(() => decodeAll(frameOf(MessageType.Blocked, { ...report, stack: [], stackError: long }))).toThrow(WireLimitError);
    expect(() => decodeAll(frameOf(MessageType.Blocked, { ...report, stack: [], unsampled: long }))).toThrow(WireLimitError);
    expect(() => decodeAll(frameOf(MessageType.Blocked, { ...report, stack: [], unsampled: 7 }))).toThrow(/"unsampled"/);
    expect(() => decodeAll(encodeDictionary([[1, long]]))).toThrow(/entry 0 has 4097 characters, more than the limit of 4096/);
    expect(() => decodeAll(encodeDictionary([[1, 'x'.repeat(3 * MAX_NAME_LENGTH + 1)]]))).toThrow(/more than the limit of 4096 characters/);
    expect(() => decodeAll(frameOf(MessageType.Goodbye, { reason: long }))).toThrow(WireLimitError);
  });

  it('refuses a frame larger than its kind allows before parsing it', () => {
    const stack = Array.from({ length: MAX_STACK_FRAMES }, () => ({ ...stackFrame, url: 'u'.repeat(MAX_NAME_LENGTH) }));
    expect(() => decodeAll(frameOf(MessageType.Blocked, { id: 1, state: 'ended', startUs: 0, durationUs: 5, stack }))).toThrow(/Blocked frame of \d+ bytes, more than the limit of 262144/);
    expect(() => decodeAll(frameOf(MessageType.Hello, { ...hello, argv: ['a'.repeat(MAX_HELLO_BYTES)] }))).toThrow(/Hello frame of \d+ bytes, more than the limit of 1048576/);
    expect(() => decodeAll(frameOf(MessageType.Blocked, { id: 1, state: 'ended', startUs: 0, durationUs: 5, stack: [...stack, stackFrame].map(() => stackFrame) }))).toThrow(/more than the limit of 64/);
  });

  it('encodes a blocked report that fits: a stack too large loses its outer frames', () => {
    const stack = Array.from({ length: MAX_STACK_FRAMES }, (_, i) => ({ ...stackFrame, lineNumber: i + 1, url: 'u'.repeat(MAX_NAME_LENGTH) }));
    const frame = encodeBlocked({ id: 1, state: 'ended', startUs: 0, durationUs: 5, stack });
    expect(frame.byteLength - 8).toBeLessThanOrEqual(MAX_BLOCKED_BYTES);
    const [m] = decodeAll(frame);
    const kept = m?.type === 'blocked' ? m.report.stack : [];
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(stack.slice(0, kept.length));
    expect(clipName(long)).toHaveLength(MAX_NAME_LENGTH);
  });

  it('bounds the dictionary in all, whatever each frame holds', () => {
    const decoder = new ProbeDecoder();
    const entry = 'd'.repeat(MAX_NAME_LENGTH);
    const perFrame = 16;
    let id = 1;
    for (let n = 0; n + perFrame * MAX_NAME_LENGTH <= MAX_DICTIONARY_LENGTH; n += perFrame * MAX_NAME_LENGTH) {
      decodeAll(encodeDictionary(Array.from({ length: perFrame }, () => [id++, entry] as const)), decoder);
    }
    expect(() => decodeAll(encodeDictionary([[id, entry]]), decoder)).toThrow(/dictionary: more than the limit of 1048576 characters in all/);
    // Replacing an entry does not add to the total.
    decodeAll(encodeDictionary([[1, entry]]), decoder);
  });

  it('refuses metrics with more GC pauses, resources or percentiles than the limits', () => {
    const gc = Array.from({ length: 1025 }, () => ({ kind: 'minor' as const, startUs: 1, durationUs: 1 }));
    expect(() => decodeAll(encodeMetrics({ ...sample, gc, resources: [] }, []))).toThrow(/1025 GC pauses, 0 resource types and 3 percentiles, more than the limits of 1024, 1024 and 1024/);
  });

  it('refuses histograms with buckets that do not exist, which merging would keep', () => {
    const tasks: TasksSample = {
      timeUs: 1, intervalUs: 1, promisesTracked: false, types: [], untracked: 0,
      threadpool: { size: 4, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [[1e9, 1]] },
      timers: { fired: 0, lateUs: [], lateMaxUs: 0 }, fanOut: { perCallback: [], max: 0, maxType: '' }, slowCallbacks: [], liveSites: [],
    };
    expect(() => decodeAll(encodeTasks(tasks))).toThrow(/bucket 1000000000 that does not exist/);
    const many = Array.from({ length: 300 }, (_, i) => [i, 1] as const);
    expect(() => decodeAll(encodeTasks({ ...tasks, threadpool: { ...tasks.threadpool, queueUs: many } }))).toThrow(WireLimitError);
  });

  it('carries how promises are left out, and refuses a way it does not know', () => {
    const tasks: TasksSample = {
      timeUs: 1, intervalUs: 1, promisesTracked: false, types: [], untracked: 0,
      threadpool: { size: 4, maxInFlight: 0, maxQueued: 0, completed: 0, queueUs: [] },
      timers: { fired: 0, lateUs: [], lateMaxUs: 0 }, fanOut: { perCallback: [], max: 0, maxType: '' }, slowCallbacks: [], liveSites: [],
    };
    for (const promiseSkipping of ['trackPromises', 'kNoPromiseHook', 'inspector', 'none'] as const) {
      expect(decodeAll(encodeTasks({ ...tasks, promiseSkipping }))).toMatchObject([{ type: 'tasks', sample: { promiseSkipping } }]);
    }
    // Probes before this field: absent.
    expect(decodeAll(encodeTasks(tasks))).toMatchObject([{ type: 'tasks', sample: { promiseSkipping: undefined } }]);
    expect(() => decodeAll(encodeTasks({ ...tasks, promiseSkipping: 'magic' as 'none' }))).toThrow(/"promiseSkipping" must be one of trackPromises, kNoPromiseHook, inspector, none/);
  });
});

describe('the target\'s words', () => {
  // An escape sequence in a function's name, a file's or a resource type's would act in the
  // terminal that prints it (clear the screen, set the title, write the clipboard).
  const evil = 'x\x1b]52;c;aGk=\x07\x1b[2J\n\x9b1m';
  const shown = 'x ]52;c;aGk=  [2J  1m';

  it('come off the wire with their control characters as spaces, in JSON and binary messages alike', () => {
    const frames = [{ functionName: evil, url: `file:///app/${evil}.js`, lineNumber: 1, columnNumber: 1 }];
    const decoded = decodeAll(new Uint8Array([
      ...encodeDictionary([[1, evil]]),
      ...encodeBlocked({ id: 1, state: 'ended', startUs: 0, durationUs: 5, stack: frames }),
      ...encodeProfileDictionary({ reset: false, frames: [[1, { ...frames[0]!, kind: 'code' }]], nodes: [[1, 0, 1]] }),
      // JSON escapes C0 characters, not DEL nor C1 ones: with no backslash in the text, these too.
      ...encodeBlocked({ id: 2, state: 'ended', startUs: 0, durationUs: 5, stack: [{ ...frames[0]!, functionName: 'c\x9b1m\x7f', url: '' }] }),
      ...encodeDrops({ frames: { [evil]: 3 }, bytes: 0 }),
    ]));
    expect(decoded).toMatchObject([
      { type: 'dictionary', entries: [[1, shown]] },
      { type: 'blocked', report: { stack: [{ functionName: shown, url: `file:///app/${shown}.js` }] } },
      { type: 'profileDictionary', dictionary: { frames: [[1, { functionName: shown, url: `file:///app/${shown}.js` }]] } },
      { type: 'blocked', report: { stack: [{ functionName: 'c 1m ' }] } },
      { type: 'drops', drops: { frames: { [shown]: 3 } } },
    ]);
  });

  it('a malformed file URL is shown as it came, not thrown on', () => {
    const frame = { functionName: 'f', url: 'file:///app/%E0%A4%A.js', lineNumber: 3, columnNumber: 7 };
    expect(formatFrame(frame)).toBe('f (file:///app/%E0%A4%A.js:3:7)');
    expect(formatFrame({ ...frame, url: 'file:///app/a%20b.js' })).toBe('f (/app/a b.js:3:7)');
  });
});
