// A minimal client for a Node inspector: its HTTP list of targets, and the Chrome DevTools
// Protocol over its websocket. loopscope only ever calls Runtime.evaluate: it never enables
// the debugger, so it can never pause the target.

import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { holdExit } from '../system/exit-holds';
import { noteOwnPort } from './own-ports';
import { hostForUrl } from './inspector-address';

export interface InspectorTarget {
  readonly id: string;
  readonly webSocketDebuggerUrl: string;
}

export class InspectorError extends Error {
  override readonly name = 'InspectorError';
}

/** GET /json/list. Rejects when nothing answers, or the answer is not an inspector's. */
export function listTargets(host: string, port: number, timeoutMs: number): Promise<InspectorTarget[]> {
  return new Promise((resolve, reject) => {
    // No keep-alive: a connection of ours left open would look like another client's.
    const req = get({ host, port, path: '/json/list', agent: false, timeout: timeoutMs, headers: { host: `${hostForUrl(host)}:${port}`, connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 1_000_000) req.destroy(new InspectorError('the answer is too large for an inspector'));
      });
      res.on('end', () => {
        try {
          resolve(parseTargetList(res.statusCode ?? 0, body));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('socket', (socket) => socket.once('connect', () => noteOwnPort(socket.localPort)));
    req.on('timeout', () => req.destroy(new InspectorError(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Checks the body of /json/list; pure. */
export function parseTargetList(status: number, body: string): InspectorTarget[] {
  if (status !== 200) throw new InspectorError(`not an inspector (HTTP ${status} for /json/list)`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new InspectorError('not an inspector (/json/list is not JSON)');
  }
  if (!Array.isArray(value)) throw new InspectorError('not an inspector (/json/list is not a list)');
  const targets: InspectorTarget[] = [];
  for (const item of value) {
    const o = item as Record<string, unknown> | null;
    if (o && typeof o['id'] === 'string' && typeof o['webSocketDebuggerUrl'] === 'string') {
      targets.push({ id: o['id'], webSocketDebuggerUrl: o['webSocketDebuggerUrl'] });
    }
  }
  if (targets.length === 0) throw new InspectorError('the inspector lists no target to connect to');
  return targets;
}

export interface EvaluateResult {
  /** The value, when the expression returned one by value. */
  readonly value: unknown;
  /** The exception's text, when the expression threw. */
  readonly exception: string | undefined;
}

/**
 * How long a close waits for the answers the target still owes (see CdpClient.close): longer
 * than any evaluation of ours takes in a target that is not stuck in native code.
 */
export const OWED_ANSWERS_WAIT_MS = 5000;

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class CdpClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests sent whose answer has not come, awaited or not (a call that timed out is still owed). */
  private readonly owed = new Set<number>();
  /** Set by close() while owed answers keep the connection up: ends it. */
  private endWhenSettled: (() => void) | undefined;
  private closeReason: string | undefined;
  private readonly closeListeners: ((reason: string) => void)[] = [];

  /** The local port of our connection: how the target's socket tables tell it from others'. */
  readonly localPort: number;

  private constructor(private readonly socket: WebSocket, localPort: number) {
    this.localPort = localPort;
    socket.on('message', (data) => this.onMessage(String(data)));
    socket.on('error', () => undefined); // 'close' follows and says what matters
    socket.on('close', () => {
      this.owed.clear();
      this.endWhenSettled?.();
      this.handleClose('the inspector closed the connection');
    });
  }

  static connect(url: string, timeoutMs: number): Promise<CdpClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false, followRedirects: false });
      let localPort = 0;
      socket.once('upgrade', (res) => {
        localPort = res.socket.localPort ?? 0;
        noteOwnPort(localPort);
      });
      socket.once('open', () => resolve(new CdpClient(socket, localPort)));
      socket.once('error', (err) => reject(new InspectorError(`cannot connect to the inspector: ${err.message}`)));
    });
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Called once when the connection ends (at once, if it already has). */
  onClose(listener: (reason: string) => void): void {
    if (this.closeReason !== undefined) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  call(method: string, params: object, timeoutMs: number): Promise<unknown> {
    if (this.closeReason !== undefined) return Promise.reject(new InspectorError(this.closeReason));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new InspectorError(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send(id, method, params);
    });
  }

  /**
   * Runs an expression in the target's main thread, with the console's command-line API
   * (which gives `require`, also in ESM programs), silently: an exception comes back to us
   * and goes nowhere in the target. With `returnsPromise`, the promise it returns is waited for
   * and its value returned. Only then: V8 12 (Node 22) waits for any other value through a
   * promise of its own that nothing holds, and a GC before the target's next microtask
   * checkpoint (an evaluation served inside a busy block) fails the call with "Promise was
   * collected".
   */
  async evaluate(expression: string, timeoutMs: number, returnsPromise = false): Promise<EvaluateResult> {
    const raw = (await this.call('Runtime.evaluate', { expression, includeCommandLineAPI: true, returnByValue: true, awaitPromise: returnsPromise, silent: true }, timeoutMs)) as {
      result?: { value?: unknown };
      exceptionDetails?: { text?: string; exception?: { description?: string } };
    };
    if (raw.exceptionDetails) {
      return { value: undefined, exception: raw.exceptionDetails.exception?.description ?? raw.exceptionDetails.text ?? 'an exception' };
    }
    return { value: raw.result?.value, exception: undefined };
  }

  /**
   * Closes the connection for its callers at once (what they await fails), and ends it once the
   * target owes it no answer, or closes it first, or after OWED_ANSWERS_WAIT_MS.
   *
   * Never before: Node's inspector (20.x, and others without nodejs/node#64209) kills the target
   * with a SIGSEGV when an answer is due on a connection whose client has gone. Its I/O thread
   * drops the socket at the end of the stream, then writes the answer through it. An evaluation
   * that closes the inspector sends no answer, and ends the connection itself.
   */
  close(): void {
    this.handleClose('closed by loopscope');
    if (this.endWhenSettled) return;
    if (this.owed.size === 0) {
      this.socket.terminate();
      return;
    }
    let ended!: () => void;
    // A finished command's exit waits for this (and would otherwise end the connection itself).
    holdExit(new Promise<void>((resolve) => (ended = resolve)));
    const timer = setTimeout(() => this.endWhenSettled?.(), OWED_ANSWERS_WAIT_MS);
    this.endWhenSettled = () => {
      clearTimeout(timer);
      this.socket.terminate();
      ended();
    };
  }

  /** Sends a last call, whose answer is not awaited, and closes (once it is answered: see close). */
  sendLastAndClose(method: string, params: object): void {
    if (this.closeReason !== undefined) return;
    this.send(this.nextId++, method, params);
    this.close();
  }

  private send(id: number, method: string, params: object): void {
    this.owed.add(id);
    this.socket.send(JSON.stringify({ id, method, params }));
  }

  private onMessage(text: string): void {
    let message: { id?: unknown; result?: unknown; error?: { message?: unknown } };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (typeof message.id !== 'number') return; // an event; we subscribe to none
    this.owed.delete(message.id);
    if (this.owed.size === 0) this.endWhenSettled?.();
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error) pending.reject(new InspectorError(`inspector error: ${String(message.error.message)}`));
    else pending.resolve(message.result ?? {});
  }

  private handleClose(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new InspectorError(reason));
    }
    this.pending.clear();
    for (const l of this.closeListeners.splice(0)) l(reason);
  }
}

/**
 * Runs this client once, in full (the HTTP list, the websocket handshake, one evaluate),
 * against a stand-in inspector in this process. Attach does this before it opens a target's
 * inspector, so that the first round trips while that one listens (to every local user) do
 * not wait for V8 to compile the client: about 12 ms of the window on an idle machine.
 */
export async function warmUp(): Promise<void> {
  const sockets = new WebSocketServer({ noServer: true });
  const server = createServer((_req, res) => {
    const { port } = server.address() as AddressInfo;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify([{ id: 'warm-up', webSocketDebuggerUrl: `ws://127.0.0.1:${port}/warm-up` }]));
  });
  server.on('upgrade', (req, socket, head) => sockets.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data) => {
      const { id } = JSON.parse(String(data)) as { id: number };
      ws.send(JSON.stringify({ id, result: { result: { value: id } } }));
    });
  }));
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const [target] = await listTargets('127.0.0.1', port, 1000);
    const client = await CdpClient.connect(target!.webSocketDebuggerUrl, 1000);
    await client.evaluate('0', 1000);
    client.close();
  } catch {
    // A machine where this cannot run is merely slower during the window.
  } finally {
    sockets.close();
    server.close();
  }
}

