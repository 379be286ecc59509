// The exporters' pure parts: settings from the command line and the environment, Prometheus
// names, histograms at export bounds, the metrics of a session, a blocked loop's log record.

import { describe, expect, it } from 'vitest';
import { checkResourceAttributes, DEFAULT_EXPORT_INTERVAL_MS, exportIntervalMs, FleetConfigError, listenAddress, otlpSettings } from '../main/fleet/fleet-config';
import { withUnitSuffix } from '../main/fleet/prometheus-names';
import { METRICS } from '../main/fleet/metric-names';
import { BucketRecorder, lagBuckets, LAG_BOUNDS_S, sparseBuckets } from '../main/fleet/buckets';
import { collectMetrics, type MetricValues } from '../main/fleet/fleet-metrics';
import { LoopCounters } from '../main/fleet/loop-counters';
import { blockedRecord } from '../main/fleet/blocked-log';
import { addInterval, emptyLagHistogram } from '../main/session/lag-histogram';
import { feedOf } from './helpers/feed';
import { GC_PAUSES_UNRECORDED, type BlockedReport, type MetricsSample, type ProbeMessage } from '../probe/wire';

const hello = {
  protocol: 1, token: 't', probeVersion: 'x', pid: 9, ppid: 1, nodeVersion: 'v20.1.0', platform: 'linux', arch: 'x64',
  argv: ['/usr/bin/node', '/srv/app.js'], execArgv: [], title: 'node', cwd: '/srv', threadId: 0, timeOriginMs: 1_700_000_000_000,
  config: { mode: 'metrics' as const, promises: false, intervalMs: 100, blockThresholdMs: 50 }, loadedBy: 'preload' as const,
};
const identity = { pid: 9, ppid: 1, threadId: 0, name: 'main' };

function sample(i: number, lagUs: number, extra: Partial<MetricsSample> = {}): MetricsSample {
  return {
    timeUs: (i + 1) * 100_000, intervalUs: 100_000,
    lag: { minUs: lagUs, meanUs: lagUs, p50Us: lagUs, p90Us: lagUs, p99Us: lagUs, maxUs: lagUs, count: 10, stallMaxUs: 0, percentiles: [[50, lagUs], [100, lagUs]] },
    utilization: 0.25, cpuUserUs: 10_000, cpuSystemUs: 1_000, rssBytes: 1e8 + i, heapUsedBytes: 1e7 + i,
    heapTotalBytes: 2e7, externalBytes: 0, arrayBuffersBytes: 0, gc: [], resources: [], probeMainUs: 100, probeWorkerUs: 50, ...extra,
  };
}

const fail = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetConfigError);
    return (err as Error).message;
  }
  throw new Error('did not throw');
};

