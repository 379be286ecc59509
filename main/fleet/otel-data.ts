// loopscope's metrics in the OpenTelemetry SDK's data model, which its exporters take as they
// are (the OTLP exporters' export(), the Prometheus serializer): loopscope builds the data from
// its sessions at each collection instead of recording into SDK instruments, so the whole lag
// histogram goes out as it is held, and nothing runs per message. Also the resource: who sends.

import { hostname } from 'node:os';
import { basename, extname } from 'node:path';
import { ValueType, type Attributes as OtelAttributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { defaultResource, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Hello } from '../../probe/wire';
import { PROBE_VERSION } from '../../probe/constants';
import type { Buckets } from './buckets';
import type { MetricPoint, MetricValues } from './fleet-metrics';
import type { MetricSpec } from './metric-names';

export const SCOPE = { name: 'loopscope', version: PROBE_VERSION };

const valueTypeOf = (spec: MetricSpec): ValueType => (spec.unit === 'By' || spec.unit.startsWith('{') ? ValueType.INT : ValueType.DOUBLE);

function histogramOf(b: Buckets): { buckets: { boundaries: number[]; counts: number[] }; count: number; sum: number; min?: number; max?: number } {
  return { buckets: { boundaries: [...b.bounds], counts: [...b.counts] }, count: b.count, sum: b.sum, ...(b.count > 0 ? { min: b.min, max: b.max } : {}) };
}

/** One metric in the SDK's terms; `name` is the name to give it (the Prometheus side adds units). */
export function toMetricData(m: MetricValues, name: string, nowMs: number): MetricData {
  const descriptor = { name, description: m.spec.description, unit: m.spec.unit, valueType: valueTypeOf(m.spec) };
  const endTime = millisToHrTime(nowMs);
  const startTime = (p: MetricPoint): HrTime => millisToHrTime(p.startMs);
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  const attributes = (a: Readonly<Record<string, string | number>>): OtelAttributes => ({ ...a });
  switch (m.spec.kind) {
    case 'histogram':
      return {
        descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM,
        dataPoints: m.points.map((p) => ({ startTime: startTime(p), endTime, attributes: attributes(p.attributes), value: histogramOf(p.value as Buckets) })),
      };
    case 'gauge':
      return {
        descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE,
        dataPoints: m.points.map((p) => ({ startTime: endTime, endTime, attributes: attributes(p.attributes), value: p.value as number })),
      };
    case 'counter':
    case 'updowncounter':
      return {
        descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: m.spec.kind === 'counter',
        dataPoints: m.points.map((p) => ({ startTime: startTime(p), endTime, attributes: attributes(p.attributes), value: p.value as number })),
      };
  }
}

export function toResourceMetrics(resource: Resource, metrics: readonly MetricData[]): ResourceMetrics {
  return { resource, scopeMetrics: [{ scope: SCOPE, metrics: [...metrics] }] };
}

/** The script a process runs, without its folder and extension: `node /app/server.js` → server. */
function scriptName(hello: Hello): string {
  const script = hello.argv[1];
  return script ? basename(script, extname(script)) : basename(hello.argv[0] ?? 'node');
}

/**
 * Who sends: the SDK's defaults, then service.name (the script's name) and host.name, then
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, which win.
 */
export function fleetResource(hello: Hello): Resource {
  const ours = resourceFromAttributes({
    'service.name': scriptName(hello),
    'host.name': hostname(),
    'process.runtime.name': 'nodejs',
    'process.runtime.version': hello.nodeVersion.replace(/^v/, ''),
  });
  return defaultResource().merge(ours).merge(resourceFromAttributes(envDetector.detect().attributes ?? {}));
}
