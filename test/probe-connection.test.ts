// Whoever takes a probe's connection may set up its listeners a few ticks after the hello
// (the UI backend does, after an await): nothing the probe sent meanwhile may be lost.

import { connect } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launch } from '../main/launch/launch';
import { probePath } from '../main/launch/probe-path';
import { startProbeServer, type ProbeConnection } from '../main/server/probe-server';
import { SessionFeed } from '../main/session/session-feed';
import { MessageType, PROTOCOL_VERSION, type ProbeMessage, type RawFrame } from '../probe/wire';

const FIXTURE = resolve(__dirname, 'fixtures/idle.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a connection and sends a hello header that claims 15 MB, then `bytes` of its body; resolves when the server closes it. */
function sendHugeHello(address: string, bytes: number): Promise<void> {
  const header = new Uint8Array(8);
  const v = new DataView(header.buffer);
  v.setUint32(0, 4 + 15_000_000, true);
  v.setUint8(4, PROTOCOL_VERSION);
  v.setUint8(5, MessageType.Hello);
  const socket = connect(address);
  socket.on('error', () => undefined);
  socket.resume(); // reads the refusal, and so sees the end
  socket.write(header);
  socket.write(new Uint8Array(bytes).fill(0x20));
  return new Promise((ok) => socket.once('close', () => ok()));
}

describe('the probe server before a hello', () => {
  it('refuses a connection that sends more than a hello needs', async () => {
    const server = await startProbeServer();
    const reasons: string[] = [];
    server.onRejected((r) => reasons.push(r));
    try {
      await sendHugeHello(server.address, 4 * 1024 * 1024);
      expect(reasons).toEqual(['more than 1114112 bytes before a hello']);
    } finally {
      await server.close();
    }
  });

  it('bounds what all connections waiting for their hello hold together', async () => {
    const server = await startProbeServer();
    const reasons: string[] = [];
    server.onRejected((r) => reasons.push(r));
    try {
      // 24 connections of 1 MiB each: each within its own limit, 24 MiB together.
      await Promise.all(Array.from({ length: 24 }, () => sendHugeHello(server.address, 1024 * 1024)));
      expect(reasons).toContain('more than 16777216 bytes wait for hellos on all connections');
      expect(reasons.filter((r) => r.startsWith('no hello')).length).toBeLessThan(24);
    } finally {
      await server.close();
    }
  });
});

describe('ProbeConnection', () => {
  it('holds what comes before anyone listens, and gives it, then the close, to the first listeners', async () => {
    const server = await startProbeServer();
    try {
      const connected = new Promise<ProbeConnection>((ok) => server.onConnection(ok));
      // 10 ms samples, and the target exits after 300 ms: all of it before anyone listens.
      const child = launch({
        command: process.execPath, args: [FIXTURE], probeFile: probePath(), socketPath: server.address, token: server.issueToken(),
        config: { mode: 'metrics', promises: false, intervalMs: 10, blockThresholdMs: 50 },
        stdio: 'ignore', env: { ...process.env, RUN_MS: '300' },
      });
      const exited = new Promise((ok) => child.once('exit', ok));
      const connection = await connected;
      await exited;
      await sleep(300); // its socket's end is in too
      const feed = new SessionFeed();
      const first: ProbeMessage[] = [];
      const firstRaw: RawFrame[] = [];
      const second: RawFrame[] = [];
      const events: string[] = [];
      connection.on('frame', (raw) => {
        firstRaw.push(raw);
        first.push(feed.push(raw));
      });
      connection.on('close', (error) => events.push(`close ${error ?? 'clean'} after ${first.length}`));
      connection.on('frame', (raw) => second.push(raw));
      expect(first).toEqual([]); // not delivered inside on(): the listeners added with it would miss it
      await sleep(50);

      // The first frames the probe sends after its hello: where its GC pauses come from, and the first sample's names.
      expect(['gcSource', 'dictionary']).toContain(first[0]?.type);
      const samples = first.flatMap((m) => (m.type === 'metrics' ? [m.sample] : []));
      // Every sample from the start: each interval follows the one before, without a gap.
      // (30 in 300 ms at 10 ms; a loaded machine gives the target less of its CPU.)
      expect(samples.length).toBeGreaterThan(5);
      expect(samples[0]!.timeUs).toBeLessThan(1_000_000);
      for (let i = 1; i < samples.length; i++) {
        expect(samples[i]!.timeUs - samples[i]!.intervalUs).toBeCloseTo(samples[i - 1]!.timeUs, -3);
      }
      expect(first.at(-1)?.type).toBe('goodbye');
      expect(second).toEqual(firstRaw);
      expect(events).toEqual([`close clean after ${first.length}`]);

      // A listener added later gets what comes later, and a close already delivered at once.
      connection.on('close', (error) => events.push(`late close ${error ?? 'clean'}`));
      expect(events.at(-1)).toBe('late close clean');
    } finally {
      await server.close();
    }
  });

  it('ends the connection, with the reason, when a listener throws on what was held', async () => {
    const server = await startProbeServer();
    try {
      const connected = new Promise<ProbeConnection>((ok) => server.onConnection(ok));
      const target = launch({
        command: process.execPath, args: [FIXTURE], probeFile: probePath(), socketPath: server.address, token: server.issueToken(),
        config: { mode: 'metrics', promises: false, intervalMs: 10, blockThresholdMs: 50 },
        stdio: 'ignore', env: { ...process.env, RUN_MS: '5000' },
      });
      const connection = await connected;
      await sleep(200);
      const closed = new Promise<string | undefined>((ok) => connection.on('close', ok));
      connection.on('frame', () => {
        throw new Error('boom');
      });
      expect(await closed).toBe('unexpected error: boom');
      target.kill();
    } finally {
      await server.close();
    }
  });
});