describe('exporter settings', () => {
  it('reads --prometheus [host:]port: a port alone is loopback, :port every interface', () => {
    expect(listenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(listenAddress(':9464')).toEqual({ host: '::', port: 9464 });
    expect(listenAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(listenAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    for (const bad of ['localhost', '70000', '', ':0', 'a:b:9464']) expect(fail(() => listenAddress(bad))).toMatch(/^--prometheus takes \[host:\]port/);
  });

  it('reads --otlp as a base URL, and the protocol per signal from the environment', () => {
    expect(otlpSettings('http://collector:4318', {})).toEqual({
      metrics: { url: 'http://collector:4318/v1/metrics', protocol: 'http/protobuf' },
      logs: { url: 'http://collector:4318/v1/logs', protocol: 'http/protobuf' },
    });
    const s = otlpSettings('https://otel.example/otlp/', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' });
    expect(s.metrics).toEqual({ url: 'https://otel.example/otlp/v1/metrics', protocol: 'http/json' });
    expect(s.logs).toEqual({ url: 'https://otel.example/otlp/v1/logs', protocol: 'http/protobuf' });
    expect(otlpSettings('env', {}).metrics.url).toBeUndefined();
    expect(fail(() => otlpSettings('collector:4318', {}))).toMatch(/--otlp needs an http:\/\/ or https:\/\/ URL/);
    expect(fail(() => otlpSettings('not a url', {}))).toMatch(/--otlp takes the URL of an OTLP\/HTTP receiver/);
    expect(fail(() => otlpSettings('env', { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' }))).toMatch(/^OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=grpc: loopscope sends OTLP over HTTP/);
    expect(fail(() => otlpSettings('env', { OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }))).toMatch(/not a protocol loopscope knows/);
  });

  it('reads the export interval and checks OTEL_RESOURCE_ATTRIBUTES, which the SDK would drop silently', () => {
    expect(exportIntervalMs({})).toBe(DEFAULT_EXPORT_INTERVAL_MS);
    expect(exportIntervalMs({ OTEL_METRIC_EXPORT_INTERVAL: '10000' })).toBe(10_000);
    expect(fail(() => exportIntervalMs({ OTEL_METRIC_EXPORT_INTERVAL: 'ten' }))).toMatch(/OTEL_METRIC_EXPORT_INTERVAL="ten"/);
    expect(fail(() => exportIntervalMs({ OTEL_METRIC_EXPORT_INTERVAL: '5' }))).toMatch(/at least 100/);
    expect(() => checkResourceAttributes({ OTEL_RESOURCE_ATTRIBUTES: 'a=b, c=d%2Ce' })).not.toThrow();
    expect(fail(() => checkResourceAttributes({ OTEL_RESOURCE_ATTRIBUTES: 'a=b,c=d=e' }))).toMatch(/"c=d=e" is not key=value/);
    expect(fail(() => checkResourceAttributes({ OTEL_RESOURCE_ATTRIBUTES: 'k=%zz' }))).toMatch(/"k=%zz"/);
  });
});

describe('Prometheus names', () => {
  it('append the unit in Prometheus\' words, as OpenTelemetry\'s translation does', () => {
    expect(withUnitSuffix(METRICS.delayP99)).toBe('nodejs.eventloop.delay.p99.seconds');
    expect(withUnitSuffix(METRICS.utilization)).toBe('nodejs.eventloop.utilization.ratio');
    expect(withUnitSuffix(METRICS.loopTime)).toBe('nodejs.eventloop.time.seconds');
    expect(withUnitSuffix(METRICS.memoryUsage)).toBe('process.memory.usage.bytes');
    expect(withUnitSuffix(METRICS.blocked)).toBe('loopscope.eventloop.blocked');
    expect(withUnitSuffix(METRICS.poolSaturation)).toBe('loopscope.threadpool.saturation.ratio');
    expect(withUnitSuffix({ ...METRICS.delay, name: 'x.seconds' })).toBe('x.seconds');
  });
});

describe('histograms at export bounds', () => {
  it('turns the session\'s lag histogram into whole counts at the bounds, its sum within 2%', () => {
    let h = emptyLagHistogram();
    for (let i = 0; i < 99; i++) h = addInterval(h, [[100, 300]], 10); // 990 beats of 0.3 ms
    h = addInterval(h, [[50, 300], [100, 150_000]], 3); // 1.5 at 0.3 ms, 1.5 at 150 ms
    const b = lagBuckets(h, 150_000);
    expect(b.bounds).toBe(LAG_BOUNDS_S);
    expect(b.counts.reduce((a, c) => a + c, 0)).toBe(b.count);
    expect(b.count).toBe(993);
    // 991.5 and 1.5: the cumulative masses are rounded (992, 993), so the counts still add up.
    expect(b.counts[LAG_BOUNDS_S.indexOf(0.0005)]).toBe(992);
    expect(b.counts[LAG_BOUNDS_S.indexOf(0.25)]).toBe(1);
    expect(b.sum).toBeCloseTo(991.5 * 0.0003 + 1.5 * 0.15, 2);
    expect(b.max).toBe(0.15);
    expect(lagBuckets(emptyLagHistogram(), 0)).toMatchObject({ count: 0, sum: 0, min: 0, max: 0 });
  });

  it('records single values, and reads the probe\'s log histograms', () => {
    const r = new BucketRecorder([0.01, 0.1]);
    for (const v of [0.005, 0.01, 0.05, 2]) r.record(v);
    expect(r.snapshot).toMatchObject({ counts: [2, 1, 1], count: 4, min: 0.005, max: 2 });
    expect(r.snapshot.sum).toBeCloseTo(2.065, 6);
    const s = sparseBuckets([[1, 3], [80, 2]], [0.001, 1], 2000);
    expect(s.counts).toEqual([3, 2, 0]);
    expect(s.max).toBe(0.002);
  });
});

describe('the metrics of a session', () => {
  const byName = (values: MetricValues[]): Map<string, MetricValues> => new Map(values.map((v) => [v.spec.name, v]));

  it('describes the last interval in its gauges, and counts the whole session', () => {
    const counters = new LoopCounters();
    const messages: ProbeMessage[] = [{ type: 'hello', hello }];
    // 10 s of 0.2 ms lag, a 120 ms stretch 20 s before the end, then 10 s of 0.2 ms.
    for (let i = 0; i < 300; i++) messages.push({ type: 'metrics', sample: sample(i, i === 100 ? 120_000 : 200, { gc: i % 10 === 0 ? [{ kind: 'minor', startUs: i * 100_000, durationUs: 800 }] : [] }) });
    const block: BlockedReport = { id: 1, state: 'ended', startUs: 10_000_000, durationUs: 120_000, stack: [] };
    messages.push({ type: 'blocked', report: block }, { type: 'blocked', report: block });
    // 2 pauses the trace has half of, and 3 metrics frames read too slowly.
    messages.push({ type: 'drops', drops: { frames: { [GC_PAUSES_UNRECORDED]: 2, Metrics: 3 }, bytes: 100 } });
    const feed = feedOf(messages);
    for (const m of messages) counters.apply(m);
    const reading = { identity, data: feed, counters, startMs: 1000 };

    const recent = byName(collectMetrics([reading], 10_000));
    expect(recent.get('nodejs.eventloop.delay.max')!.points[0]!.value).toBeCloseTo(0.0002, 6);
    expect(recent.get('nodejs.eventloop.delay.p99')!.points[0]!.value).toBeCloseTo(0.0002, 5);
    expect(recent.get('nodejs.eventloop.utilization')!.points[0]!.value).toBeCloseTo(0.25, 6);
    const wide = byName(collectMetrics([reading], 25_000));
    expect(wide.get('nodejs.eventloop.delay.max')!.points[0]!.value).toBeCloseTo(0.12, 6);
    expect(wide.get('nodejs.eventloop.delay.stddev')!.points[0]!.value as number).toBeGreaterThan(0.005);

    const point = recent.get('loopscope.eventloop.blocked')!.points[0]!;
    expect(point).toEqual({ attributes: { 'process.pid': 9, 'process.parent_pid': 1, 'thread.id': 0, 'thread.name': 'main' }, value: 1, startMs: 1000 });
    expect(recent.get('loopscope.eventloop.blocked.duration')!.points[0]!.value).toMatchObject({ count: 1, sum: 0.12 });
    expect(recent.get('loopscope.eventloop.delay')!.points[0]!.value).toMatchObject({ count: 3000 });
    const time = recent.get('nodejs.eventloop.time')!.points;
    expect(time.map((p) => [p.attributes['nodejs.eventloop.state'], p.value])).toEqual([['active', 7.5], ['idle', 22.5]]);
    expect(recent.get('v8js.gc.duration')!.points[0]).toMatchObject({ attributes: { 'v8js.gc.type': 'minor' }, value: { count: 30 } });
    expect(recent.get('process.cpu.time')!.points.map((p) => p.value)).toEqual([3, 0.3]);
    expect(recent.get('loopscope.probe.cpu.time')!.points.map((p) => p.value)).toEqual([0.03, 0.015]);
    expect(recent.get('loopscope.gc.unrecorded')!.points.map((p) => p.value)).toEqual([2]);
    expect(recent.get('loopscope.probe.dropped_frames')!.points.map((p) => [p.attributes['loopscope.frame.type'], p.value])).toEqual([['Metrics', 3]]);
    // Thread-pool metrics come with tasks mode only.
    expect(recent.has('loopscope.threadpool.wait')).toBe(false);
  });
});

describe('a blocked loop as a log record', () => {
  it('says where and how long, with the stack as Node prints it', () => {
    const report: BlockedReport = {
      id: 7, state: 'ended', startUs: 2_000_000, durationUs: 123_456,
      stack: [
        { functionName: 'now', url: 'node:internal/perf/utils', lineNumber: 1, columnNumber: 1 },
        { functionName: 'blockFor', url: '/srv/app.js', lineNumber: 14, columnNumber: 3 },
        { functionName: '', url: '/srv/app.js', lineNumber: 20, columnNumber: 1 },
      ],
    };
    const r = blockedRecord(report, hello, identity);
    expect(r.timestampMs).toBe(1_700_000_002_000);
    expect(r.body).toBe('event loop blocked for 123.5 ms in blockFor (/srv/app.js:14:3)');
    expect(r.attributes).toMatchObject({
      'process.pid': 9, 'thread.name': 'main', 'loopscope.blocked.duration': 0.123456, 'loopscope.blocked.id': 7,
      'code.function.name': 'blockFor', 'code.file.path': '/srv/app.js', 'code.line.number': 14, 'code.column.number': 3,
      'code.stacktrace': '    at now (node:internal/perf/utils:1:1)\n    at blockFor (/srv/app.js:14:3)\n    at (anonymous) (/srv/app.js:20:1)',
    });
    expect(r.attributes['loopscope.blocked.stack_source']).toBeUndefined();
    const noStack = blockedRecord({ ...report, stack: [], stackError: 'rate-limited' }, hello, identity);
    expect(noStack.body).toBe('event loop blocked for 123.5 ms (no stack: rate-limited)');
    expect(noStack.attributes['code.stacktrace']).toBeUndefined();
    expect(noStack.attributes['loopscope.blocked.stack_error']).toBe('rate-limited');
    const interrupt = blockedRecord({ ...report, stackSource: 'interrupt', unsampled: 'the CPU sampler had not started yet' }, hello, identity);
    expect(interrupt.attributes).toMatchObject({ 'loopscope.blocked.stack_source': 'interrupt', 'loopscope.blocked.unsampled': 'the CPU sampler had not started yet' });
    expect(blockedRecord({ ...report, stackSource: 'samples' }, hello, identity).attributes['loopscope.blocked.stack_source']).toBe('samples');
  });
});
