// `loopscope run --otlp` against a receiver that decodes what arrives with the official OTLP
// protobuf definitions (the opentelemetry-proto files, as an OpenTelemetry npm package ships
// them), through protobufjs: names, units, attributes, the lag histogram, the blocked-loop
// log records; and the same over http/json.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from './helpers/probe-harness';
import { startCli, stopAll } from './helpers/fleet';
import { LAG_BOUNDS_S } from '../main/fleet/buckets';

const PROTOS = join(REPO, 'node_modules', '@opentelemetry', 'otlp-grpc-exporter-base', 'build', 'protos');

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

type AnyValue = { stringValue?: string; intValue?: number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };
type NumberPoint = { attributes?: KeyValue[]; asDouble?: number; asInt?: number; startTimeUnixNano: number; timeUnixNano: number };
type HistogramPoint = { attributes?: KeyValue[]; count: number; sum: number; bucketCounts: number[]; explicitBounds: number[]; startTimeUnixNano: number };
interface Metric {
  name: string;
  unit?: string;
  description?: string;
  gauge?: { dataPoints: NumberPoint[] };
  sum?: { dataPoints: NumberPoint[]; isMonotonic?: boolean; aggregationTemporality: string };
  histogram?: { dataPoints: HistogramPoint[]; aggregationTemporality: string };
}
interface MetricsRequest {
  resourceMetrics: { resource: { attributes: KeyValue[] }; scopeMetrics: { scope: { name: string }; metrics: Metric[] }[] }[];
}
interface LogRecord {
  timeUnixNano: number;
  severityNumber: string;
  severityText: string;
  body: AnyValue;
  attributes: KeyValue[];
}
interface LogsRequest {
  resourceLogs: { resource: { attributes: KeyValue[] }; scopeLogs: { scope: { name: string }; logRecords: LogRecord[] }[] }[];
}

const attr = (list: readonly KeyValue[] | undefined, key: string): string | number | boolean | undefined => {
  const v = list?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.doubleValue ?? v?.boolValue;
};

function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      // An empty Export*ServiceResponse: full success, in either encoding.
      const json = req.headers['content-type'] === 'application/json';
      res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received });
  }));
}

