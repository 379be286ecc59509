// The probe server: loopscope's end of the private channel. It accepts a probe only after
// the probe has shown a token that this server issued and not yet seen used.

import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync } from 'node:fs';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createPrivateDir, socketAddress, type PrivateDir } from './private-dir';
import { MAX_HELLO_BYTES, MessageType, PROTOCOL_VERSION, WireError, type Hello, type ProbeConfig, type RawFrame } from '../../probe/wire';
import { FrameReader } from '../../probe/wire-framing';
import { encodeConfigure, encodeDetach, encodeReject } from '../../probe/wire-json';
import { ProbeDecoder } from '../../probe/wire-decoder';

/** A probe has this long after connecting to say hello with a valid token. */
const HELLO_TIMEOUT_MS = 5000;
/**
 * What a connection may send before its hello is accepted: the hello itself (at most
 * MAX_HELLO_BYTES) and the first frames that come in the same chunks. Across all connections
 * still waiting for theirs, at most MAX_PENDING_BYTES: without it, thousands of connections
 * could each hold a frame's 16 MiB.
 */
const MAX_BEFORE_HELLO_BYTES = MAX_HELLO_BYTES + 64 * 1024;
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

export interface ProbeConnectionEvents {
  /**
   * Every frame after the hello, as it arrived (its framing checked; decoding it is the
   * session's: main/session/live-source.ts), with its arrival time. A listener that throws
   * ends the connection, with the reason.
   */
  frame(raw: RawFrame, receivedAtMs: number): void;
  /** The connection ended; `error` says why when it was not a clean goodbye. */
  close(error: string | undefined): void;
}

/** What may be held for a connection nobody listens to yet (see ProbeConnection.on). */
const MAX_HELD_BYTES = 32 * 1024 * 1024;

type Held = Parameters<ProbeConnectionEvents['frame']>;

export class ProbeConnection {
  private readonly listeners: { [K in keyof ProbeConnectionEvents]: ProbeConnectionEvents[K][] } = { frame: [], close: [] };
  private closedWith: { error: string | undefined } | undefined;
  /**
   * Messages that arrived before anyone listened. The hello and the frames after it often come
   * in one chunk, and whoever takes the connection may set up its listeners a few ticks later
   * (after an await): without this, those first frames (the dictionary, the first samples,
   * the events of the program's start) would be lost.
   */
  private held: Held[] | undefined = [];
  private heldBytes = 0;
  private releasing = false;
  private readonly taps = new Set<(raw: RawFrame) => void>();
  private probeEnded = false;

  constructor(readonly hello: Hello, private readonly socket: Socket) {
    socket.once('end', () => (this.probeEnded = true));
  }

  /** The probe's side closed the connection (not loopscope's, nor a broken socket's). */
  get endedByProbe(): boolean {
    return this.probeEnded;
  }

  /**
   * The first listener (of either event) gets what was held: delivered in order, with a close
   * that came meanwhile after it, once the current tick's synchronous code and microtasks have
   * run, so that every listener added along with the first one gets it too.
   */
  on<K extends keyof ProbeConnectionEvents>(event: K, listener: ProbeConnectionEvents[K]): void {
    (this.listeners[event] as ProbeConnectionEvents[K][]).push(listener);
    if (this.held) {
      if (!this.releasing) {
        this.releasing = true;
        setImmediate(() => this.release());
      }
      return;
    }
    if (event === 'close' && this.closedWith) (listener as ProbeConnectionEvents['close'])(this.closedWith.error);
  }

