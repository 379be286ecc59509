// The exporters' settings, from the command line and the standard OpenTelemetry environment
// variables, checked before anything starts: a bad value is a one-line error naming it. Pure.
// The OTLP exporters read the rest of OTEL_EXPORTER_OTLP_* themselves (endpoints when no URL
// is given, headers, timeout, compression, certificates).

export class FleetConfigError extends Error {
  override readonly name = 'FleetConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface ListenAddress {
  /** '::' or '0.0.0.0' for every interface. */
  readonly host: string;
  readonly port: number;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpSignal {
  /** Where to send; undefined: the exporter takes OTEL_EXPORTER_OTLP_*_ENDPOINT, else localhost:4318. */
  readonly url: string | undefined;
  readonly protocol: OtlpProtocol;
}

export interface OtlpSettings {
  readonly metrics: OtlpSignal;
  readonly logs: OtlpSignal;
}

/** The spec's default for OTEL_METRIC_EXPORT_INTERVAL. */
export const DEFAULT_EXPORT_INTERVAL_MS = 60_000;
const MIN_EXPORT_INTERVAL_MS = 100;

/**
 * `--prometheus [host:]port`: a port alone is loopback's; `:port` is every interface (for a
 * container, where the scraper comes from outside); `host:port` or `[v6]:port` that address.
 */
export function listenAddress(text: string): ListenAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d+)$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new FleetConfigError(`--prometheus takes [host:]port, e.g. 9464 (this machine only), :9464 (every interface) or 10.0.0.5:9464; got "${text}"`);
  }
  const host = m[1] === undefined ? '127.0.0.1' : m[1] === '' ? '::' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

function protocolOf(env: Env, signal: 'METRICS' | 'LOGS'): OtlpProtocol {
  const name = env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] !== undefined ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = (env[name] ?? 'http/protobuf').trim();
  if (value === 'http/protobuf' || value === 'http/json') return value;
  if (value === 'grpc') throw new FleetConfigError(`${name}=grpc: loopscope sends OTLP over HTTP; set it to http/protobuf (the collector's port 4318) or http/json`);
  throw new FleetConfigError(`${name}="${value}" is not a protocol loopscope knows: use http/protobuf or http/json`);
}

/**
 * `--otlp <url>`: the base URL of an OTLP/HTTP receiver (as OTEL_EXPORTER_OTLP_ENDPOINT,
 * /v1/metrics and /v1/logs are appended); `--otlp env` leaves the endpoints to the variables.
 */
export function otlpSettings(value: string, env: Env): OtlpSettings {
  let base: string | undefined;
  if (value !== 'env') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new FleetConfigError(`--otlp takes the URL of an OTLP/HTTP receiver, e.g. http://localhost:4318, or "env" to take it from OTEL_EXPORTER_OTLP_ENDPOINT; got "${value}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FleetConfigError(`--otlp needs an http:// or https:// URL, got "${value}"`);
    base = url.href.endsWith('/') ? url.href : `${url.href}/`;
  }
  return {
    metrics: { url: base && `${base}v1/metrics`, protocol: protocolOf(env, 'METRICS') },
    logs: { url: base && `${base}v1/logs`, protocol: protocolOf(env, 'LOGS') },
  };
}

/** OTEL_METRIC_EXPORT_INTERVAL (ms): how often OTLP pushes, and the span the gauges cover. */
export function exportIntervalMs(env: Env): number {
  const text = env['OTEL_METRIC_EXPORT_INTERVAL'];
  if (text === undefined || text.trim() === '') return DEFAULT_EXPORT_INTERVAL_MS;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < MIN_EXPORT_INTERVAL_MS) throw new FleetConfigError(`OTEL_METRIC_EXPORT_INTERVAL="${text}": give milliseconds, at least ${MIN_EXPORT_INTERVAL_MS}`);
  return ms;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES, checked: the SDK's reader drops the whole list silently when one
 * entry is malformed.
 */
export function checkResourceAttributes(env: Env): void {
  const text = env['OTEL_RESOURCE_ATTRIBUTES'];
  if (text === undefined) return;
  for (const entry of text.split(',').filter((e) => e.trim() !== '')) {
    const parts = entry.split('=');
    let ok = parts.length === 2 && parts[0]!.trim() !== '';
    if (ok) {
      try {
        decodeURIComponent(parts[0]!);
        decodeURIComponent(parts[1]!);
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new FleetConfigError(`OTEL_RESOURCE_ATTRIBUTES: "${entry}" is not key=value (percent-encode any ',' or '=' in keys and values)`);
  }
}
