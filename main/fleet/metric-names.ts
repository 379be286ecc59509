// Every metric loopscope exports, by its OpenTelemetry name: the semantic conventions for
// Node.js and V8 runtime metrics and for process metrics where they exist, loopscope's own
// under `loopscope.`. Prometheus gets these names translated (prometheus-names.ts).

export type MetricKind = 'gauge' | 'counter' | 'updowncounter' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  /** UCUM, as the conventions give it. */
  readonly unit: string;
  readonly kind: MetricKind;
  readonly description: string;
}

const spec = (name: string, unit: string, kind: MetricKind, description: string): MetricSpec => ({ name, unit, kind, description });

export const METRICS = {
  delayMin: spec('nodejs.eventloop.delay.min', 's', 'gauge', 'Event loop minimum delay, over the last export interval.'),
  delayMax: spec('nodejs.eventloop.delay.max', 's', 'gauge', 'Event loop maximum delay, over the last export interval.'),
  delayMean: spec('nodejs.eventloop.delay.mean', 's', 'gauge', 'Event loop mean delay, over the last export interval.'),
  delayStddev: spec('nodejs.eventloop.delay.stddev', 's', 'gauge', 'Event loop standard deviation delay, over the last export interval.'),
  delayP50: spec('nodejs.eventloop.delay.p50', 's', 'gauge', 'Event loop 50 percentile delay, over the last export interval.'),
  delayP90: spec('nodejs.eventloop.delay.p90', 's', 'gauge', 'Event loop 90 percentile delay, over the last export interval.'),
  delayP99: spec('nodejs.eventloop.delay.p99', 's', 'gauge', 'Event loop 99 percentile delay, over the last export interval.'),
  utilization: spec('nodejs.eventloop.utilization', '1', 'gauge', 'Event loop utilization, over the last export interval.'),
  loopTime: spec('nodejs.eventloop.time', 's', 'counter', 'Cumulative duration of time the event loop has been in each state.'),
  gcDuration: spec('v8js.gc.duration', 's', 'histogram', 'Garbage collection duration.'),
  gcUnrecorded: spec('loopscope.gc.unrecorded', '{pause}', 'counter', "GC pauses V8's trace has only the begin or the end of (its tracing was switching sessions), not in v8js.gc.duration."),
  heapUsed: spec('v8js.memory.heap.used', 'By', 'updowncounter', 'Heap memory size allocated, all spaces together.'),
  heapSize: spec('v8js.memory.heap.space.size', 'By', 'updowncounter', 'Heap memory size pre-allocated, all spaces together.'),
  cpuTime: spec('process.cpu.time', 's', 'counter', 'Total CPU seconds broken down by CPU mode, since the probe connected.'),
  memoryUsage: spec('process.memory.usage', 'By', 'updowncounter', 'The amount of physical memory in use (RSS).'),
  delay: spec('loopscope.eventloop.delay', 's', 'histogram', 'Event loop delay of every heartbeat, since the probe connected.'),
  blocked: spec('loopscope.eventloop.blocked', '{block}', 'counter', 'Times the event loop was blocked past the threshold.'),
  blockedDuration: spec('loopscope.eventloop.blocked.duration', 's', 'histogram', 'How long each ended block lasted.'),
  poolWait: spec('loopscope.threadpool.wait', 's', 'histogram', 'Thread pool requests, submission to callback (tasks and trace modes).'),
  poolSaturation: spec('loopscope.threadpool.saturation', '1', 'gauge', 'Thread pool requests in flight at most in the latest interval, per pool thread; above 1 they queue (tasks and trace modes).'),
  droppedFrames: spec('loopscope.probe.dropped_frames', '{frame}', 'counter', 'Frames the probe dropped because loopscope read too slowly, by type.'),
  probeCpuTime: spec('loopscope.probe.cpu.time', 's', 'counter', "The probe's own time in the target, by thread."),
} as const satisfies Readonly<Record<string, MetricSpec>>;
