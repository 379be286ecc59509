// A feed that applies messages another decoder made (a recording takes a live loop's decoded
// frames): their dictionaries join its decoder's, so that frames it decodes itself later refer
// to them, and a keyframe's snapshot of the CPU profile's dictionary has them.

import { describe, expect, it } from 'vitest';
import { MAX_DICTIONARY_ENTRIES, type MetricsSample, type ProfileDictionary } from '../probe/wire';
import { FrameReader } from '../probe/wire-framing';
import { encodeDictionary, encodeMetrics } from '../probe/wire-binary';
import { encodeProfileDictionary } from '../probe/wire-profile';
import { ProbeDecoder } from '../probe/wire-decoder';
import { SessionFeed } from '../main/session/session-feed';

const sample: MetricsSample = {
  timeUs: 1_000_000, intervalUs: 100_000,
  lag: { minUs: 1, meanUs: 20, p50Us: 10, p90Us: 30, p99Us: 900, maxUs: 900, count: 9, stallMaxUs: 0, percentiles: [[0, 1], [50, 10], [100, 900]] },
  utilization: 0.25, cpuUserUs: 20_000, cpuSystemUs: 3_000, rssBytes: 5e7, heapUsedBytes: 1e7, heapTotalBytes: 2e7,
  externalBytes: 1e6, arrayBuffersBytes: 1e5, probeMainUs: 35, probeWorkerUs: 210, gc: [],
  resources: [{ type: 'TCPWrap', count: 3 }],
};

const profile: ProfileDictionary = {
  reset: false,
  frames: [[1, { functionName: 'parseBig', url: '/app.js', lineNumber: 3, columnNumber: 1, kind: 'code' }]],
  nodes: [[1, 0, 1]],
};

const frame = (bytes: Uint8Array) => new FrameReader().push(bytes)[0]!;

describe('a feed applying messages decoded elsewhere', () => {
  it('decodes later frames against their dictionary, and snapshots their profile nodes', () => {
    const elsewhere = new ProbeDecoder();
    const feed = new SessionFeed();
    feed.apply(elsewhere.decode(frame(encodeDictionary([[1, 'TCPWrap']]))));
    feed.apply(elsewhere.decode(frame(encodeProfileDictionary(profile))));
    expect(feed.dictionary.get(1)).toBe('TCPWrap');
    expect(feed.profileDictionary).toMatchObject({ frames: profile.frames, nodes: profile.nodes });
    // A frame the feed decodes itself refers to the entry it was never sent.
    const m = feed.push(frame(encodeMetrics(sample, [1])));
    expect(m).toMatchObject({ type: 'metrics', sample: { resources: [{ type: 'TCPWrap', count: 3 }] } });
  });

  it('checks their entries as it would a frame\'s, and takes none of a message over the limits', () => {
    const feed = new SessionFeed();
    const tooMany = Array.from({ length: MAX_DICTIONARY_ENTRIES + 1 }, (_, i): [number, string] => [i + 1, 'x']);
    expect(() => feed.apply({ type: 'dictionary', entries: tooMany })).toThrow(/more than the limit of 65536 entries/);
    expect(feed.dictionary.size).toBe(0);
  });
});