describe('loopscope run --otlp', () => {
  let root: protobuf.Root;
  let metricsType: protobuf.Type;
  let logsType: protobuf.Type;

  beforeAll(() => {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(PROTOS, target);
    root.loadSync(['opentelemetry/proto/collector/metrics/v1/metrics_service.proto', 'opentelemetry/proto/collector/logs/v1/logs_service.proto']);
    metricsType = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
    logsType = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
  });

  afterEach(stopAll);

  const decode = <T>(type: protobuf.Type, body: Buffer): T => type.toObject(type.decode(body), { longs: Number, enums: String, defaults: true }) as T;

  it('pushes the runtime metrics with the conventions\' names and units, and each blocked loop as a WARN log record with its stack', async () => {
    const receiver = await startReceiver();
    try {
      const started = Date.now();
      const run = startCli(['run', '--headless', '--otlp', receiver.url, '--', process.execPath, join(FIXTURES, 'blocker.js')], {
        BLOCK_MS: '120', PERIOD_MS: '300', COUNT: '6',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=loops',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme',
      });
      const { code } = await run.exit;
      expect(code, run.stderr()).toBe(0);
      const pid = Number(/probe connected: process (\d+)/.exec(run.stderr())?.[1]);
      expect(pid).toBeGreaterThan(0);

      const metricPosts = receiver.received.filter((r) => r.path === '/v1/metrics');
      const logPosts = receiver.received.filter((r) => r.path === '/v1/logs');
      expect(metricPosts.length, run.stderr()).toBeGreaterThanOrEqual(2);
      for (const post of [...metricPosts, ...logPosts]) {
        expect(post.headers['content-type']).toBe('application/x-protobuf');
        expect(post.headers['x-tenant']).toBe('acme');
      }

      // The last push was made after the program ended: every block is in it.
      const last = decode<MetricsRequest>(metricsType, metricPosts[metricPosts.length - 1]!.body);
      expect(last.resourceMetrics).toHaveLength(1);
      const { resource, scopeMetrics } = last.resourceMetrics[0]!;
      expect(attr(resource.attributes, 'service.name')).toBe('checkout');
      expect(attr(resource.attributes, 'host.name')).toBe(hostname());
      expect(attr(resource.attributes, 'deployment.environment.name')).toBe('test');
      expect(attr(resource.attributes, 'team')).toBe('loops');
      expect(attr(resource.attributes, 'telemetry.sdk.name')).toBe('opentelemetry');
      expect(scopeMetrics[0]!.scope.name).toBe('loopscope');
      const metrics = new Map(scopeMetrics[0]!.metrics.map((m) => [m.name, m]));
      const one = (name: string): Metric => {
        const m = metrics.get(name);
        if (!m) throw new Error(`no ${name} among ${[...metrics.keys()].join(', ')}`);
        return m;
      };

      for (const p of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) {
        const m = one(`nodejs.eventloop.delay.${p}`);
        expect(m.unit).toBe('s');
        expect(m.gauge!.dataPoints).toHaveLength(1);
        const point = m.gauge!.dataPoints[0]!;
        expect(attr(point.attributes, 'process.pid')).toBe(pid);
        expect(attr(point.attributes, 'thread.id')).toBe(0);
        expect(attr(point.attributes, 'thread.name')).toBe('main');
      }
      // Blocks of 120 ms in the last interval's samples: the maximum, in seconds.
      expect(one('nodejs.eventloop.delay.max').gauge!.dataPoints[0]!.asDouble).toBeGreaterThan(0.11);
      expect(one('nodejs.eventloop.delay.max').gauge!.dataPoints[0]!.asDouble).toBeLessThan(1);
      expect(one('nodejs.eventloop.utilization').unit).toBe('1');

      const loopTime = one('nodejs.eventloop.time');
      expect(loopTime.unit).toBe('s');
      expect(loopTime.sum!.isMonotonic).toBe(true);
      expect(loopTime.sum!.aggregationTemporality).toBe('AGGREGATION_TEMPORALITY_CUMULATIVE');
      const active = loopTime.sum!.dataPoints.find((d) => attr(d.attributes, 'nodejs.eventloop.state') === 'active')!;
      expect(active.asDouble).toBeGreaterThan(0.6); // six blocks of 120 ms
      expect(loopTime.sum!.dataPoints.map((d) => attr(d.attributes, 'nodejs.eventloop.state')).sort()).toEqual(['active', 'idle']);

      const gc = one('v8js.gc.duration');
      expect(gc.unit).toBe('s');
      expect(gc.histogram!.dataPoints.length).toBeGreaterThan(0);
      for (const d of gc.histogram!.dataPoints) expect(['minor', 'major', 'incremental', 'weakcb', 'unknown']).toContain(attr(d.attributes, 'v8js.gc.type'));

      expect(one('v8js.memory.heap.used').unit).toBe('By');
      expect(one('v8js.memory.heap.used').sum!.dataPoints[0]!.asInt).toBeGreaterThan(1e6);
      expect(one('process.memory.usage').sum!.dataPoints[0]!.asInt).toBeGreaterThan(1e7);
      const cpu = one('process.cpu.time');
      expect(cpu.sum!.dataPoints.map((d) => attr(d.attributes, 'cpu.mode')).sort()).toEqual(['system', 'user']);

      // The whole lag histogram, at its bounds; the blocks are in the buckets above 100 ms.
      const lag = one('loopscope.eventloop.delay').histogram!;
      expect(lag.aggregationTemporality).toBe('AGGREGATION_TEMPORALITY_CUMULATIVE');
      const h = lag.dataPoints[0]!;
      expect(h.explicitBounds).toEqual(LAG_BOUNDS_S);
      expect(h.bucketCounts).toHaveLength(LAG_BOUNDS_S.length + 1);
      expect(h.bucketCounts.reduce((a, b) => a + b, 0)).toBe(h.count);
      expect(h.count).toBeGreaterThan(50);
      const above100ms = h.bucketCounts.slice(LAG_BOUNDS_S.indexOf(0.1) + 1).reduce((a, b) => a + b, 0);
      expect(above100ms).toBeGreaterThanOrEqual(6);
      expect(h.startTimeUnixNano / 1e6).toBeGreaterThanOrEqual(started - 1000);

      expect(one('loopscope.eventloop.blocked').sum!.dataPoints[0]!.asInt).toBe(6);
      const blockedDurations = one('loopscope.eventloop.blocked.duration').histogram!.dataPoints[0]!;
      expect(blockedDurations.count).toBe(6);
      expect(blockedDurations.sum).toBeGreaterThan(0.7);
      const probeCpu = one('loopscope.probe.cpu.time');
      expect(probeCpu.sum!.dataPoints.map((d) => attr(d.attributes, 'loopscope.probe.thread')).sort()).toEqual(['main', 'worker']);

      // Each block, once, as a WARN log record with its duration, stack and code location.
      const records = logPosts.flatMap((p) => decode<LogsRequest>(logsType, p.body).resourceLogs)
        .flatMap((r) => {
          expect(attr(r.resource.attributes, 'service.name')).toBe('checkout');
          return r.scopeLogs.flatMap((s) => s.logRecords);
        });
      expect(records, run.stderr()).toHaveLength(6);
      for (const r of records) {
        expect(r.severityNumber).toBe('SEVERITY_NUMBER_WARN');
        expect(r.severityText).toBe('WARN');
        const said = /^event loop blocked for ([\d.]+) ms/.exec(r.body.stringValue ?? '');
        expect(said, r.body.stringValue).not.toBeNull();
        expect(attr(r.attributes, 'process.pid')).toBe(pid);
        expect(attr(r.attributes, 'thread.name')).toBe('main');
        // Less the probe's own pauses in it: on a loaded machine the CPU profiler's first start
        // may fall inside a block, and it is the probe's time, not the program's.
        expect(attr(r.attributes, 'loopscope.blocked.duration')).toBeGreaterThan(0.08);
        expect(Number(said![1])).toBeCloseTo(Number(attr(r.attributes, 'loopscope.blocked.duration')) * 1000, 0);
        expect(r.timeUnixNano / 1e6).toBeGreaterThan(started);
        expect(r.timeUnixNano / 1e6).toBeLessThan(Date.now());
        // Where its stack came from, as the JSON summary says.
        expect(['samples', 'interrupt', 'late-interrupt']).toContain(attr(r.attributes, 'loopscope.blocked.stack_source'));
      }
      // Where it blocked (on a loaded machine a stack may be taken late, and show what ran next).
      const named = records.filter((r) => attr(r.attributes, 'code.function.name') === 'blockFor');
      expect(named.length, JSON.stringify(records.map((r) => r.body))).toBeGreaterThan(0);
      for (const r of named) {
        expect(r.body.stringValue).toMatch(/ in blockFor \(.*blocker\.js:14(:\d+)?\)$/);
        expect(attr(r.attributes, 'code.file.path')).toBe(join(FIXTURES, 'blocker.js'));
        expect(attr(r.attributes, 'code.line.number')).toBe(14);
        // A stack from CPU samples starts with the V8 and Node code the block was in (here
        // performance.now's): blockFor is the first frame of the program's.
        const trace = String(attr(r.attributes, 'code.stacktrace')).split('\n');
        const at = trace.findIndex((line) => line.includes(FIXTURES));
        // A line from the samples has no column.
        expect(trace[at], trace.join('\n')).toMatch(/^ {4}at blockFor \(.*blocker\.js:14(:\d+)?\)$/);
        expect(trace.length).toBeGreaterThan(at + 1);
      }
      expect(new Set(records.map((r) => attr(r.attributes, 'loopscope.blocked.id'))).size).toBe(6);
    } finally {
      receiver.server.close();
    }
  });

  it('speaks http/json when OTEL_EXPORTER_OTLP_PROTOCOL says so, and refuses grpc in one line', async () => {
    const receiver = await startReceiver();
    try {
      const run = startCli(['run', '--headless', '--otlp', receiver.url, '--', process.execPath, join(FIXTURES, 'blocker.js')], {
        BLOCK_MS: '60', PERIOD_MS: '200', COUNT: '2', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      });
      expect((await run.exit).code, run.stderr()).toBe(0);
      const posts = receiver.received.filter((r) => r.path === '/v1/metrics');
      expect(posts.length).toBeGreaterThan(0);
      expect(posts[0]!.headers['content-type']).toBe('application/json');
      const body = JSON.parse(posts[0]!.body.toString()) as { resourceMetrics: { resource: { attributes: KeyValue[] }; scopeMetrics: { metrics: Metric[] }[] }[] };
      expect(attr(body.resourceMetrics[0]!.resource.attributes, 'service.name')).toBe('blocker');
      expect(body.resourceMetrics[0]!.scopeMetrics[0]!.metrics.map((m) => m.name)).toContain('nodejs.eventloop.delay.p99');
      const logs = receiver.received.filter((r) => r.path === '/v1/logs');
      expect(logs.length).toBeGreaterThan(0);
      expect(logs[0]!.headers['content-type']).toBe('application/json');
    } finally {
      receiver.server.close();
    }
    const refused = startCli(['run', '--otlp', 'http://127.0.0.1:1', '--', process.execPath, '-e', '0'], { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect((await refused.exit).code).toBe(2);
    expect(refused.stderr()).toMatch(/^loopscope run: OTEL_EXPORTER_OTLP_PROTOCOL=grpc: loopscope sends OTLP over HTTP/);
  });

  it('a receiver that refuses or never answers: the last push\'s failure is said, and loopscope exits without waiting out its retries', async () => {
    const program = [process.execPath, '-e', 'setTimeout(() => {}, 1000)'];
    const refused = startCli(['run', '--headless', '--otlp', 'http://127.0.0.1:1', '--', ...program]);
    expect((await refused.exit).code, refused.stderr()).toBe(0);
    expect(refused.stderr()).toMatch(/OTLP metrics export failed: connect ECONNREFUSED 127\.0\.0\.1:1 \(the last push, at exit: its metrics are lost\)/);
    expect(refused.stderr()).not.toMatch(/still running/);

    // Accepts and reads, never answers; a push every 200 ms, each retried for 10 s, so one is
    // still being retried when the program ends.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const run = startCli(['run', '--headless', '--otlp', url, '--', ...program], { OTEL_METRIC_EXPORT_INTERVAL: '200' });
      expect((await run.exit).code, run.stderr()).toBe(0);
      expect(run.stderr()).toMatch(/OTLP metrics export failed: Request timed out \(the last push, at exit: its metrics are lost\)/);
      expect(run.stderr()).toMatch(/gave up on an OTLP metrics push still being retried after 3 s at exit: not sent/);
      expect(run.stderr()).not.toMatch(/still running/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

afterAll(stopAll);
