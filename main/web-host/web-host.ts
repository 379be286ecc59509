// The web host: serves the UI to a browser on loopback, at http://127.0.0.1:<port>/<token>/,
// and carries the UI's API over one WebSocket (calls and replies, and pushed event batches).
// Every request and upgrade goes through the guard first (token, Host, Origin).

import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CallMessage, HostMessage, ShowMessage, UiApi, UiEvent } from '../ui/ui-api';
import { CallError, dispatchCall, isUiMethod, parseShown } from '../ui/ui-calls';
import { join } from 'node:path';
import { dataDir } from '../ui/app-paths';
import { checkRequest, FAVICON_PATH } from './request-guard';
import { serveStatic } from './static-files';
import { receiveUpload } from './upload';

export interface WebHost {
  /** The URL to open, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

export interface WebHostOptions {
  readonly api: UiApi;
  /** The built renderer's folder. */
  readonly root: string;
  /** 0 (the default) lets the system pick a free port. */
  readonly port?: number;
  /** Refused requests, for the log. */
  readonly onRefused?: (reason: string) => void;
  /** Where recordings sent from the browser are kept (default: the user's data folder). */
  readonly uploadDir?: string;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** A call, or what the window shows now; undefined for anything else. */
function parseMessage(data: string): CallMessage | ShowMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { id, method, params, show } = v as Record<string, unknown>;
  if (show !== undefined) {
    try {
      return { show: parseShown(show) };
    } catch (err) {
      if (err instanceof CallError) return undefined;
      throw err;
    }
  }
  if (typeof id !== 'number' || !isUiMethod(method) || !Array.isArray(params)) return undefined;
  return { id, method, params };
}

/** A browser further behind than this gets no more batches until it catches up. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

function serveSocket(ws: WebSocket, api: UiApi): void {
  const send = (m: HostMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  // Batches carry only what is new, so a skipped one cannot simply be dropped: a browser that
  // fell behind is resubscribed once it has caught up, which starts it again from a snapshot.
  let behind = false;
  // Every session in full until the page says what it shows.
  let shown: string | null | undefined;
  const onEvents = (events: readonly UiEvent[]): void => {
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      behind = true;
      return;
    }
    if (behind) {
      behind = false;
      resubscribe();
      return;
    }
    send({ events });
  };
  let unsubscribe = api.subscribe(onEvents);
  const resubscribe = (): void => {
    unsubscribe();
    unsubscribe = api.subscribe(onEvents, shown);
  };
  ws.on('close', () => unsubscribe());
  ws.on('message', (data) => {
    const call = parseMessage(String(data));
    if (!call) {
      ws.close(1008, 'not a call');
      return;
    }
    if ('show' in call) {
      shown = call.show;
      resubscribe();
      return;
    }
    Promise.resolve()
      .then(() => dispatchCall(api, call.method, call.params))
      .then(
        (result) => send({ id: call.id, result: result ?? null }),
        (err: unknown) => send({ id: call.id, error: err instanceof Error ? err.message : String(err) }),
      );
  });
}

export async function startWebHost(o: WebHostOptions): Promise<WebHost> {
  const token = randomBytes(24).toString('base64url');
  let port = 0;
  const refuse = (reason: string): void => o.onRefused?.(reason);
  const guard = (req: IncomingMessage) => checkRequest({ url: req.url ?? '/', host: header(req, 'host'), origin: header(req, 'origin') }, port, token);

  const server = createServer((req, res) => {
    const verdict = guard(req);
    if (!verdict.ok) {
      refuse(verdict.reason);
      res.writeHead(verdict.status, { 'content-type': 'text/plain' }).end('forbidden\n');
      return;
    }
    if (req.method === 'POST' && verdict.path === '/upload') {
      void receiveUpload(req, res, o.uploadDir ?? join(dataDir(), 'uploads'), (path) => o.api.openRecording(path));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    // The UI has no icon: an empty answer, not a 403 the browser logs at every open.
    if (verdict.path === FAVICON_PATH) {
      res.writeHead(204).end();
      return;
    }
    void serveStatic(o.root, verdict.path, header(req, 'host') ?? '', res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const verdict = guard(req);
    // A browser always sends Origin with a WebSocket; a missing one is not a browser page.
    if (!verdict.ok || verdict.path !== '/ws' || header(req, 'origin') === undefined) {
      refuse(verdict.ok ? 'WebSocket without Origin, or not at /ws' : verdict.reason);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, o.api));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/${token}/`,
    port,
    token,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
