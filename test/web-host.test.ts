// The web host over real HTTP and WebSocket: the token, Host and Origin checks, the static
// files with their CSP, the token-free empty favicon, and the API carried over the socket.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HostMessage, SessionUpdate, UiApi, UiEvent } from '../main/ui/ui-api';
import { startWebHost, type WebHost } from '../main/web-host/web-host';
import { fakeApi } from './helpers/fake-api';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `received` collects from the start: the host pushes the current state right after opening. */
function openSocket(url: string, origin: string | undefined, received: HostMessage[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.on('message', (d) => received.push(JSON.parse(String(d)) as HostMessage));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const fakeUpdate = { kind: 'session', reset: true, points: [], view: { id: 's1' } } as unknown as SessionUpdate;

describe('the web host', () => {
  let host: WebHost;
  let root: string;
  let origin: string;
  /** The `shown` of each subscription, in order. */
  const subscribed: (string | null | undefined)[] = [];
  const api: UiApi = fakeApi({
    listProcesses: async () => [{ pid: 7, command: ['node'], nodeVersion: 'v20', attachable: true, via: 'inspector', reason: null, cwd: null, startedAtMs: null }],
    attach: async () => 's1',
    launch: async () => 's2',
    launchDemo: async () => 's3',
    configure: async () => undefined,
    stop: async () => {
      throw new Error('no such session');
    },
    subscribe: (listener, shown) => {
      subscribed.push(shown);
      listener([fakeUpdate]);
      return () => undefined;
    },
  });


  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'loopscope-web-'));
    writeFileSync(join(root, 'index.html'), '<p>ui</p>');
    host = await startWebHost({ api, root });
    origin = `http://127.0.0.1:${host.port}`;
  });

  afterAll(async () => {
    await host.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the UI at its URL, on loopback, with a strict CSP', async () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[\w-]{20,}\/$/);
    const res = await get(host.port, `/${host.token}/`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('<p>ui</p>');
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    expect((await get(host.port, `/${host.token}/../../etc/passwd`)).status).toBe(404);
  });

  it('refuses requests without the token, or with a foreign Host or Origin', async () => {
    expect((await get(host.port, '/')).status).toBe(403);
    expect((await get(host.port, '/index.html')).status).toBe(403);
    expect((await get(host.port, `/${host.token.slice(1)}/`)).status).toBe(403);
    expect((await get(host.port, `/${host.token}/`, { host: `evil.example:${host.port}` })).status).toBe(403);
    expect((await get(host.port, `/${host.token}/`, { origin: 'http://evil.example' })).status).toBe(403);
  });

  it('answers the browser\'s /favicon.ico, asked for without the token, with an empty 204; still not to a foreign Host', async () => {
    const res = await get(host.port, '/favicon.ico');
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expect((await get(host.port, '/favicon.ico', { host: `evil.example:${host.port}` })).status).toBe(403);
    // Only that path: the rest still wants the token.
    expect((await get(host.port, '/favicon.ico/../index.html')).status).toBe(403);
  });

  it('refuses a WebSocket without the token, or with a foreign or missing Origin', async () => {
    const ws = `ws://127.0.0.1:${host.port}`;
    await expect(openSocket(`${ws}/nope/ws`, origin)).rejects.toThrow(/403/);
    await expect(openSocket(`${ws}/${host.token}/ws`, 'http://evil.example')).rejects.toThrow(/403/);
    await expect(openSocket(`${ws}/${host.token}/ws`, undefined)).rejects.toThrow(/403/);
  });

  it('carries calls, replies, errors and event batches over the WebSocket', async () => {
    const received: HostMessage[] = [];
    const ws = await openSocket(`ws://127.0.0.1:${host.port}/${host.token}/ws`, origin, received);
    const next = (n: number): Promise<HostMessage[]> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (received.length >= n) resolve(received.slice(0, n));
          else setTimeout(check, 10);
        };
        check();
      });
    ws.send(JSON.stringify({ id: 1, method: 'listProcesses', params: [] }));
    ws.send(JSON.stringify({ id: 2, method: 'stop', params: ['s9'] }));
    ws.send(JSON.stringify({ id: 3, method: 'attach', params: ['not a pid'] }));
    const messages = await next(4);
    expect(messages[0]).toEqual({ events: [fakeUpdate] as UiEvent[] });
    expect(messages).toContainEqual({ id: 1, result: [{ pid: 7, command: ['node'], nodeVersion: 'v20', attachable: true, via: 'inspector', reason: null, cwd: null, startedAtMs: null }] });
    expect(messages).toContainEqual({ id: 2, error: 'no such session' });
    expect(messages).toContainEqual({ id: 3, error: 'pid must be a positive integer' });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('{"id": 4, "method": "format the disk", "params": []}');
    expect(await closed).toBe(1008);
  });

  it('subscribes the page again with the session it says it shows, from a new snapshot; refuses what is not a session id', async () => {
    const received: HostMessage[] = [];
    const ws = await openSocket(`ws://127.0.0.1:${host.port}/${host.token}/ws`, origin, received);
    await expect.poll(() => received.length).toBe(1);
    // Before it says, every session in full (undefined); then what it shows.
    const from = subscribed.length;
    expect(subscribed[from - 1]).toBeUndefined();
    ws.send(JSON.stringify({ show: 's2' }));
    ws.send(JSON.stringify({ show: null }));
    await expect.poll(() => received.length).toBe(3);
    expect(subscribed.slice(from)).toEqual(['s2', null]);
    expect(received.every((m) => 'events' in m)).toBe(true);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ show: '../s1' }));
    expect(await closed).toBe(1008);
  });
});
