// Exports a set of loops to the engines a fleet already runs: a Prometheus /metrics endpoint,
// OTLP metrics pushed every interval, blocked loops as OTLP log records, and a recording
// switch on the endpoint's port. All of it runs in loopscope's process; the probe is unchanged.

import { diag, DiagLogLevel } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ExportResultCode, setGlobalErrorHandler, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { blockedRecord } from './blocked-log';
import type { ListenAddress, OtlpSettings, OtlpSignal } from './fleet-config';
import { collectMetrics, type LoopReading, type MetricValues } from './fleet-metrics';
import { LoopCounters } from './loop-counters';
import type { FleetLoop, LoopSet } from './loop-set';
import { startMetricsEndpoint, type MetricsEndpoint } from './metrics-endpoint';
import { fleetResource, SCOPE, toMetricData, toResourceMetrics } from './otel-data';
import { withUnitSuffix } from './prometheus-names';
import { RecordingRotation } from './recording-rotation';

export interface FleetOptions {
  readonly prometheus?: ListenAddress;
  readonly otlp?: OtlpSettings;
  /** How often OTLP pushes, and the span of samples the gauges describe. */
  readonly intervalMs: number;
  /** Recording on demand, into a directory kept under a size cap. */
  readonly recording?: { readonly dir: string; readonly capBytes: number };
  /** One line per notable event (listening, export failing and recovering, recordings). */
  readonly log: (line: string) => void;
}

/** Longest the last push and the log flush may hold up loopscope's exit. */
const SHUTDOWN_MS = 3000;
/**
 * The last push's own deadline, inside SHUTDOWN_MS: past it the exporter stops retrying and
 * answers with its failure, which can then be said, instead of being cut off unheard.
 */
const LAST_PUSH_MS = 2500;
/** OpenTelemetry's own warnings: the same one at most this often. */
const DIAG_REPEAT_MS = 60_000;

interface Watched {
  readonly reading: LoopReading;
  readonly unsubscribe: () => void;
}

export class FleetExporter {
  private readonly watched = new Map<FleetLoop, Watched>();
  private resource: Resource | undefined;
  private endpoint: MetricsEndpoint | undefined;
  private metricsExporter: PushMetricExporter | undefined;
  private pushTimer: NodeJS.Timeout | undefined;
  private pushFailing: string | undefined;
  private logs: LoggerProvider | undefined;
  readonly recording: RecordingRotation | undefined;
  private readonly serializer = new PrometheusSerializer();
  private readonly unsubscribe: (() => void)[] = [];

  private constructor(loops: LoopSet, private readonly options: FleetOptions) {
    this.recording = options.recording && new RecordingRotation(options.recording.dir, options.recording.capBytes, loops, options.log);
    this.unsubscribe.push(loops.onAdded((loop) => this.watch(loop)), loops.onRemoved((loop) => this.unwatch(loop)));
  }

  /** Starts the exporters; rejects with a FleetConfigError when the port cannot be had. */
  static async start(loops: LoopSet, options: FleetOptions): Promise<FleetExporter> {
    forwardDiagnostics(options.log);
    const exporter = new FleetExporter(loops, options);
    try {
      if (options.prometheus) {
        exporter.endpoint = await startMetricsEndpoint(options.prometheus, {
          metrics: () => exporter.prometheusText(),
          ...(exporter.recording ? { recording: exporter.recording } : {}),
        });
        options.log(`Prometheus metrics at ${exporter.endpoint.url}/metrics${exporter.recording ? `; recording switch: POST ${exporter.endpoint.url}/recording/start, /recording/stop (this machine only)` : ''}`);
      }
      if (options.otlp) {
        const { metrics } = options.otlp;
        exporter.metricsExporter = metricExporter(metrics);
        exporter.pushTimer = setInterval(() => void exporter.push(), options.intervalMs);
        exporter.pushTimer.unref();
        options.log(`OTLP ${metrics.protocol} to ${metrics.url ?? 'the OTEL_EXPORTER_OTLP_* endpoints'} every ${options.intervalMs / 1000} s`);
      }
    } catch (err) {
      await exporter.shutdown();
      throw err;
    }
    return exporter;
  }

  /** Prometheus' text format, names with units (OpenTelemetry's translation). */
  prometheusText(): string {
    const data = this.collect((m) => withUnitSuffix(m.spec));
    return data ? this.serializer.serialize(data) : '# no loop connected yet\n';
  }

  /** One OTLP push now; failures are logged when they begin and when they end. */
  async push(): Promise<void> {
    if (this.metricsExporter) await this.pushWith(this.metricsExporter, false);
  }

