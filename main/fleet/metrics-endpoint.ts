// The exporter's port: GET /metrics for Prometheus, and the recording switch (POST
// /recording/start, /recording/stop, GET /recording), which only this machine may use.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FleetConfigError, type ListenAddress } from './fleet-config';

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface RecordingSwitch {
  /** `error`: why it could not start. */
  start(): Promise<{ readonly error?: string }>;
  stop(): Promise<unknown>;
  readonly status: unknown;
}

export interface EndpointHandlers {
  metrics(): string;
  readonly recording?: RecordingSwitch;
}

export interface MetricsEndpoint {
  /** http://host:port, as bound. */
  readonly url: string;
  close(): Promise<void>;
}

const isLoopback = (address: string | undefined): boolean =>
  address !== undefined && (/^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address));

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown): void => send(res, status, 'application/json', JSON.stringify(value) + '\n');

/**
 * The recording switch is for this machine's operators: a connection from elsewhere is
 * refused, and so is any request a browser sends (it carries an Origin), so that no web page
 * open on this machine can start a recording.
 */
async function recordingRequest(req: IncomingMessage, res: ServerResponse, path: string, recording: RecordingSwitch): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress) || req.headers.origin !== undefined) {
    return sendJson(res, 403, { error: 'the recording switch only answers requests from this machine, not from browsers' });
  }
  if (path === '/recording' && req.method === 'GET') return sendJson(res, 200, recording.status);
  if (req.method !== 'POST') return sendJson(res, 405, { error: `use POST ${path}` });
  if (path === '/recording/start') {
    const status = await recording.start();
    return sendJson(res, status.error === undefined ? 200 : 500, status);
  }
  if (path === '/recording/stop') return sendJson(res, 200, await recording.stop());
  return sendJson(res, 404, { error: 'POST /recording/start or /recording/stop, GET /recording' });
}

export function startMetricsEndpoint(address: ListenAddress, handlers: EndpointHandlers): Promise<MetricsEndpoint> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const answer = async (): Promise<void> => {
      if (path === '/metrics') {
        if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'use GET /metrics\n');
        return send(res, 200, PROMETHEUS_CONTENT_TYPE, handlers.metrics());
      }
      if (handlers.recording && path.startsWith('/recording')) return recordingRequest(req, res, path, handlers.recording);
      send(res, 404, 'text/plain', `loopscope serves GET /metrics${handlers.recording ? ', and POST /recording/start, /recording/stop from this machine' : ''}\n`);
    };
    answer().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : err.message;
      reject(new FleetConfigError(`--prometheus: cannot listen on ${address.host}:${address.port}: ${why}`));
    });
    server.listen(address.port, address.host, () => {
      const bound = server.address() as AddressInfo;
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve({
        url: `http://${host}:${bound.port}`,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
