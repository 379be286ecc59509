// Synthetic probe frames for the recording tests and benchmarks: a plausible session (hello,
// dictionary, metrics with GC and resources, blocked reports, drops, goodbye) as raw frames.

import { TaskEventKind, type Hello, type MessageTypeId, type MetricsSample, type RawFrame } from '../../probe/wire';
import { encodeBlocked, encodeDrops, encodeGoodbye } from '../../probe/wire-json';
import { encodeDictionary, encodeMetrics, encodeTaskEvents } from '../../probe/wire-binary';

export const syntheticHello: Hello = {
  protocol: 1, token: 'secret-token', probeVersion: '0.1.0', pid: 4242, ppid: 1, nodeVersion: 'v20.20.2', platform: 'linux', arch: 'x64',
  argv: ['/usr/bin/node', '/srv/app.js'], execArgv: [], title: 'node', cwd: '/srv', threadId: 0, timeOriginMs: 1_700_000_000_000,
  config: { mode: 'metrics', promises: false, intervalMs: 100, blockThresholdMs: 50 }, loadedBy: 'preload',
};

export const toRaw = (bytes: Uint8Array): RawFrame => ({ type: bytes[5] as MessageTypeId, payload: bytes.subarray(8) });

export function sample(i: number, intervalMs = 100): MetricsSample {
  const lag = i % 50 === 49 ? 120_000 : 200 + (i % 7) * 30;
  const percentiles: [number, number][] = [[0, lag / 2], [50, lag * 0.8], [90, lag * 0.9], [99, lag], [100, lag]];
  return {
    timeUs: (i + 1) * intervalMs * 1000, intervalUs: intervalMs * 1000,
    lag: { minUs: lag / 2, meanUs: lag * 0.8, p50Us: lag * 0.8, p90Us: lag * 0.9, p99Us: lag, maxUs: lag, count: 10, stallMaxUs: 0, percentiles },
    utilization: (i % 10) / 10, cpuUserUs: 10_000 + i, cpuSystemUs: 1_000, rssBytes: 1e8 + i * 1000, heapUsedBytes: 1e7 + (i % 100) * 1e5,
    heapTotalBytes: 2e7, externalBytes: 1e6, arrayBuffersBytes: 1e5, probeMainUs: 40, probeWorkerUs: 120,
    gc: i % 20 === 0 ? [{ kind: 'minor', startUs: i * intervalMs * 1000 + 10, durationUs: 800 + i }] : [],
    resources: [{ type: 'Timeout', count: 2 + (i % 3) }, { type: 'TCPWRAP', count: 1 }],
  };
}

export interface TimedFrame {
  readonly raw: RawFrame;
  /** ms after the session's start. */
  readonly atMs: number;
}

/** `samples` metrics intervals of 100 ms, with a block every 5 s, and a goodbye at the end. */
export function syntheticSession(samples: number, options: { goodbye?: boolean } = {}): TimedFrame[] {
  const frames: TimedFrame[] = [{ raw: toRaw(encodeDictionary([[1, 'Timeout'], [2, 'TCPWRAP']])), atMs: 5 }];
  for (let i = 0; i < samples; i++) {
    const atMs = (i + 1) * 100;
    frames.push({ raw: toRaw(encodeMetrics(sample(i), [1, 2])), atMs });
    if (i % 50 === 49) {
      const report = { id: i, startUs: atMs * 1000 - 120_000, stack: [{ functionName: 'spin', url: 'file:///srv/app.js', lineNumber: 10 + (i % 3), columnNumber: 3 }] };
      frames.push({ raw: toRaw(encodeBlocked({ ...report, state: 'ongoing', durationUs: 60_000 })), atMs: atMs - 50 });
      frames.push({ raw: toRaw(encodeBlocked({ ...report, state: 'ended', durationUs: 120_000, stack: [] })), atMs });
    }
    if (i % 100 === 99) frames.push({ raw: toRaw(encodeDrops({ frames: {}, bytes: 0 })), atMs });
  }
  if (options.goodbye !== false) frames.push({ raw: toRaw(encodeGoodbye({ reason: 'exit', exitCode: 0 })), atMs: (samples + 1) * 100 });
  return frames.sort((a, b) => a.atMs - b.atMs);
}

/**
 * A trace-mode batch of `events` lifecycle events (a turn, then init, before, after, destroy of
 * one resource after another: type id 1, from the session's dictionary), from `firstId` on,
 * timed from `startUs` on.
 */
export function taskEventBatch(firstId: number, startUs: number, events = 4096): RawFrame {
  const kinds = new Uint8Array(events);
  const asyncIds = new Float64Array(events);
  const triggerIds = new Float64Array(events);
  const timesUs = new Float64Array(events);
  const typeIds = new Uint16Array(events);
  const cycle = [TaskEventKind.turn, TaskEventKind.init, TaskEventKind.before, TaskEventKind.after, TaskEventKind.destroy];
  for (let i = 0; i < events; i++) {
    const kind = cycle[i % cycle.length]!;
    kinds[i] = kind;
    asyncIds[i] = firstId + Math.floor(i / cycle.length);
    triggerIds[i] = kind === TaskEventKind.init ? 1 : 0;
    timesUs[i] = startUs + i;
    typeIds[i] = kind === TaskEventKind.init ? 1 : 0;
  }
  return toRaw(encodeTaskEvents(events, kinds, asyncIds, triggerIds, timesUs, typeIds));
}