  /**
   * Last push, logs flushed, port closed, recording ended; bounded in time. Resolves to what did
   * not end in time (and is said): its sockets and retry timers may still hold the process.
   */
  async shutdown(): Promise<readonly string[]> {
    clearInterval(this.pushTimer);
    for (const u of this.unsubscribe) u();
    for (const w of this.watched.values()) w.unsubscribe();
    const late: string[] = [];
    const bounded = (what: string, p: Promise<unknown>): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const timeUp = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          late.push(what);
          resolve();
        }, SHUTDOWN_MS);
      });
      return Promise.race([p.catch(() => undefined).then(() => clearTimeout(timer)), timeUp]);
    };
    await Promise.all([
      bounded('the last OTLP metrics push', this.lastPush()),
      bounded('an OTLP metrics push still being retried', this.metricsExporter?.shutdown() ?? Promise.resolve()),
      bounded('the OTLP log records of blocked loops', this.logs?.shutdown() ?? Promise.resolve()),
      this.endpoint?.close(),
      this.recording?.close(),
    ]);
    if (late.length > 0) this.options.log(`gave up on ${late.join(' and ')} after ${SHUTDOWN_MS / 1000} s at exit: not sent`);
    return late;
  }

  /** The last push goes out with a deadline of its own, so that its outcome is known by exit. */
  private async lastPush(): Promise<void> {
    const settings = this.options.otlp?.metrics;
    if (!settings) return;
    const last = metricExporter(settings, LAST_PUSH_MS);
    await this.pushWith(last, true);
    await last.shutdown();
  }

  private async pushWith(exporter: PushMetricExporter, atExit: boolean): Promise<void> {
    const data = this.collect((m) => m.spec.name);
    if (!data) return;
    const result = await new Promise<ExportResult>((resolve) => exporter.export(data, resolve));
    if (result.code === ExportResultCode.SUCCESS) {
      if (this.pushFailing !== undefined) this.options.log('OTLP metrics export works again');
      this.pushFailing = undefined;
      return;
    }
    const reason = result.error?.message ?? 'unknown error';
    if (atExit) this.options.log(`OTLP metrics export failed: ${reason} (the last push, at exit: its metrics are lost)`);
    else if (this.pushFailing !== reason) this.options.log(`OTLP metrics export failed: ${reason} (retrying every ${this.options.intervalMs / 1000} s)`);
    this.pushFailing = reason;
  }

  private collect(nameOf: (m: MetricValues) => string): ResourceMetrics | undefined {
    if (!this.resource) return undefined;
    const now = Date.now();
    const metrics = collectMetrics([...this.watched.values()].map((w) => w.reading), this.options.intervalMs);
    return toResourceMetrics(this.resource, metrics.map((m) => toMetricData(m, nameOf(m), now)));
  }

  private watch(loop: FleetLoop): void {
    const hello = loop.source.connection.hello;
    if (!this.resource) {
      this.resource = fleetResource(hello);
      this.logs = this.startLogs(this.resource);
    }
    // The same loop again (its probe was attached anew) replaces the one that ended: two with
    // the same attributes would be one series twice.
    for (const other of this.watched.keys()) {
      if (other.identity.pid === loop.identity.pid && other.identity.threadId === loop.identity.threadId) this.watched.delete(other);
    }
    const counters = new LoopCounters();
    const logger = this.logs?.getLogger(SCOPE.name, SCOPE.version);
    const unsubscribe = loop.source.onFrame((_raw, _at, message) => {
      const ended = counters.apply(message);
      if (!ended || !logger) return;
      const record = blockedRecord(ended, hello, loop.identity);
      logger.emit({
        eventName: record.eventName, timestamp: record.timestampMs, severityNumber: SeverityNumber.WARN, severityText: 'WARN',
        body: record.body, attributes: { ...record.attributes },
      });
    });
    this.watched.set(loop, { reading: { identity: loop.identity, data: loop.source, counters, startMs: loop.source.connectedAtMs }, unsubscribe });
  }

  /** A loop that ended is exported for one more interval, so that its last values are pushed. */
  private unwatch(loop: FleetLoop): void {
    const w = this.watched.get(loop);
    if (!w) return;
    w.unsubscribe();
    setTimeout(() => {
      if (this.watched.get(loop) === w) this.watched.delete(loop);
    }, this.options.intervalMs).unref();
  }

  private startLogs(resource: Resource): LoggerProvider | undefined {
    const logs = this.options.otlp?.logs;
    if (!logs) return undefined;
    const config = logs.url ? { url: logs.url } : {};
    const exporter = logs.protocol === 'http/json' ? new JsonLogExporter(config) : new ProtoLogExporter(config);
    return new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter })] });
  }
}

/** A metrics exporter for the settings' protocol; `timeoutMillis` bounds a push and its retries. */
function metricExporter(settings: OtlpSignal, timeoutMillis?: number): PushMetricExporter {
  const config = { ...(settings.url ? { url: settings.url } : {}), ...(timeoutMillis === undefined ? {} : { timeoutMillis }) };
  return settings.protocol === 'http/json' ? new JsonMetricExporter(config) : new ProtoMetricExporter(config);
}

let diagnosticsForwarded = false;

/**
 * OpenTelemetry's warnings and errors (a log export that failed comes through its global error
 * handler), as loopscope's log lines, each at most once a minute.
 */
function forwardDiagnostics(log: (line: string) => void): void {
  if (diagnosticsForwarded) return;
  diagnosticsForwarded = true;
  const lastSaid = new Map<string, number>();
  const say = (message: string, ...args: unknown[]): void => {
    const line = [message, ...args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)))].join(' ');
    const now = Date.now();
    if ((lastSaid.get(line) ?? -Infinity) > now - DIAG_REPEAT_MS) return;
    if (lastSaid.size > 100) lastSaid.clear();
    lastSaid.set(line, now);
    log(`opentelemetry: ${line}`);
  };
  const quiet = (): void => undefined;
  diag.setLogger({ error: say, warn: say, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
  setGlobalErrorHandler((err) => say(err instanceof Error ? err.message : String(err)));
}