  /**
   * Sees every frame from now on as it arrives, held or not, without taking the held ones
   * from whoever listens with on(): for looking along (attach watches the samples' times).
   * Returns the function that stops it.
   */
  tap(listener: (raw: RawFrame) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  off<K extends keyof ProbeConnectionEvents>(event: K, listener: ProbeConnectionEvents[K]): void {
    const list = this.listeners[event] as ProbeConnectionEvents[K][];
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
  }

  /** @internal */
  emit<K extends keyof ProbeConnectionEvents>(event: K, ...args: Parameters<ProbeConnectionEvents[K]>): void {
    if (event === 'frame') for (const t of this.taps) t(args[0] as RawFrame);
    if (event === 'close') {
      if (this.closedWith) return;
      this.closedWith = { error: args[0] as string | undefined };
      if (this.held) return; // after the held messages
    } else if (this.held) {
      const held = args as Held;
      this.heldBytes += held[0].payload.byteLength;
      if (this.heldBytes <= MAX_HELD_BYTES) this.held.push(held);
      else if (!this.closedWith) {
        this.emit('close', 'loopscope took none of the probe\'s messages (32 MiB held): this is a bug in loopscope');
        this.socket.destroy();
      }
      return;
    }
    for (const l of this.listeners[event]) (l as (...a: unknown[]) => void)(...args);
  }

  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    try {
      for (const args of held) for (const l of this.listeners.frame) l(...args);
    } catch (err) {
      // As when a listener throws on a live frame (the socket's data handler): the connection ends.
      this.closedWith ??= { error: closeReason(err) };
      this.socket.destroy();
    }
    if (this.closedWith) for (const l of this.listeners.close) l(this.closedWith.error);
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  configure(config: Partial<ProbeConfig>): void {
    if (!this.socket.destroyed) this.socket.write(encodeConfigure(config));
  }

  /** Asks the probe to turn itself off; resolves once it has closed (or after a timeout). */
  detach(timeoutMs = 2000): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.socket.write(encodeDetach());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, timeoutMs);
      this.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Says whether a probe that showed a session token may join the session: undefined when it
 * may, else why not (e.g. it is not a process the session started).
 */
export type HelloCheck = (hello: Hello) => string | undefined;

/**
 * Loops connected with one session token at once, at most: its processes could otherwise open
 * connections until loopscope runs out of memory. A recording holds as many (MAX_LOOPS).
 */
export const MAX_SESSION_LOOPS = 1024;

export interface ProbeServer {
  readonly address: string;
  /** A fresh one-time token for one probe. */
  issueToken(): string;
  /**
   * A token for every loop of a session (worker threads, child processes): it may be shown
   * any number of times, by probes that `check` admits, until revoked; by `maxLoops` connected
   * at once at most (MAX_SESSION_LOOPS).
   */
  issueSessionToken(check: HelloCheck, maxLoops?: number): { readonly token: string; revoke(): void };
  onConnection(listener: (connection: ProbeConnection) => void): void;
  /** Connections refused (bad token, bad frames), with the reason, for diagnostics. */
  onRejected(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

/** Why a connection ends when reading its frames threw. */
function closeReason(err: unknown): string {
  return err instanceof WireError ? `bad data from the probe: ${err.message}` : `unexpected error: ${(err as Error).message}`;
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startProbeServer(options: { dir?: PrivateDir } = {}): Promise<ProbeServer> {
  const dir = options.dir ?? createPrivateDir();
  const ownsDir = options.dir === undefined;
  const address = socketAddress(dir, 'probe');
  const tokens = new Set<string>();
  const sessionTokens = new Map<string, { readonly check: HelloCheck; readonly maxLoops: number; open: number }>();
  const connectionListeners: ((c: ProbeConnection) => void)[] = [];
  const rejectListeners: ((reason: string) => void)[] = [];
  const sockets = new Set<Socket>();
  /** Bytes buffered by the connections that have not said hello yet, in all. */
  let pendingBytes = 0;

  /**
   * Whether the hello's token admits it (a one-time token is used up), and if not why; a session
   * token's admission is released when its connection closes.
   */
  const admit = (hello: Hello): { readonly refusal: string } | { readonly release: () => void } => {
    for (const t of tokens) {
      if (tokensEqual(t, hello.token)) {
        tokens.delete(t);
        return { release: () => undefined };
      }
    }
    for (const [t, session] of sessionTokens) {
      if (!tokensEqual(t, hello.token)) continue;
      if (session.open >= session.maxLoops) return { refusal: `the session has ${session.open} loops connected, the most it takes` };
      const refusal = session.check(hello);
      if (refusal !== undefined) return { refusal };
      session.open++;
      return { release: () => session.open-- };
    }
    return { refusal: 'unknown or already used token' };
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const reader = new FrameReader();
    let connection: ProbeConnection | undefined;
    let counted = 0;
    let release = (): void => undefined;
    const helloTimer = setTimeout(() => refuse('no hello within 5 s'), HELLO_TIMEOUT_MS);
    /** Keeps this connection's share of pendingBytes up to date until its hello is accepted. */
    const count = (bytes: number): void => {
      pendingBytes += bytes - counted;
      counted = bytes;
    };

    function refuse(reason: string): void {
      clearTimeout(helloTimer);
      count(0);
      for (const l of rejectListeners) l(reason);
      if (!socket.destroyed) socket.end(encodeReject({ reason }));
      setTimeout(() => socket.destroy(), 100).unref();
    }

    socket.on('data', (chunk: Buffer) => {
      if (socket.destroyed || socket.writableEnded) return;
      try {
        for (const raw of reader.push(chunk)) {
          if (!connection) {
            if (raw.type !== MessageType.Hello) return refuse('the first message must be a hello');
            const message = new ProbeDecoder().decode(raw);
            if (message.type !== 'hello') return refuse('the first message must be a hello');
            if (message.hello.protocol !== PROTOCOL_VERSION) {
              return refuse(`protocol ${message.hello.protocol} is not supported (this loopscope speaks ${PROTOCOL_VERSION})`);
            }
            const admitted = admit(message.hello);
            if ('refusal' in admitted) return refuse(admitted.refusal);
            release = admitted.release;
            clearTimeout(helloTimer);
            count(0);
            connection = new ProbeConnection(message.hello, socket);
            for (const l of connectionListeners) l(connection);
            continue;
          }
          connection.emit('frame', raw, Date.now());
        }
        if (!connection) {
          count(reader.pendingBytes);
          if (reader.pendingBytes > MAX_BEFORE_HELLO_BYTES) return refuse(`more than ${MAX_BEFORE_HELLO_BYTES} bytes before a hello`);
          if (pendingBytes > MAX_PENDING_BYTES) return refuse(`more than ${MAX_PENDING_BYTES} bytes wait for hellos on all connections`);
        }
      } catch (err) {
        if (connection) {
          connection.emit('close', closeReason(err));
          socket.destroy();
        } else refuse(err instanceof WireError ? err.message : `unexpected error: ${(err as Error).message}`);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(helloTimer);
      count(0);
      sockets.delete(socket);
      release();
      release = () => undefined;
      connection?.emit('close', undefined);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (process.platform !== 'win32') chmodSync(address, 0o600);

  return {
    address,
    issueToken() {
      const token = randomBytes(24).toString('base64url');
      tokens.add(token);
      return token;
    },
    issueSessionToken(check, maxLoops = MAX_SESSION_LOOPS) {
      const token = randomBytes(24).toString('base64url');
      sessionTokens.set(token, { check, maxLoops, open: 0 });
      return { token, revoke: () => sessionTokens.delete(token) };
    },
    onConnection: (l) => connectionListeners.push(l),
    onRejected: (l) => rejectListeners.push(l),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          if (ownsDir) dir.remove();
          resolve();
        });
      }),
  };
}
